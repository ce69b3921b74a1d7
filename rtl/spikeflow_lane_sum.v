// The lane sums of a neuron unit: for each of PE lanes, V_lane = sum_e W[lane,e] * x[e] over SIMD window elements,
// exact modulo 2^ACC_BITS, LATENCY cycles after w and x (free running: a new item every cycle).
//
// Two formulations of the same arithmetic, selected by FORM (spikeflow_neuron sets it from the define
// SPIKEFLOW_WORD_ARITH):
//   FORM=0 (logic, the one synthesised): x split into NDIG digits of D bits; each digit product W*digit is
//          bit-sliced logic (one LUT per bit, WEIGHT_BITS + D <= 6 inputs), or a registered multiply with DSP=1;
//          per digit a balanced registered adder tree (spikeflow_adder_tree) sums the SIMD products, and a
//          second tree combines the digit sums weighted 2^(k*D).
//   FORM=1 (diagonals, for cycle simulators): with u = W + 2^(WEIGHT_BITS-1) the offset-binary weight and x as it
//          comes (bit m of element e at bit e*XB + m), diagonal d of a 64-bit word of x holds u's bit d-m at bit
//          e*XB + m, so that popcount(diagonal_d & x) = sum_{e, m} u[e][d-m] x[e][m], every term weighing 2^d:
//              V = sum_{words, d} 2^d popcount(diagonal_d & x) - 2^(WEIGHT_BITS-1) sum_e x[e].
//          WEIGHT_BITS + XB - 1 popcounts per 64 bits of x, and no rearranging of x. Verilator evaluates each
//          popcount as one popcnt instruction (the SWAR idiom of pop64, which gcc and clang recognise), where it
//          evaluates the logic formulation bit by bit. The sums are registered once, a delay line makes up
//          LATENCY. The weights come as diagonals (below): spikeflow_rom stores the image so (LAYOUT 1).
//   FORM=2 (packed products, for cycle simulators; fewer operations than diagonals where SIMD is small or the
//          inputs wide, as in a pixel layer): MUL_R elements per 64-bit multiply, in fields of F = 64/MUL_R bits.
//          With X_q = sum_i x[q*MUL_R + MUL_R-1-i] 2^(F*i) (the inputs reversed) and
//          U_q = sum_i u[q*MUL_R + i] 2^(F*i),
//          field MUL_R-1 of X_q * U_q is sum_i x u over the group: every field of the product holds a sum of at
//          most MUL_R products, below 2^F (checked), so none carries into the next. V = sum_q of those - the
//          offset 2^(WEIGHT_BITS-1) sum_e x[e], found the same way with U = 1. The weights come widened to F-bit
//          fields (spikeflow_rom LAYOUT 2).
// Both are pipelines without feedback whose every path from (w, x) to psum crosses LATENCY registers, so their
// outputs are equal at every cycle once LATENCY cycles have passed. spikeflow.backends.rtl.equivalence proves it
// for every instance the flow generates: each lane's output as a polynomial over the input bits (the association
// of the additions does not matter), with pop64 read as the plain sum of its bits (SPIKEFLOW_POPCOUNT_SPEC), and
// the idiom proven equal to that sum once (module spikeflow_pop64_idiom, with ABC).
//
// x: element e at x[e*XB +: XB], unsigned. psum: lane p at psum[p*ACC_BITS +: ACC_BITS].
// w, FORM=0: lane p's element e at w[(p*SIMD + e)*WEIGHT_BITS +: WEIGHT_BITS] in offset binary (W + 2^(WEIGHT_BITS-1)).
// w, FORM=1: diagonals: bit j of lane p's element e, at bit t = e*XB of x (word k = t/64), is at
//            w[((p*NK + k)*ND + j + m)*64 + t%64 + m] for each m < XB, NK = ceil(SIMD*XB/64), ND = WEIGHT_BITS+XB-1;
//            all other bits 0.
// w, FORM=2: lane p's element e = q*MUL_R + i zero-extended to F bits at w[(p*NQ + q)*64 + i*F +: F],
//            NQ = ceil(SIMD/MUL_R); padding elements 0.

// The SWAR popcount idiom: c[62:56] = the number of ones in v (a, b, c: 64-bit temporaries). gcc and clang compile
// it to one popcnt instruction. Written once, for pop64 and for spikeflow_pop64_idiom, which the check proves.
`define SPIKEFLOW_POP64(v, a, b, c) \
    a = v - ((v >> 1) & 64'h5555555555555555); \
    b = (a & 64'h3333333333333333) + ((a >> 2) & 64'h3333333333333333); \
    c = ((b + (b >> 4)) & 64'h0F0F0F0F0F0F0F0F) * 64'h0101010101010101;

`resetall
`timescale 1ns / 1ps
`default_nettype none

