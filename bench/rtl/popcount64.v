// An experiment, not part of the flow (bench/reassociation_proof.py): the population count of a 64-bit word in the
// SWAR idiom that gcc and clang compile to one popcnt instruction (field sums of 2, 4, 8 bits, then the bytes added
// by one multiply), and the reference, $countones.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module popcount64_swar (
    input  wire [63:0] v,
    output wire [6:0]  n
);
wire [63:0] pairs = v - ((v >> 1) & 64'h5555555555555555);
wire [63:0] nibbles = (pairs & 64'h3333333333333333) + ((pairs >> 2) & 64'h3333333333333333);
wire [63:0] bytes = (nibbles + (nibbles >> 4)) & 64'h0F0F0F0F0F0F0F0F;
wire [63:0] total = bytes * 64'h0101010101010101;  // byte 7: the sum of all eight bytes
assign n = total[62:56];
endmodule

module popcount64_ref (
    input  wire [63:0] v,
    output wire [6:0]  n
);
assign n = $countones(v);
endmodule

`resetall
