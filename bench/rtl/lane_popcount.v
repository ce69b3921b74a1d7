// An experiment, not part of the flow (bench/reassociation_proof.py): the lane sum of one lane with 4-bit weights
// (offset binary) and 2-bit inputs computed by bit planes, the way a popcount instruction would:
//   V = sum_{j<4, m<2} 2^(j+m) * popcount(U_j & D_m) - 8 * sum_m 2^m * popcount(D_m),
// U_j: bit j of every weight, D_m: bit m of every input. Its additions are associated by bit plane, not by element
// as in spikeflow_lane_sum's adder tree, so an equivalence checker cannot match the two node for node.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module lane_popcount #(
    parameter SIMD = 16,
    parameter ACC_BITS = 12,
    parameter LATENCY = 4
) (
    input  wire                  clk,
    input  wire [SIMD*4-1:0]     w,
    input  wire [SIMD*2-1:0]     x,
    output wire [ACC_BITS-1:0]   psum
);

function automatic [ACC_BITS-1:0] ones(input [SIMD-1:0] v);
    integer i;
    begin
        ones = {ACC_BITS{1'b0}};
        for (i = 0; i < SIMD; i = i + 1) ones = ones + {{(ACC_BITS-1){1'b0}}, v[i]};
    end
endfunction

reg [SIMD-1:0] u0, u1, u2, u3, d0, d1;
integer e;
always @* begin
    for (e = 0; e < SIMD; e = e + 1) begin
        u0[e] = w[e*4];
        u1[e] = w[e*4 + 1];
        u2[e] = w[e*4 + 2];
        u3[e] = w[e*4 + 3];
        d0[e] = x[e*2];
        d1[e] = x[e*2 + 1];
    end
end

wire [ACC_BITS-1:0] p0 = ones(u0 & d0) + (ones(u1 & d0) << 1) + (ones(u2 & d0) << 2) + (ones(u3 & d0) << 3);
wire [ACC_BITS-1:0] p1 = ones(u0 & d1) + (ones(u1 & d1) << 1) + (ones(u2 & d1) << 2) + (ones(u3 & d1) << 3);
wire [ACC_BITS-1:0] v = p0 + (p1 << 1) - ((ones(d0) + (ones(d1) << 1)) << 3);

reg [ACC_BITS-1:0] q [0:LATENCY-1];
integer k;
always @(posedge clk) begin
    q[0] <= v;
    for (k = 1; k < LATENCY; k = k + 1) q[k] <= q[k-1];
end
assign psum = q[LATENCY-1];

endmodule

// the two sides of the check: spikeflow_lane_sum's logic formulation and the bit-plane one (parameters set by chparam)
module lane_logic #(parameter SIMD = 16, parameter ACC_BITS = 12, parameter LATENCY = 4) (
    input wire clk, input wire [SIMD*4-1:0] w, input wire [SIMD*2-1:0] x, output wire [ACC_BITS-1:0] psum);
spikeflow_lane_sum #(.PE(1), .SIMD(SIMD), .WEIGHT_BITS(4), .XB(2), .ACC_BITS(ACC_BITS), .D(2), .DSP(0),
                     .LATENCY(LATENCY), .FORM(0))
    u_lanes (.clk(clk), .w(w), .x(x), .psum(psum));
endmodule

module lane_word #(parameter SIMD = 16, parameter ACC_BITS = 12, parameter LATENCY = 4) (
    input wire clk, input wire [SIMD*4-1:0] w, input wire [SIMD*2-1:0] x, output wire [ACC_BITS-1:0] psum);
lane_popcount #(.SIMD(SIMD), .ACC_BITS(ACC_BITS), .LATENCY(LATENCY))
    u_lanes (.clk(clk), .w(w), .x(x), .psum(psum));
endmodule

`resetall