module spikeflow_lane_sum #(
    parameter PE = 1,            // lanes (output channels per cycle)
    parameter SIMD = 1,          // window elements per lane
    parameter WEIGHT_BITS = 4,   // signed weight width
    parameter XB = 2,            // unsigned input width
    parameter ACC_BITS = 16,     // result width (exact modulo 2^ACC_BITS)
    parameter D = 2,             // digit bits (FORM=0): D <= XB
    parameter DSP = 0,           // 1: W*x as one registered multiply per element (D = XB)
    parameter LATENCY = 1,       // cycles from w, x to psum; must equal the logic formulation's (checked)
    parameter FORM = 0,          // 0: logic (synthesis), 1: diagonals, 2: packed products (simulation)
    parameter MUL_R = 4          // FORM=2: elements per 64-bit multiply (1, 2, 4 or 8)
) (
    input  wire                            clk,
    input  wire [(FORM == 2 ? PE*((SIMD+MUL_R-1)/MUL_R)*64 : FORM == 1 ? PE*((SIMD*XB+63)/64)*(WEIGHT_BITS+XB-1)*64
                  : PE*SIMD*WEIGHT_BITS)-1:0] w,  // layout: see above
    input  wire [SIMD*XB-1:0]              x,
    output wire [PE*ACC_BITS-1:0]          psum
);

