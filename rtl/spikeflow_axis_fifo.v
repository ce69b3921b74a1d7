// AXI-Stream FIFO between layers: power-of-two depth, registered full/empty, distributed-RAM storage.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module spikeflow_axis_fifo #(
    parameter DATA_WIDTH = 8, // tdata width in bits
    parameter DEPTH = 16      // number of entries, a power of two >= 2
) (
    input  wire                  clk,
    input  wire                  rst,
    input  wire [DATA_WIDTH-1:0] s_axis_tdata,
    input  wire                  s_axis_tvalid,
    output wire                  s_axis_tready,
    output wire [DATA_WIDTH-1:0] m_axis_tdata,
    output wire                  m_axis_tvalid,
    input  wire                  m_axis_tready
);

localparam AW = DEPTH > 1 ? $clog2(DEPTH) : 1;

initial begin
    if (DATA_WIDTH < 1) $error("spikeflow_axis_fifo: DATA_WIDTH must be >= 1");
    if (DEPTH < 2 || (1 << AW) != DEPTH) $error("spikeflow_axis_fifo: DEPTH must be a power of two >= 2");
end

reg [DATA_WIDTH-1:0] mem [0:DEPTH-1];
reg [AW:0] wr_ptr;
reg [AW:0] rd_ptr;

wire full  = (wr_ptr[AW] != rd_ptr[AW]) && (wr_ptr[AW-1:0] == rd_ptr[AW-1:0]);
wire empty = wr_ptr == rd_ptr;

assign s_axis_tready = !full;
assign m_axis_tvalid = !empty;
assign m_axis_tdata  = mem[rd_ptr[AW-1:0]];

always @(posedge clk) begin
    if (s_axis_tvalid && !full) begin
        mem[wr_ptr[AW-1:0]] <= s_axis_tdata;
    end
end

always @(posedge clk) begin
    if (rst) begin
        wr_ptr <= 0;
        rd_ptr <= 0;
    end else begin
        if (s_axis_tvalid && !full) wr_ptr <= wr_ptr + 1'b1;
        if (m_axis_tready && !empty) rd_ptr <= rd_ptr + 1'b1;
    end
end

endmodule

`resetall
