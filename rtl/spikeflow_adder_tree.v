// Balanced, registered adder tree of N signed operands: one adder level (one carry chain) per register stage,
// each level only as wide as its sums can get. Operand j is weighted 2^(j*SHIFT): SHIFT=0 is a plain sum,
// SHIFT=D combines the digit products of a D-bit-digit multiplication. The result is exact modulo 2^OUT_W
// (levels never grow past OUT_W bits, which is exact modulo 2^OUT_W).
//
// Level l holds ceil(N/2^l) nodes; node i sums operands i*2^l .. i*2^l+2^l-1 relative to the first, so it
// needs IN_W + l bits (SHIFT=0) or IN_W + SHIFT*(2^l-1) bits (SHIFT>0), capped at OUT_W. An odd node out
// passes to the next level unchanged. Latency: max(1, ceil(log2 N)) cycles, each stage advancing
// when en is high.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module spikeflow_adder_tree #(
    parameter N = 4,       // operands
    parameter IN_W = 6,    // signed operand width
    parameter SHIFT = 0,   // operand j is weighted 2^(j*SHIFT)
    parameter OUT_W = 16   // result width (sign-extended; exact modulo 2^OUT_W)
) (
    input  wire                clk,
    input  wire                en,
    input  wire [N*IN_W-1:0]   in_data,
    output wire [OUT_W-1:0]    out_data
);

localparam LEVELS = N > 1 ? $clog2(N) : 0;

// width of the nodes of level l
function integer lvl_w(input integer l);
    integer w;
    begin
        w = SHIFT > 0 ? IN_W + SHIFT * ((1 << l) - 1) : IN_W + l;
        lvl_w = w < OUT_W ? w : OUT_W;
    end
endfunction

// nodes of level l
function integer lvl_n(input integer l);
    lvl_n = (N + (1 << l) - 1) >> l;
endfunction

// bit offset of level l in `node`
function integer lvl_off(input integer l);
    integer k;
    begin
        lvl_off = 0;
        for (k = 0; k < l; k = k + 1) lvl_off = lvl_off + lvl_n(k) * lvl_w(k);
    end
endfunction

localparam TOTAL = lvl_off(LEVELS + 1);
localparam W0 = lvl_w(0);
localparam WL = lvl_w(LEVELS);

initial begin
    if (N < 1) $error("spikeflow_adder_tree: N must be >= 1");
    if (IN_W < 1 || OUT_W < 1) $error("spikeflow_adder_tree: IN_W and OUT_W must be >= 1");
    if (SHIFT < 0) $error("spikeflow_adder_tree: SHIFT must be >= 0");
end

wire [TOTAL-1:0] node;
assign node[0 +: N*W0] = level0(in_data);

// level 0: the operands, cut to OUT_W bits when wider (exact modulo 2^OUT_W)
function [N*W0-1:0] level0(input [N*IN_W-1:0] x);
    integer j;
    begin
        for (j = 0; j < N; j = j + 1) level0[j*W0 +: W0] = x[j*IN_W +: W0];
    end
endfunction

// Level l: one register per node, a + (b << S) sign-extended to the level's width. The nodes of a level are
// a loop, not a generate scope each, to keep simulators' models small.
genvar l;
generate
    for (l = 1; l <= LEVELS; l = l + 1) begin : g_lvl
        localparam W = lvl_w(l);
        localparam WP = lvl_w(l - 1);
        localparam NL = lvl_n(l);
        localparam NP = lvl_n(l - 1);
        localparam S = SHIFT * (1 << (l - 1));  // weight of the right operand relative to the left
        wire [NP*WP-1:0] prev = node[lvl_off(l - 1) +: NP*WP];
        reg  [NL*W-1:0]  nxt, sum;
        reg signed [W-1:0] a, b;
        integer i;
        /* verilator lint_off WIDTHEXPAND */
        always @* begin
            for (i = 0; i < NL; i = i + 1) begin
                a = $signed(prev[2*i*WP +: WP]);  // sign-extended to W (W >= WP)
                if (2*i + 1 < NP) begin
                    b = $signed(prev[(2*i+1)*WP +: WP]);
                    b = b <<< S;  // bits weighted past W are dropped (exact modulo 2^W)
                end else begin
                    b = 0;  // the odd node out passes unchanged
                end
                nxt[i*W +: W] = a + b;
            end
        end
        /* verilator lint_on WIDTHEXPAND */
        always @(posedge clk) begin
            if (en) sum <= nxt;
        end
        assign node[lvl_off(l) +: NL*W] = sum;
    end
endgenerate

generate
    if (LEVELS == 0) begin : g_reg
        reg [W0-1:0] r;
        always @(posedge clk) begin
            if (en) r <= node[W0-1:0];
        end
        if (OUT_W > W0) begin : g_ext
            assign out_data = {{(OUT_W-W0){r[W0-1]}}, r};
        end else begin : g_same
            assign out_data = r;
        end
    end else begin : g_tree
        wire [WL-1:0] r = node[lvl_off(LEVELS) +: WL];
        if (OUT_W > WL) begin : g_ext
            assign out_data = {{(OUT_W-WL){r[WL-1]}}, r};
        end else begin : g_same
            assign out_data = r;
        end
    end
endgenerate

endmodule

`resetall
