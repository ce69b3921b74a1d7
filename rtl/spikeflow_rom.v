// Synchronous-read ROM initialised from a $readmemh file (maps to BRAM or LUTRAM).
`resetall
`timescale 1ns / 1ps
`default_nettype none

module spikeflow_rom #(
    parameter WIDTH = 8,                                  // word width in bits
    parameter DEPTH = 1,                                  // number of words
    parameter ADDR_WIDTH = DEPTH > 1 ? $clog2(DEPTH) : 1, // address width
    parameter INIT_FILE = ""                              // $readmemh image, DEPTH words of WIDTH bits
) (
    input  wire                  clk,
    input  wire                  en,
    input  wire [ADDR_WIDTH-1:0] addr,
    output reg  [WIDTH-1:0]      data
);

initial begin
    if (WIDTH < 1) $error("spikeflow_rom: WIDTH must be >= 1");
    if (DEPTH < 1) $error("spikeflow_rom: DEPTH must be >= 1");
    if ((1 << ADDR_WIDTH) < DEPTH) $error("spikeflow_rom: ADDR_WIDTH too small for DEPTH");
end

(* rom_style = "block" *)
reg [WIDTH-1:0] mem [0:DEPTH-1];

initial begin
    if (INIT_FILE != "") $readmemh(INIT_FILE, mem);
end

always @(posedge clk) begin
    if (en) data <= mem[addr];
end

endmodule

`resetall
