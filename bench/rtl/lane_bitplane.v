// An experiment, not part of the flow (bench/bitplane_speed.py): one lane (PE=1) of 4-bit offset-binary weights and
// 2-bit inputs summed by bit planes, V = sum_{j,m} 2^(j+m) popcount(U_j & D_m) - 8 * sum_m 2^m popcount(D_m), 64
// elements at a time, against the shipped word formulation (spikeflow_lane_sum FORM=1, SWAR) in the same harness.
// The weights come plane-major (block b's plane j at [(b*4+j)*64 +: 64]), as a ROM image could hold them; the
// inputs' planes are gathered by shifts and masks; pop64 is the SWAR idiom that gcc and clang compile to popcnt.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module lane_bitplane #(parameter SIMD = 288, parameter ACC_BITS = 16, parameter LATENCY = 9) (
    input wire clk,
    input wire [((SIMD+63)/64)*4*64-1:0] w,   // block b, plane j at [(b*4+j)*64 +: 64]
    input wire [SIMD*2-1:0] x,
    output wire [ACC_BITS-1:0] psum);
localparam NB = (SIMD + 63) / 64;
wire [NB*128-1:0] xp = {{(NB*128-SIMD*2){1'b0}}, x};
function automatic [31:0] even_bits(input [63:0] v);
    reg [63:0] t;
    begin
        t = v & 64'h5555555555555555;
        t = (t | (t >> 1)) & 64'h3333333333333333;
        t = (t | (t >> 2)) & 64'h0F0F0F0F0F0F0F0F;
        t = (t | (t >> 4)) & 64'h00FF00FF00FF00FF;
        t = (t | (t >> 8)) & 64'h0000FFFF0000FFFF;
        t = (t | (t >> 16)) & 64'h00000000FFFFFFFF;
        even_bits = t[31:0];
    end
endfunction
function automatic [63:0] pop64(input [63:0] v);
    reg [63:0] a, b, c, d;
    begin
        a = v - ((v >> 1) & 64'h5555555555555555);
        b = (a & 64'h3333333333333333) + ((a >> 2) & 64'h3333333333333333);
        c = (b + (b >> 4)) & 64'h0F0F0F0F0F0F0F0F;
        d = c * 64'h0101010101010101;
        pop64 = d >> 56;
    end
endfunction
reg [ACC_BITS-1:0] s;
reg [63:0] acc, d0, d1, u;
integer b, j;
/* verilator lint_off BLKSEQ */
always @(posedge clk) begin
    acc = 0;
    for (b = 0; b < NB; b = b + 1) begin
        d0 = {even_bits(xp[b*128 + 64 +: 64]), even_bits(xp[b*128 +: 64])};
        d1 = {even_bits(xp[b*128 + 64 +: 64] >> 1), even_bits(xp[b*128 +: 64] >> 1)};
        for (j = 0; j < 4; j = j + 1) begin
            u = w[(b*4 + j)*64 +: 64];
            acc = acc + ((pop64(u & d0) + (pop64(u & d1) << 1)) << j);
        end
        acc = acc - ((pop64(d0) + (pop64(d1) << 1)) << 3);
    end
    s <= acc[ACC_BITS-1:0];
end
/* verilator lint_on BLKSEQ */
reg [ACC_BITS-1:0] q [1:LATENCY-1];
integer k;
always @(posedge clk) begin
    q[1] <= s;
    for (k = 2; k < LATENCY; k = k + 1) q[k] <= q[k-1];
end
assign psum = q[LATENCY-1];
endmodule

// the shipped word formulation with the same ports but element-major weights
module lane_swar #(parameter SIMD = 288, parameter ACC_BITS = 16, parameter LATENCY = 9) (
    input wire clk, input wire [SIMD*4-1:0] w, input wire [SIMD*2-1:0] x, output wire [ACC_BITS-1:0] psum);
spikeflow_lane_sum #(.PE(1), .SIMD(SIMD), .WEIGHT_BITS(4), .XB(2), .ACC_BITS(ACC_BITS), .D(2), .DSP(0),
                     .LATENCY(LATENCY), .FORM(1)) u (.clk(clk), .w(w), .x(x), .psum(psum));
endmodule

`resetall
