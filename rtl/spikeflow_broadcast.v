// A fork: one AXI-Stream read by N consumers (a tensor that feeds several layers). Every consumer sees every item;
// the input advances once all of them have taken the current one. Per consumer a flag remembers that it took the
// item already, so a consumer that is ready never waits for a slow one beyond the current item (the branches'
// FIFOs absorb the skew between them).
`resetall
`timescale 1ns / 1ps
`default_nettype none

module spikeflow_broadcast #(
    parameter WIDTH = 8,  // bits per item
    parameter N = 2       // consumers
) (
    input  wire               clk,
    input  wire               rst,
    input  wire [WIDTH-1:0]   s_axis_tdata,
    input  wire               s_axis_tvalid,
    output wire               s_axis_tready,
    output wire [N*WIDTH-1:0] m_axis_tdata,   // consumer i at [i*WIDTH +: WIDTH]
    output wire [N-1:0]       m_axis_tvalid,
    input  wire [N-1:0]       m_axis_tready
);

initial begin
    if (WIDTH < 1 || N < 1) $error("spikeflow_broadcast: WIDTH and N must be >= 1");
end

reg [N-1:0] taken;  // consumer i took the current item
wire [N-1:0] done = taken | m_axis_tready;
assign s_axis_tready = &done;
assign m_axis_tvalid = {N{s_axis_tvalid}} & ~taken;
assign m_axis_tdata = {N{s_axis_tdata}};

always @(posedge clk) begin
    if (rst || (s_axis_tvalid && s_axis_tready)) taken <= {N{1'b0}};
    else if (s_axis_tvalid) taken <= done;
end

endmodule

`resetall