localparam NDIG = (XB + D - 1) / D;                  // digits per input
localparam DW = (D > 1 || NDIG > 1) ? WEIGHT_BITS + D : WEIGHT_BITS;  // digit product width (signed)
localparam SIMD_LVLS = SIMD > 1 ? $clog2(SIMD) : 0;
localparam LW0 = DW + SIMD_LVLS;                     // natural width of a lane's digit sum
localparam LW = NDIG > 1 ? (LW0 < ACC_BITS ? LW0 : ACC_BITS) : ACC_BITS;
localparam MUL_LAT = DSP ? 1 : 0;                    // registered multiply (DSP M register)
localparam TREE_LAT = MUL_LAT + (SIMD_LVLS > 0 ? SIMD_LVLS : 1) + (NDIG > 1 ? $clog2(NDIG) : 0);
localparam NK = (SIMD * XB + 63) / 64;               // FORM=1: 64-bit words of x
localparam ND = WEIGHT_BITS + XB - 1;                // FORM=1: diagonals per word
localparam F = 64 / MUL_R;                           // FORM=2: bits per field
localparam NQ = (SIMD + MUL_R - 1) / MUL_R;          // FORM=2: multiplies per lane
// FORM=2: the largest product, u * x (u < 2^WEIGHT_BITS, x < 2^XB), as a 64-bit number
localparam [63:0] MAXP = ((64'd1 << WEIGHT_BITS) - 64'd1) * ((64'd1 << XB) - 64'd1);

initial begin
    if (PE < 1 || SIMD < 1) $error("spikeflow_lane_sum: PE and SIMD must be >= 1");
    if (D < 1 || D > XB) $error("spikeflow_lane_sum: D must be 1..XB");
    if (DSP != 0 && D != XB) $error("spikeflow_lane_sum: DSP=1 takes whole inputs (D = XB)");
    if (FORM < 0 || FORM > 2) $error("spikeflow_lane_sum: FORM must be 0 (logic), 1 (diagonals) or 2 (products)");
    if (FORM == 1 && XB != 1 && XB != 2 && XB != 4 && XB != 8)
        $error("spikeflow_lane_sum: FORM=1 takes inputs of 1, 2, 4 or 8 bits");
    if (FORM == 2 && MUL_R != 1 && MUL_R != 2 && MUL_R != 4 && MUL_R != 8)
        $error("spikeflow_lane_sum: MUL_R must be 1, 2, 4 or 8");
    if (FORM == 2 && MUL_R > 1 && MUL_R * MAXP >= (64'd1 << F))
        $error("spikeflow_lane_sum: %0d products of %0d bits by %0d overflow a %0d-bit field",
               MUL_R, WEIGHT_BITS, XB, F);
    if (LATENCY != TREE_LAT) $error("spikeflow_lane_sum: LATENCY must be %0d for these parameters", TREE_LAT);
end

// FORM=1: the number of ones in v. Functions, so that Verilator keeps their temporaries in C++ locals and gcc sees
// the popcount idiom whole (as a module, or as wires, it became 30 to 40 scattered operations)
function automatic [6:0] pop64(input [63:0] v);
`ifdef SPIKEFLOW_POPCOUNT_SPEC
    // the specification the equivalence check reads: the plain sum of the bits
    integer i;
    begin
        pop64 = 7'd0;
        for (i = 0; i < 64; i = i + 1) pop64 = pop64 + {6'd0, v[i]};
    end
`else
    /* verilator lint_off UNUSEDSIGNAL */  // c: the count is its top byte
    reg [63:0] a, b, c;
    /* verilator lint_on UNUSEDSIGNAL */
    begin
        `SPIKEFLOW_POP64(v, a, b, c)
        pop64 = c[62:56];
    end
`endif
endfunction
// FORM=1: a popcount zero-extended (or truncated) to ACC_BITS, for sums modulo 2^ACC_BITS
/* verilator lint_off WIDTHEXPAND */
/* verilator lint_off WIDTHTRUNC */
function automatic [ACC_BITS-1:0] wide(input [6:0] n);
    wide = n;
endfunction
/* verilator lint_on WIDTHTRUNC */
/* verilator lint_on WIDTHEXPAND */
// FORM=1: bit 0 of every XB-bit element of a 64-bit word
localparam [63:0] ELEMENT_LSBS = XB == 1 ? 64'hFFFFFFFFFFFFFFFF : XB == 2 ? 64'h5555555555555555
                               : XB == 4 ? 64'h1111111111111111 : 64'h0101010101010101;
// FORM=2: 1 in every F-bit field
localparam [63:0] ONES = MUL_R == 8 ? 64'h0101010101010101 : MUL_R == 4 ? 64'h0001000100010001
                       : MUL_R == 2 ? 64'h0000000100000001 : 64'h1;
// FORM=2: field MUL_R-1 of a product (its top F bits), zero-extended or truncated to ACC_BITS
/* verilator lint_off WIDTHEXPAND */
/* verilator lint_off WIDTHTRUNC */
function automatic [ACC_BITS-1:0] top_field(input [63:0] v);
    top_field = v >> (64 - F);
endfunction
/* verilator lint_on WIDTHTRUNC */
/* verilator lint_on WIDTHEXPAND */

genvar gp, gd, ge, gj;
generate
if (FORM == 0) begin : g_logic
    // the inputs in whole digits: element e's digit k is xdig[(e*NDIG + k)*D +: D] (zero padded)
    /* verilator lint_off UNUSEDSIGNAL */
    reg [SIMD*NDIG*D-1:0] xdig;  // unused with DSP
    /* verilator lint_on UNUSEDSIGNAL */
    integer xe;
    always @* begin
        xdig = {SIMD*NDIG*D{1'b0}};
        for (xe = 0; xe < SIMD; xe = xe + 1) xdig[xe*NDIG*D +: XB] = x[xe*XB +: XB];
    end

    for (gp = 0; gp < PE; gp = gp + 1) begin : g_lane
        wire [NDIG*LW-1:0] dsum;
        for (gd = 0; gd < NDIG; gd = gd + 1) begin : g_digit
            wire [SIMD*DW-1:0] prod;
            if (DSP) begin : g_mul
                // W*x, registered (the DSP's M register): one scope per term, pixel layers only
                for (ge = 0; ge < SIMD; ge = ge + 1) begin : g_term
                    reg signed [DW-1:0] p;
                    wire signed [WEIGHT_BITS-1:0] ws = w[(gp*SIMD + ge)*WEIGHT_BITS +: WEIGHT_BITS]
                                                       ^ {1'b1, {(WEIGHT_BITS-1){1'b0}}};
                    wire signed [XB:0] xv = {1'b0, x[ge*XB +: XB]};
                    always @(posedge clk) begin
                        p <= ws * xv;
                    end
                    assign prod[ge*DW +: DW] = p;
                end
            end else if (D > 1) begin : g_tab
                // W * digit, bit-sliced: plane j holds bit j of all SIMD terms, so each operation below is one
                // SIMD-wide bitwise operation. sum_k digit[k] * (W << k) is added by ripple-carry adders written
                // as logic, not `+` (no carry chain is inferred); every product bit is a function of the
                // WEIGHT_BITS + D <= 6 input bits, which LUT mapping makes one LUT. Yosys builds a few cells per
                // plane, where a per-bit lookup in a constant truth table became a 64-wide shifter per product
                // bit before constant folding (five times the synthesis time, the same LUTs).
                reg [DW*SIMD-1:0] ev;   // the signed weights sign-extended to DW bits, by plane
                reg [D*SIMD-1:0]  dv;   // the digits, by plane
                reg [DW*SIMD-1:0] acc;  // the product so far, by plane
                reg [SIMD-1:0]    pp, hs, cy, cn;
                reg [SIMD*DW-1:0] p;
                integer e, j, m;
                always @* begin
                    for (e = 0; e < SIMD; e = e + 1) begin
                        for (j = 0; j < DW; j = j + 1)  // offset binary: the sign bit inverted
                            ev[j*SIMD + e] = w[(gp*SIMD + e)*WEIGHT_BITS + (j < WEIGHT_BITS ? j : WEIGHT_BITS - 1)]
                                             ^ (j >= WEIGHT_BITS - 1);
                        for (m = 0; m < D; m = m + 1) dv[m*SIMD + e] = xdig[(e*NDIG + gd)*D + m];
                    end
                    for (j = 0; j < DW; j = j + 1) acc[j*SIMD +: SIMD] = ev[j*SIMD +: SIMD] & dv[0 +: SIMD];
                    for (m = 1; m < D; m = m + 1) begin
                        cy = {SIMD{1'b0}};
                        for (j = m; j < DW; j = j + 1) begin
                            pp = ev[(j-m)*SIMD +: SIMD] & dv[m*SIMD +: SIMD];
                            hs = acc[j*SIMD +: SIMD] ^ pp;
                            cn = (acc[j*SIMD +: SIMD] & pp) | (cy & hs);
                            acc[j*SIMD +: SIMD] = hs ^ cy;
                            cy = cn;
                        end
                    end
                    for (e = 0; e < SIMD; e = e + 1)
                        for (j = 0; j < DW; j = j + 1) p[e*DW + j] = acc[j*SIMD + e];
                end
                assign prod = p;
            end else begin : g_and
                // W * bit: the signed weight gated by the bit
                reg [SIMD*DW-1:0] p;
                reg [WEIGHT_BITS-1:0] ws;
                integer e;
                always @* begin
                    for (e = 0; e < SIMD; e = e + 1) begin
                        ws = w[(gp*SIMD + e)*WEIGHT_BITS +: WEIGHT_BITS] ^ {1'b1, {(WEIGHT_BITS-1){1'b0}}};
                        p[e*DW +: DW] = xdig[e*NDIG + gd] ? {{(DW-WEIGHT_BITS){ws[WEIGHT_BITS-1]}}, ws}
                                                          : {DW{1'b0}};
                    end
                end
                assign prod = p;
            end
            spikeflow_adder_tree #(.N(SIMD), .IN_W(DW), .SHIFT(0), .OUT_W(LW))
                u_tree (.clk(clk), .en(1'b1), .in_data(prod), .out_data(dsum[gd*LW +: LW]));
        end
        if (NDIG > 1) begin : g_comb
            spikeflow_adder_tree #(.N(NDIG), .IN_W(LW), .SHIFT(D), .OUT_W(ACC_BITS))
                u_tree (.clk(clk), .en(1'b1), .in_data(dsum), .out_data(psum[gp*ACC_BITS +: ACC_BITS]));
        end else begin : g_one
            assign psum[gp*ACC_BITS +: ACC_BITS] = dsum;
        end
    end
end else begin : g_words
    // per lane the sum of products of offset-binary weights, registered, and the offset shared by the lanes,
    // registered; psum = their difference LATENCY - 1 cycles later
    wire [PE*ACC_BITS-1:0] sums;
    wire [ACC_BITS-1:0]    offset;
    if (FORM == 1) begin : g_diagonals
        // x as it comes, zero-padded to NK 64-bit words: word k holds the XB-bit elements 64k/XB .. 64(k+1)/XB - 1
        wire [NK*64-1:0] xw = {{(NK*64-SIMD*XB){1'b0}}, x};
        // the weights' offset, 2^(WEIGHT_BITS-1) sum_e x[e] = 2^(WEIGHT_BITS-1) sum_{k,m} 2^m popcount(x_k & bit m of
        // every element), shared by the lanes, registered
        reg [ACC_BITS-1:0] xoff, oacc;
        integer ok, om;
        /* verilator lint_off BLKSEQ */  // oacc: a temporary of the clocked block
        always @(posedge clk) begin
            oacc = {ACC_BITS{1'b0}};
            for (ok = 0; ok < NK; ok = ok + 1)
                for (om = 0; om < XB; om = om + 1)
                    oacc = oacc + (wide(pop64(xw[ok*64 +: 64] & (ELEMENT_LSBS << om))) << om);
            xoff <= oacc << (WEIGHT_BITS - 1);
        end
        /* verilator lint_on BLKSEQ */
        assign offset = xoff;
        for (gp = 0; gp < PE; gp = gp + 1) begin : g_lane
            // sum_{k,d} 2^d popcount(diagonal d of word k & x_k), registered
            reg [ACC_BITS-1:0] s, acc;
            integer k, d;
            /* verilator lint_off BLKSEQ */  // acc: a temporary of the clocked block
            always @(posedge clk) begin
                acc = {ACC_BITS{1'b0}};
                for (k = 0; k < NK; k = k + 1)
                    for (d = 0; d < ND; d = d + 1)
                        acc = acc + (wide(pop64(w[((gp*NK + k)*ND + d)*64 +: 64] & xw[k*64 +: 64])) << d);
                s <= acc;
            end
            /* verilator lint_on BLKSEQ */
            assign sums[gp*ACC_BITS +: ACC_BITS] = s;
        end
    end else begin : g_products
        // the inputs of group q reversed into F-bit fields: X_q at xq[q*64 +: 64] (padding elements 0)
        reg [NQ*64-1:0] xq;
        integer xg, xi;
        always @* begin
            xq = {NQ*64{1'b0}};
            for (xg = 0; xg < NQ; xg = xg + 1)
                for (xi = 0; xi < MUL_R; xi = xi + 1)
                    if (xg*MUL_R + MUL_R-1-xi < SIMD) xq[xg*64 + xi*F +: XB] = x[(xg*MUL_R + MUL_R-1-xi)*XB +: XB];
        end
        // the weights' offset, 2^(WEIGHT_BITS-1) sum_e x[e]: field MUL_R-1 of X_q * (1 in every field), registered
        reg [ACC_BITS-1:0] xoff, oacc;
        reg [63:0] op;
        integer oq;
        /* verilator lint_off BLKSEQ */  // oacc, op: temporaries of the clocked block
        always @(posedge clk) begin
            oacc = {ACC_BITS{1'b0}};
            for (oq = 0; oq < NQ; oq = oq + 1) begin
                op = xq[oq*64 +: 64] * ONES;
                oacc = oacc + top_field(op);
            end
            xoff <= oacc << (WEIGHT_BITS - 1);
        end
        /* verilator lint_on BLKSEQ */
        assign offset = xoff;
        for (gp = 0; gp < PE; gp = gp + 1) begin : g_lane
            // sum_q field MUL_R-1 of X_q * U_q, registered
            reg [ACC_BITS-1:0] s, acc;
            reg [63:0] pr;
            integer b;
            /* verilator lint_off BLKSEQ */  // acc, pr: temporaries of the clocked block
            always @(posedge clk) begin
                acc = {ACC_BITS{1'b0}};
                for (b = 0; b < NQ; b = b + 1) begin
                    pr = xq[b*64 +: 64] * w[(gp*NQ + b)*64 +: 64];
                    acc = acc + top_field(pr);
                end
                s <= acc;
            end
            /* verilator lint_on BLKSEQ */
            assign sums[gp*ACC_BITS +: ACC_BITS] = s;
        end
    end
    for (gp = 0; gp < PE; gp = gp + 1) begin : g_out
        // the delay line: LATENCY - 1 registers after the sums
        wire [LATENCY*ACC_BITS-1:0] dl;
        assign dl[0 +: ACC_BITS] = sums[gp*ACC_BITS +: ACC_BITS] - offset;
        for (gj = 1; gj < LATENCY; gj = gj + 1) begin : g_delay
            reg [ACC_BITS-1:0] q;
            always @(posedge clk) q <= dl[(gj-1)*ACC_BITS +: ACC_BITS];
            assign dl[gj*ACC_BITS +: ACC_BITS] = q;
        end
        assign psum[gp*ACC_BITS +: ACC_BITS] = dl[(LATENCY-1)*ACC_BITS +: ACC_BITS];
    end
end
endgenerate

endmodule

// The popcount idiom alone, for the equivalence check's proof that it counts the ones of every 64-bit word (read
// with SPIKEFLOW_POPCOUNT_CHECK defined; no other tool sees it)
`ifdef SPIKEFLOW_POPCOUNT_CHECK
module spikeflow_pop64_idiom (
    input  wire [63:0] v,
    output wire [6:0]  n
);
reg [63:0] a, b, c;
always @* begin
    `SPIKEFLOW_POP64(v, a, b, c)
end
assign n = c[62:56];
endmodule
`endif

`undef SPIKEFLOW_POP64
`resetall
