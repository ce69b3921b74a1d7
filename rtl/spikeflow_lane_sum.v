// The lane sums of a neuron unit: for each of PE lanes, V_lane = sum_e W[lane,e] * x[e] over SIMD window elements,
// exact modulo 2^ACC_BITS, LATENCY cycles after w and x (free running: a new item every cycle).
//
// Two formulations of the same arithmetic, selected by FORM (spikeflow_neuron sets it from the define
// SPIKEFLOW_WORD_ARITH):
//   FORM=0 (logic, the one synthesised): x split into NDIG digits of D bits; each digit product W*digit is
//          bit-sliced logic (one LUT per bit, WEIGHT_BITS + D <= 6 inputs), or a registered multiply with DSP=1;
//          per digit a balanced registered adder tree (spikeflow_adder_tree) sums the SIMD products, and a
//          second tree combines the digit sums weighted 2^(k*D).
//   FORM=1 (word, for cycle simulators): the same digit products as word arithmetic, added in the same
//          association; the trees' first four levels are computed per chunk of CHUNK = 16 elements, registered
//          once, and a delay line makes up LATENCY. With 4-bit weights (SWAR) a chunk is one 64-bit word of
//          weight nibbles, masked by the digits' bits, whose fields are added pairwise as the tree's levels 1..4
//          in offset binary; otherwise one expression of the 16 products. One register per chunk and digit,
//          the upper levels as generate-level wires: on tiny the harness runs 16,094 instructions per simulated
//          cycle (17,590 with arrays and loops, 35,132 with the per-term expression); Verilator evaluates the
//          logic formulation bit by bit instead (0.017 M against 0.87 M simulated cycles per second).
// Both are pipelines without feedback whose every path from (w, x) to psum crosses LATENCY registers, so their
// outputs are equal at every cycle once LATENCY cycles have passed; spikeflow.backends.rtl.equivalence
// proves it with Yosys and ABC for every instance the flow generates.
//
// w: lane p's element e at w[(p*SIMD + e)*WEIGHT_BITS +: WEIGHT_BITS] in offset binary (W + 2^(WEIGHT_BITS-1)).
// x: element e at x[e*XB +: XB], unsigned. psum: lane p at psum[p*ACC_BITS +: ACC_BITS].
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
    parameter FORM = 0           // 0: logic (synthesis), 1: word arithmetic (simulation)
) (
    input  wire                            clk,
    input  wire [PE*SIMD*WEIGHT_BITS-1:0]  w,
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
localparam CHUNK = 16;                               // FORM=1: elements per registered chunk sum
localparam G = (SIMD + CHUNK - 1) / CHUNK;           // FORM=1: chunks per lane
localparam [ACC_BITS-1:0] W_OFFSET = 1 << (WEIGHT_BITS - 1);
localparam XS = NDIG * D;                            // FORM=1: bits per element in the digit vector
localparam UP_LVLS = G > 1 ? $clog2(G) : 0;          // FORM=1: adder tree levels above the chunk sums
localparam DIG_LVLS = NDIG > 1 ? $clog2(NDIG) : 0;   // FORM=1: levels of the digits' combining tree
// FORM=1, SWAR: 4-bit weights, digits of 1 or 2 bits, elements XS = 1, 2, 4 or 8 bits apart: the chunk's 16
// products and the adder tree's first four levels as fields of 64-bit words (SIMD within a register)
localparam SWAR = FORM == 1 && !DSP && WEIGHT_BITS == 4 && D <= 2 && (XS == 1 || XS == 2 || XS == 4 || XS == 8);
localparam [63:0] DIGIT_NIBBLES = D == 1 ? 64'h1111111111111111 : 64'h3333333333333333;
localparam [63:0] DIGIT_BYTES = D == 1 ? 64'h0101010101010101 : 64'h0303030303030303;
localparam [63:0] CC_BASE = 64'h0101010101010101 << DW;  // 2^DW per byte (DW <= 6)
localparam [63:0] SWAR_OFFSET = 64'd1 << (DW + 3);  // level 4: 16 * 2^(DW-1)

initial begin
    if (PE < 1 || SIMD < 1) $error("spikeflow_lane_sum: PE and SIMD must be >= 1");
    if (D < 1 || D > XB) $error("spikeflow_lane_sum: D must be 1..XB");
    if (DSP != 0 && D != XB) $error("spikeflow_lane_sum: DSP=1 takes whole inputs (D = XB)");
    if (FORM != 0 && FORM != 1) $error("spikeflow_lane_sum: FORM must be 0 (logic) or 1 (word)");
    if (LATENCY != TREE_LAT) $error("spikeflow_lane_sum: LATENCY must be %0d for these parameters", TREE_LAT);
end

// FORM=1, SWAR: 16 elements of 1 (spread1) or 2 bits (spread2), one per nibble. Functions, so that Verilator
// keeps their temporaries in C++ locals (a variable of an `always @*` block is stored at every step)
function automatic [63:0] spread1(input [15:0] v);
    reg [63:0] t;
    begin
        t = {48'b0, v};
        t = (t | (t << 24)) & 64'h000000FF000000FF;
        t = (t | (t << 12)) & 64'h000F000F000F000F;
        t = (t | (t << 6))  & 64'h0303030303030303;
        spread1 = (t | (t << 3)) & 64'h1111111111111111;
    end
endfunction
function automatic [63:0] spread2(input [31:0] v);
    reg [63:0] t;
    begin
        t = {32'b0, v};
        t = (t | (t << 16)) & 64'h0000FFFF0000FFFF;
        t = (t | (t << 8))  & 64'h00FF00FF00FF00FF;
        t = (t | (t << 4))  & 64'h0F0F0F0F0F0F0F0F;
        spread2 = (t | (t << 2)) & 64'h3333333333333333;
    end
endfunction

genvar gp, gd, ge, gg, gj, gl;
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
end else begin : g_word
    // The logic formulation's arithmetic in its own association, so that an equivalence checker matches the two
    // node for node: per digit, the products summed by a balanced tree (nodes 2i and 2i+1 of each level, an odd
    // node out passing up), then the digit sums combined weighted 2^(k*D). The tree's lowest four levels are one
    // expression per chunk of CHUNK = 16 elements (zero-padded), registered once: Verilator evaluates it as a few
    // instructions per element. The upper levels add the chunk sums, then a delay line makes up LATENCY.
    // the inputs in whole digits, element e's digit k at xd[(e*NDIG + k)*D +: D], zero-padded to G*CHUNK elements
    wire [G*CHUNK*NDIG*D-1:0] xd;
    if (NDIG*D == XB) begin : g_xd_whole
        // the digits are the inputs' own bits: one copy, zero-padded
        if (G*CHUNK > SIMD) begin : g_pad
            assign xd = {{((G*CHUNK-SIMD)*XB){1'b0}}, x};
        end else begin : g_full
            assign xd = x;
        end
    end else begin : g_xd_part
        for (ge = 0; ge < G*CHUNK; ge = ge + 1) begin : g_xd
            if (ge < SIMD) begin : g_part
                assign xd[ge*NDIG*D +: NDIG*D] = {{(NDIG*D-XB){1'b0}}, x[ge*XB +: XB]};
            end else begin : g_pad
                assign xd[ge*NDIG*D +: NDIG*D] = {NDIG*D{1'b0}};
            end
        end
    end
    // SWAR (4-bit weights, digits of at most 2 bits at a stride of 1, 2, 4 or 8 bits per element): per chunk and
    // digit, shared by the lanes, t = the 16 digits one per nibble, the masks M_m (nibble e all ones when bit m
    // of digit e is set) and CC (byte i: 2^DW - 8 * (digit 2i + digit 2i+1), the level-1 offset less the
    // weights' offset times the digits).
    /* verilator lint_off UNUSEDSIGNAL */  // without SWAR
    reg [63:0] sw_mask [0:NDIG*G*D-1];
    reg [63:0] sw_cc [0:NDIG*G-1];
    // t: the 16 digits of chunk c, digit k one per nibble (one block per layout, so that each selects in range)
    reg [63:0] sw_t [0:NDIG*G-1];
    /* verilator lint_on UNUSEDSIGNAL */
    if (SWAR && XS == 1) begin : g_spread1
        integer c;
        always @* for (c = 0; c < G; c = c + 1) sw_t[c] = spread1(xd[c*16 +: 16]);
    end else if (SWAR && XS == 2) begin : g_spread2
        integer c;
        always @* for (c = 0; c < G; c = c + 1) sw_t[c] = spread2(xd[c*32 +: 32]);
    end else if (SWAR && XS == 4) begin : g_spread4
        integer c, k;
        always @* for (c = 0; c < G; c = c + 1)
            for (k = 0; k < NDIG; k = k + 1) sw_t[k*G + c] = (xd[c*64 +: 64] >> (k*D)) & DIGIT_NIBBLES;
    end else if (SWAR) begin : g_spread8
        reg [63:0] lo, hi;
        integer c, k;
        always @* for (c = 0; c < G; c = c + 1)
            for (k = 0; k < NDIG; k = k + 1) begin
                lo = (xd[c*128 +: 64] >> (k*D)) & DIGIT_BYTES;
                hi = (xd[c*128 + 64 +: 64] >> (k*D)) & DIGIT_BYTES;
                lo = (lo | (lo >> 4))  & 64'h00FF00FF00FF00FF;
                lo = (lo | (lo >> 8))  & 64'h0000FFFF0000FFFF;
                lo = (lo | (lo >> 16)) & 64'h00000000FFFFFFFF;
                hi = (hi | (hi >> 4))  & 64'h00FF00FF00FF00FF;
                hi = (hi | (hi >> 8))  & 64'h0000FFFF0000FFFF;
                hi = (hi | (hi >> 16)) & 64'h00000000FFFFFFFF;
                sw_t[k*G + c] = lo | (hi << 32);
            end
    end
    if (SWAR) begin : g_masks
        integer c, m;
        always @*
            for (c = 0; c < NDIG*G; c = c + 1) begin
                for (m = 0; m < D; m = m + 1)
                    sw_mask[c*D + m] = ((sw_t[c] >> m) & 64'h1111111111111111) * 64'd15;
                sw_cc[c] = CC_BASE - (((sw_t[c] & 64'h0F0F0F0F0F0F0F0F)
                                       + ((sw_t[c] >> 4) & 64'h0F0F0F0F0F0F0F0F)) << 3);
            end
    end
    for (gp = 0; gp < PE; gp = gp + 1) begin : g_lane
        // the lane's weights, zero-padded to G*CHUNK elements (a zero digit makes a padded product 0)
        wire [G*CHUNK*WEIGHT_BITS-1:0] wl;
        if (G*CHUNK > SIMD) begin : g_wpad
            assign wl = {{((G*CHUNK-SIMD)*WEIGHT_BITS){1'b0}}, w[gp*SIMD*WEIGHT_BITS +: SIMD*WEIGHT_BITS]};
        end else begin : g_wfull
            assign wl = w[gp*SIMD*WEIGHT_BITS +: SIMD*WEIGHT_BITS];
        end
        // registered chunk sums: chunk c of digit k in g_chunk[c].g_swar.g_dig[k].cs (g_terms without SWAR), one
        // register each, and the upper levels as generate-level wires: Verilator gives an unpacked array written in
        // a clocked loop a delayed-assignment copy per element, and evaluates loops over arrays in `always @*`
        // element by element (5 % of the instructions per simulated cycle on tiny)
        for (gg = 0; gg < G; gg = gg + 1) begin : g_chunk
            if (SWAR) begin : g_swar
                // the chunk's 16 weights are one 64-bit word of nibbles (offset binary u = W + 8); per digit:
                //   A_m = U & M_m (u where bit m of the digit is set), S_m = its nibble pairs added into bytes,
                //   L1 = S_0 + 2 S_1 + CC: byte i = q(2i) + q(2i+1), q(e) = (u_e - 8) * digit_e + 2^(DW-1),
                // i.e. the adder tree's level-1 node in offset binary (its top bit inverted); L2..L4 add
                // neighbouring fields the same way (levels 2..4, offsets 2^(DW+l-1)); cs has the offset removed.
                // No field ever carries into the next (bytes <= 154, then <= 2^(DW+l)).
                wire [63:0] uw = wl[gg*CHUNK*WEIGHT_BITS +: 64];
                for (gd = 0; gd < NDIG; gd = gd + 1) begin : g_dig
                    reg [ACC_BITS-1:0] cs;
                    reg [63:0] a, sm, l1, l2, l3, l4;
                    integer m;
                    /* verilator lint_off BLKSEQ */  // a, sm, l1..l4: temporaries of the clocked block
                    always @(posedge clk) begin
                        l1 = sw_cc[gd*G + gg];
                        for (m = 0; m < D; m = m + 1) begin
                            a = uw & sw_mask[(gd*G + gg)*D + m];
                            sm = (a & 64'h0F0F0F0F0F0F0F0F) + ((a >> 4) & 64'h0F0F0F0F0F0F0F0F);
                            l1 = l1 + (sm << m);
                        end
                        // level 2 into the even bytes' 16-bit fields (a sum <= 212 stays in its byte); levels 3
                        // and 4 without masks: field 0 of l3 is f0 + f1, of l4 (f0 + f1) + (f2 + f3) (<= 848)
                        l2 = (l1 + (l1 >> 8)) & 64'h00FF00FF00FF00FF;
                        l3 = l2 + (l2 >> 16);
                        l4 = l3 + (l3 >> 32);
                        l4 = (l4 & 64'h000000000000FFFF) - SWAR_OFFSET;
                        cs <= l4[ACC_BITS-1:0];
                    end
                    /* verilator lint_on BLKSEQ */
                end
            end else begin : g_terms
                // the adder tree's first four levels over the chunk's products: ((t0+t1)+(t2+t3))+...
`define SPIKEFLOW_TERM(i) (({{(ACC_BITS-WEIGHT_BITS){1'b0}}, wl[(gg*CHUNK + i)*WEIGHT_BITS +: WEIGHT_BITS]} - W_OFFSET) \
                           * {{(ACC_BITS-D){1'b0}}, xd[((gg*CHUNK + i)*NDIG + gd)*D +: D]})
                for (gd = 0; gd < NDIG; gd = gd + 1) begin : g_dig
                    reg [ACC_BITS-1:0] cs;
                    always @(posedge clk)
                        cs <= (((`SPIKEFLOW_TERM(0) + `SPIKEFLOW_TERM(1)) + (`SPIKEFLOW_TERM(2) + `SPIKEFLOW_TERM(3)))
                             + ((`SPIKEFLOW_TERM(4) + `SPIKEFLOW_TERM(5)) + (`SPIKEFLOW_TERM(6) + `SPIKEFLOW_TERM(7))))
                            + (((`SPIKEFLOW_TERM(8) + `SPIKEFLOW_TERM(9)) + (`SPIKEFLOW_TERM(10) + `SPIKEFLOW_TERM(11)))
                             + ((`SPIKEFLOW_TERM(12) + `SPIKEFLOW_TERM(13)) + (`SPIKEFLOW_TERM(14) + `SPIKEFLOW_TERM(15))));
                end
`undef SPIKEFLOW_TERM
            end
        end
        // per digit, the chunk sums added as the adder tree's upper levels: level l, node c (c a multiple of 2^l)
        // = node c + node c + 2^(l-1) of level l-1 (an odd node out passes up); the digit's sum is node 0 of the top
        for (gd = 0; gd < NDIG; gd = gd + 1) begin : g_up
            for (gl = 0; gl <= UP_LVLS; gl = gl + 1) begin : g_lvl
                for (gg = 0; gg < G; gg = gg + 1) begin : g_node
                    /* verilator lint_off UNUSEDSIGNAL */  // nodes other than multiples of 2^l
                    wire [ACC_BITS-1:0] n;
                    /* verilator lint_on UNUSEDSIGNAL */
                    if (gl == 0 && SWAR) begin : g_leaf_swar
                        assign n = g_chunk[gg].g_swar.g_dig[gd].cs;
                    end else if (gl == 0) begin : g_leaf_terms
                        assign n = g_chunk[gg].g_terms.g_dig[gd].cs;
                    end else if (gg % (1 << gl) == 0 && gg + (1 << (gl - 1)) < G) begin : g_add
                        assign n = g_lvl[gl-1].g_node[gg].n + g_lvl[gl-1].g_node[gg + (1 << (gl - 1))].n;
                    end else if (gg % (1 << gl) == 0) begin : g_pass
                        assign n = g_lvl[gl-1].g_node[gg].n;
                    end else begin : g_none
                        assign n = {ACC_BITS{1'b0}};
                    end
                end
            end
        end
        // the digit sums weighted 2^(k*D), in the association of the logic formulation's combining tree: level s,
        // node k (a multiple of 2^s) = node k + (node k + 2^(s-1) << D*2^(s-1)) of level s-1
        for (gl = 0; gl <= DIG_LVLS; gl = gl + 1) begin : g_comb
            for (gd = 0; gd < NDIG; gd = gd + 1) begin : g_node
                /* verilator lint_off UNUSEDSIGNAL */
                wire [ACC_BITS-1:0] n;
                /* verilator lint_on UNUSEDSIGNAL */
                if (gl == 0) begin : g_leaf
                    assign n = g_up[gd].g_lvl[UP_LVLS].g_node[0].n;
                end else if (gd % (1 << gl) == 0 && gd + (1 << (gl - 1)) < NDIG) begin : g_add
                    assign n = g_comb[gl-1].g_node[gd].n + (g_comb[gl-1].g_node[gd + (1 << (gl - 1))].n << (D * (1 << (gl - 1))));
                end else if (gd % (1 << gl) == 0) begin : g_pass
                    assign n = g_comb[gl-1].g_node[gd].n;
                end else begin : g_none
                    assign n = {ACC_BITS{1'b0}};
                end
            end
        end
        // the delay line: LATENCY - 1 registers after the chunk sums
        wire [LATENCY*ACC_BITS-1:0] dl;
        assign dl[0 +: ACC_BITS] = g_comb[DIG_LVLS].g_node[0].n;
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

`resetall
