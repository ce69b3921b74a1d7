// The spike count of one output channel: the number of its THRESHOLDS thresholds that the membrane potential V
// passes, #{j : V >= thr[j]}, V and the thresholds signed ACC_BITS-bit numbers (threshold j at
// thr[j*STRIDE +: ACC_BITS]). Combinational: a compare per threshold (spikeflow_fire_compare) and the count of the
// compare bits (spikeflow_fire_count).
//
// Each of the two has two formulations:
//   logic (synthesis): signed compares (one carry chain each), whose bits are added by half adders written as
//     logic, so that the count is LUTs after the compares (with THRESHOLDS = 3 one LUT per count bit), not a chain
//     of carry-chain increments;
//   word (SPIKEFLOW_WORD_ARITH, the fast harness): unsigned compares of the operands with their sign bits inverted
//     (offset binary orders as the signed numbers do), added as integers: a few instructions per threshold in the
//     harness's C++, where the logic form is sign extensions and a bit-by-bit count.
// With SPIKEFLOW_FORMAL each module asserts that its two formulations are equal; the flow's equiv step proves the
// compare for each ACC_BITS and the count for each (THRESHOLDS, OB) it generates, for all inputs (Yosys `sat`,
// spikeflow.backends.rtl.equivalence). spikeflow_fire wires them alike in both builds, so its count is the same.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module spikeflow_fire #(
    parameter ACC_BITS = 16,    // bits of V and of each threshold (signed)
    parameter THRESHOLDS = 3,   // thresholds (output timesteps T)
    parameter OB = 2,           // bits of the count, >= clog2(THRESHOLDS+1)
    parameter STRIDE = ACC_BITS // bits from one threshold to the next in thr (>= ACC_BITS; those above unused)
) (
    input  wire [ACC_BITS-1:0]          v,
    /* verilator lint_off UNUSEDSIGNAL */  // with STRIDE > ACC_BITS, the bits between thresholds
    input  wire [THRESHOLDS*STRIDE-1:0] thr,
    /* verilator lint_on UNUSEDSIGNAL */
    output wire [OB-1:0]                count
);

initial begin
    if (ACC_BITS < 2 || THRESHOLDS < 1) $error("spikeflow_fire: ACC_BITS must be >= 2 and THRESHOLDS >= 1");
    if (STRIDE < ACC_BITS) $error("spikeflow_fire: STRIDE must be >= ACC_BITS");
end

wire [THRESHOLDS-1:0] passed;
genvar j;
generate
    for (j = 0; j < THRESHOLDS; j = j + 1) begin : g_thr
        spikeflow_fire_compare #(.BITS(ACC_BITS))
            u_cmp (.a(v), .b(thr[j*STRIDE +: ACC_BITS]), .ge(passed[j]));
    end
endgenerate
spikeflow_fire_count #(.N(THRESHOLDS), .OB(OB)) u_count (.bits(passed), .count(count));

endmodule

// the two parts live in this file with the unit that wires them (the proof reads one file)
/* verilator lint_off DECLFILENAME */

// a >= b, both signed BITS-bit numbers
module spikeflow_fire_compare #(
    parameter BITS = 16
) (
    input  wire [BITS-1:0] a,
    input  wire [BITS-1:0] b,
    output wire            ge
);

localparam [BITS-1:0] SIGN = {1'b1, {(BITS-1){1'b0}}};
/* verilator lint_off UNUSEDSIGNAL */  // one of the two is unused, except in the proof
wire ge_logic = $signed(a) >= $signed(b);
wire ge_word = (a ^ SIGN) >= (b ^ SIGN);
/* verilator lint_on UNUSEDSIGNAL */
`ifdef SPIKEFLOW_WORD_ARITH
assign ge = ge_word;
`else
assign ge = ge_logic;
`endif
`ifdef SPIKEFLOW_FORMAL
always @* assert (ge_word == ge_logic);
`endif

endmodule


// the number of ones of N bits, in OB bits (2^OB > N)
module spikeflow_fire_count #(
    parameter N = 3,
    parameter OB = 2
) (
    input  wire [N-1:0]  bits,
    output wire [OB-1:0] count
);

initial begin
    if (N < 1 || (1 << OB) <= N) $error("spikeflow_fire_count: OB too small for N");
end

/* verilator lint_off UNUSEDSIGNAL */  // one of the two is unused, except in the proof
reg [OB-1:0] count_logic, count_word;
/* verilator lint_on UNUSEDSIGNAL */
reg c, s;
integer t, n;
always @* begin
    count_logic = {OB{1'b0}};
    for (t = 0; t < N; t = t + 1) begin
        c = bits[t];
        for (n = 0; n < OB; n = n + 1) begin
            s = count_logic[n] ^ c;
            c = count_logic[n] & c;
            count_logic[n] = s;
        end
    end
    count_word = {OB{1'b0}};
    for (t = 0; t < N; t = t + 1) count_word = count_word + {{(OB-1){1'b0}}, bits[t]};
end
`ifdef SPIKEFLOW_WORD_ARITH
assign count = count_word;
`else
assign count = count_logic;
`endif
`ifdef SPIKEFLOW_FORMAL
always @* assert (count_word == count_logic);
`endif

endmodule

/* verilator lint_on DECLFILENAME */

`resetall
