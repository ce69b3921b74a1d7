// AXI-Stream skid buffer: a register slice whose s_axis_tready is a flip-flop, so no ready path crosses it.
// Two entries (the output register and the skid register); full throughput when the output is always ready.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module spikeflow_axis_skid #(
    parameter DATA_WIDTH = 8  // tdata width in bits
) (
    input  wire                  clk,
    input  wire                  rst,
    input  wire [DATA_WIDTH-1:0] s_axis_tdata,
    input  wire                  s_axis_tvalid,
    output wire                  s_axis_tready,
    output reg  [DATA_WIDTH-1:0] m_axis_tdata,
    output reg                   m_axis_tvalid,
    input  wire                  m_axis_tready
);

initial begin
    if (DATA_WIDTH < 1) $error("spikeflow_axis_skid: DATA_WIDTH must be >= 1");
end

reg [DATA_WIDTH-1:0] skid_data;
reg                  skid_valid;  // the skid register holds a beat; s_axis_tready is its inverse

wire out_free = !m_axis_tvalid || m_axis_tready;
wire in_fire = s_axis_tvalid && !skid_valid;

assign s_axis_tready = !skid_valid;

always @(posedge clk) begin
    if (out_free) m_axis_tdata <= skid_valid ? skid_data : s_axis_tdata;
    if (in_fire && !out_free) skid_data <= s_axis_tdata;
end

always @(posedge clk) begin
    if (rst) begin
        m_axis_tvalid <= 1'b0;
        skid_valid <= 1'b0;
    end else if (out_free) begin
        m_axis_tvalid <= skid_valid || s_axis_tvalid;
        skid_valid <= 1'b0;
    end else if (in_fire) begin
        skid_valid <= 1'b1;
    end
end

endmodule

`resetall
