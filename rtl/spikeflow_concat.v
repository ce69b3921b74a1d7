// A channel concatenation: N AXI-Streams on the same grid joined position by position into one, input 0's channels
// first (in the low bits). An output item is formed when every input holds one; all inputs advance together, into
// an output register (so no ready/valid path runs through the join).
`resetall
`timescale 1ns / 1ps
`default_nettype none

module spikeflow_concat #(
    parameter N = 2,             // inputs
    parameter TOTAL_WIDTH = 16   // the sum of the inputs' widths: input i at s_axis_tdata[OFFSET_i +: WIDTH_i]
) (
    input  wire                   clk,
    input  wire                   rst,
    input  wire [TOTAL_WIDTH-1:0] s_axis_tdata,  // the inputs' items side by side, input 0 in the low bits
    input  wire [N-1:0]           s_axis_tvalid,
    output wire [N-1:0]           s_axis_tready,
    output reg  [TOTAL_WIDTH-1:0] m_axis_tdata,
    output reg                    m_axis_tvalid,
    input  wire                   m_axis_tready
);

initial begin
    if (N < 1 || TOTAL_WIDTH < 1) $error("spikeflow_concat: N and TOTAL_WIDTH must be >= 1");
end

wire joined = (&s_axis_tvalid) && (!m_axis_tvalid || m_axis_tready);
assign s_axis_tready = {N{joined}};

always @(posedge clk) begin
    if (joined) m_axis_tdata <= s_axis_tdata;
end

always @(posedge clk) begin
    if (rst) begin
        m_axis_tvalid <= 1'b0;
    end else begin
        if (m_axis_tready) m_axis_tvalid <= 1'b0;
        if (joined) m_axis_tvalid <= 1'b1;
    end
end

endmodule

`resetall
