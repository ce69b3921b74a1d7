// FewdIF neuron unit: for each input window computes V[k] = bias[k] + sum_e W[k,e] * x[e] for all OUT_CH
// output channels and, when FIRE=1, emits per channel the spike count #{j : V >= thr[k,j]}; when FIRE=0
// (head) it emits V itself.
//
// Folding: PE output channels and SIMD window elements are processed per cycle, so one window takes
// (OUT_CH/PE) * (N_IN/SIMD) * PASSES cycles. TIME_PARALLEL=1 integrates all of an input at once (PASSES=1):
// W*x, for spikes with x = min(x, IN_MAX), the sum of W over the timesteps where the spike train is 1.
// TIME_PARALLEL=0 does one plane per pass: spike counts (IN_KIND=1) in IN_MAX thermometer timesteps
// (plane t: x > t), pixels (IN_KIND=0) in IN_BITS bit planes (weight 2^t). All foldings give the same bits:
// arithmetic is exact modulo 2^ACC_BITS and ACC_BITS holds the final V.
//
// Window element e is s_axis_tdata[e*IN_BITS +: IN_BITS]. Output channel k is at m_axis_tdata[k*OB +: OB].
// ROM images (generated): weights word nf*SF+sf holds W[nf*PE+pe][sf*SIMD+s] at bit (pe*SIMD+s)*WEIGHT_BITS
// in offset binary (W + 2^(WEIGHT_BITS-1), unsigned);
// bias word nf holds bias[nf*PE+pe] at pe*ACC_BITS; thresholds word nf holds thr[nf*PE+pe][j] at
// (pe*THRESHOLDS+j)*ACC_BITS.
//
// Arithmetic at natural width. An input x (after clamping, XB bits) is split into NDIG digits of D bits,
// D = 6 - WEIGHT_BITS (at least 1, at most XB): the product of a weight with one digit is a function of
// WEIGHT_BITS + D <= 6 bits, one LUT level (bit-sliced logic), DW = WEIGHT_BITS + D bits wide. For each PE
// lane and digit a balanced registered adder tree (spikeflow_adder_tree: one carry chain per stage, widths
// growing one bit per level) sums the SIMD digit products; when NDIG > 1 a second tree combines the NDIG
// digit sums weighted 2^(k*D). Spikes with 4-bit weights: one 6-input product per element. 8-bit pixels: four
// 2-bit digits. Serial passes: the plane bit selects W (AND), a pixel plane's lane sum is shifted by t when
// accumulated. USE_DSP=1 (pixels, TIME_PARALLEL=1 only) computes W*x with one registered multiply per element
// instead, which synthesis maps to DSP slices.
//
// Pipeline: free running (no enable), an item per cycle when the input is valid:
//   S0 issue: weight ROM address, the SIMD inputs of the current slice (clamped, or the plane bit) -> S1;
//   S2: weight ROM data (registered BRAM output, two cycles after the address), inputs delayed to match;
//       digit products (LUTs) feed the adder trees; S2+TREE_LAT: lane sum;
//   SP: accumulate (bias from its ROM, read at SP-2, when the item is the first of a channel group);
//   SP+1: compare with the thresholds (ROM read at SP-1), the spike count of the compare bits (spikeflow_fire)
//         -> a register;
//   SP+2: collect the channel groups; a finished window is written to the output FIFO (OUT_DEPTH entries,
//         distributed RAM), which m_axis reads. The register between compare and FIFO write keeps the
//         compares' carry chains and the FIFO's write port in different cycles (nextpnr's critical path on
//         the ECP5 ran from the threshold ROM through the compare and the count into the FIFO RAM).
// Back-pressure never stops the pipeline: a window is only started when its result has a FIFO entry
// reserved (credit counter, registered `room` flag), so m_axis_tready reaches only the FIFO read side and the
// credit counter, and s_axis_tready depends on this unit's registers and s_axis_tvalid alone. OUT_DEPTH
// covers the windows in flight, so a ready output never slows the unit. The window stays in the producer's
// output register (no copy): s_axis_tready is asserted with the issue of the window's last item.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module spikeflow_neuron #(
    parameter N_IN = 9,            // window elements (kernel*kernel*in_channels)
    parameter IN_BITS = 2,         // bits per input element
    parameter IN_KIND = 1,         // 0: pixels (binary planes), 1: spike counts (thermometer planes)
    parameter IN_MAX = 3,          // largest input value; for spikes the number of input timesteps
    parameter OUT_CH = 4,          // output channels
    parameter PE = 1,              // output channels per cycle, divides OUT_CH
    parameter SIMD = 1,            // window elements per cycle, divides N_IN
    parameter TIME_PARALLEL = 1,   // 1: all input timesteps/planes per cycle, 0: one per pass
    parameter WEIGHT_BITS = 4,     // signed weight width
    parameter ACC_BITS = 16,       // signed accumulator width (worst case of V and thresholds)
    parameter FIRE = 1,            // 1: emit spike counts, 0: emit V (head)
    parameter THRESHOLDS = 3,      // thresholds per channel (output timesteps T)
    parameter OUT_BITS = 2,        // bits of an output spike count, >= clog2(THRESHOLDS+1)
    parameter USE_DSP = 0,         // 1: pixel products W*x as multiplies (DSP slices); pixels, TIME_PARALLEL=1
    parameter WEIGHT_FILE = "",    // $readmemh image of the weights
    parameter BIAS_FILE = "",      // $readmemh image of the biases
    parameter THRESH_FILE = "",    // $readmemh image of the thresholds (FIRE=1)
    parameter RESIDUAL = 0,        // 1: a shortcut stream adds its counts, shifted per channel, to V (residual add)
    parameter RES_BITS = 2,        // bits of a shortcut count (RESIDUAL=1)
    parameter RES_SHIFT_FILE = ""  // $readmemh image of the per-channel shifts: NF words of PE x RES_SHW bits
) (
    input  wire                            clk,
    input  wire                            rst,
    input  wire [N_IN*IN_BITS-1:0]         s_axis_tdata,
    input  wire                            s_axis_tvalid,
    output wire                            s_axis_tready,
    // RESIDUAL=1: the shortcut's counts at each output position (channel k at [k*RES_BITS +: RES_BITS]), one item
    // per window, in the windows' order; unused (tie tvalid low) when RESIDUAL=0
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [OUT_CH*RES_BITS-1:0]      r_axis_tdata,
    input  wire                            r_axis_tvalid,
    /* verilator lint_on UNUSEDSIGNAL */
    output wire                            r_axis_tready,
    output wire [OUT_CH*(FIRE ? OUT_BITS : ACC_BITS)-1:0] m_axis_tdata,
    output wire                            m_axis_tvalid,
    input  wire                            m_axis_tready
);

localparam OB = FIRE ? OUT_BITS : ACC_BITS;
localparam SF = N_IN / SIMD;
localparam NF = OUT_CH / PE;
localparam PLANES = IN_KIND ? IN_MAX : IN_BITS;
localparam PASSES = TIME_PARALLEL ? 1 : PLANES;
localparam SFW = SF > 1 ? $clog2(SF) : 1;
localparam NFW = NF > 1 ? $clog2(NF) : 1;
localparam TW = 9;  // pass / plane index width (PLANES <= 255)
localparam WAW = SF * NF > 1 ? $clog2(SF * NF) : 1;
localparam integer SF_LAST_I = SF - 1;
localparam integer NF_LAST_I = NF - 1;
localparam integer T_LAST_I = PASSES - 1;
localparam [SFW-1:0] SF_LAST = SF_LAST_I[SFW-1:0];
localparam [NFW-1:0] NF_LAST = NF_LAST_I[NFW-1:0];
localparam [TW-1:0] T_LAST = T_LAST_I[TW-1:0];
// thresholds as stored: packed (synthesis), or in the fast harness one per 32-bit field (spikeflow_rom LAYOUT 2), so
// that each is a word load
`ifdef SPIKEFLOW_WORD_ARITH
localparam THR_STRIDE = ACC_BITS <= 32 ? 32 : ACC_BITS;
`else
localparam THR_STRIDE = ACC_BITS;
`endif
localparam THR_LAYOUT = THR_STRIDE != ACC_BITS ? 2 : 0;
localparam THR_W = !FIRE ? 1 : THR_LAYOUT == 2 ? (PE * THRESHOLDS + 1) / 2 * 64 : PE * THRESHOLDS * ACC_BITS;
localparam CLAMP = (IN_KIND == 1) && (IN_MAX < (1 << IN_BITS) - 1);
localparam integer IN_MAX_I = IN_MAX;
localparam [IN_BITS-1:0] IN_MAX_V = IN_MAX_I[IN_BITS-1:0];
localparam DSP = (USE_DSP != 0) && (IN_KIND == 0) && (TIME_PARALLEL != 0);
// input bits that reach the products: the clamped count or pixel (parallel), or the plane bit (serial)
localparam XB = TIME_PARALLEL == 0 ? 1 : (IN_KIND == 1 ? $clog2(IN_MAX + 1) : IN_BITS);
localparam D_LUT = WEIGHT_BITS >= 5 ? 1 : 6 - WEIGHT_BITS;
localparam D = DSP ? XB : (D_LUT < XB ? D_LUT : XB);  // digit bits
localparam NDIG = (XB + D - 1) / D;                  // digits per input
localparam SIMD_LVLS = SIMD > 1 ? $clog2(SIMD) : 0;
localparam MUL_LAT = DSP ? 1 : 0;                    // registered multiply (DSP M register)
localparam TREE_LAT = MUL_LAT + (SIMD_LVLS > 0 ? SIMD_LVLS : 1)
                    + (NDIG > 1 ? $clog2(NDIG) : 0); // products at S2 -> lane sum
localparam SP = 2 + TREE_LAT;                        // accumulate stage
localparam CTW = 3 + NFW + TW;                       // control: first, last, flush, nf, t
localparam ROM_LAT = 2;                              // spikeflow_rom with OUT_REG=1
// Memory placement (see rtl/README.md): a ROM goes to LUTs when each of its bits is a function of at most a
// few address bits that the logic reading it absorbs, else to block RAM with the output register:
//   weights: LUTs when clog2(SF*NF) + D <= 6 (a digit product stays one 6-input LUT with the weight
//            folded in; up to 16 words with 2-bit digits, 32 with 1-bit), block RAM otherwise;
//   bias and thresholds: LUTs when NF <= 64 (one LUT6 per bit), block RAM otherwise.
// UltraRAM is not used: it cannot be initialised by the bitstream.
localparam WAW_BITS = SF * NF > 1 ? $clog2(SF * NF) : 0;
localparam WEIGHT_STYLE = (!DSP && WAW_BITS + D <= 6) ? "logic" : "block";
localparam PARAM_STYLE = NF <= 64 ? "logic" : "block";
localparam CPW = SF * NF * PASSES;                   // cycles per window
localparam FP = SP + 2;                              // collect and output FIFO write stage
// output FIFO: the windows in flight from the first issue to the read of the result (FP+CPW+2 cycles: the last
// item issued at CPW-1 is written at FP+CPW-1, readable one cycle later, and the credit returns through the
// `outstanding` and `room` registers)
localparam IN_FLIGHT = (FP + CPW + 2 + CPW - 1) / CPW + 1;
localparam OUT_DEPTH = IN_FLIGHT <= 2 ? 2 : (1 << $clog2(IN_FLIGHT));
localparam OCW = $clog2(OUT_DEPTH) + 1;             // credit counter width (0..OUT_DEPTH)
localparam [OCW-1:0] OUT_DEPTH_V = OUT_DEPTH[OCW-1:0];
localparam RES_SHW = 5;                              // bits of a residual shift (0..24)

initial begin
    if (N_IN < 1 || OUT_CH < 1) $error("spikeflow_neuron: N_IN and OUT_CH must be >= 1");
    if (PE < 1 || OUT_CH % PE != 0) $error("spikeflow_neuron: PE must divide OUT_CH");
    if (SIMD < 1 || N_IN % SIMD != 0) $error("spikeflow_neuron: SIMD must divide N_IN");
    if (IN_BITS < 1 || IN_BITS > 8) $error("spikeflow_neuron: IN_BITS must be 1..8");
    if (IN_KIND != 0 && IN_KIND != 1) $error("spikeflow_neuron: IN_KIND must be 0 (pixels) or 1 (spikes)");
    if (IN_KIND == 1 && (IN_MAX < 1 || IN_MAX >= (1 << IN_BITS)))
        $error("spikeflow_neuron: spike IN_MAX must be 1..2^IN_BITS-1");
    if (TIME_PARALLEL != 0 && TIME_PARALLEL != 1) $error("spikeflow_neuron: TIME_PARALLEL must be 0 or 1");
    if (WEIGHT_BITS < 1 || ACC_BITS <= WEIGHT_BITS || ACC_BITS <= IN_BITS)
        $error("spikeflow_neuron: ACC_BITS must exceed WEIGHT_BITS and IN_BITS");
    if (FIRE != 0 && FIRE != 1) $error("spikeflow_neuron: FIRE must be 0 or 1");
    if (FIRE == 1 && (THRESHOLDS < 1 || (1 << OUT_BITS) <= THRESHOLDS))
        $error("spikeflow_neuron: OUT_BITS too small for THRESHOLDS");
    if (USE_DSP != 0 && USE_DSP != 1) $error("spikeflow_neuron: USE_DSP must be 0 or 1");
    if (RESIDUAL != 0 && RESIDUAL != 1) $error("spikeflow_neuron: RESIDUAL must be 0 or 1");
    if (RESIDUAL != 0 && FIRE == 0) $error("spikeflow_neuron: a residual add belongs to a firing layer");
end

// ---------------------------------------------------------------- S0: issue
reg [NFW-1:0] nf;
wire [SFW-1:0] sf;    // the slice of the window (spikeflow_slice_select, below)
reg [TW-1:0]  tp;
reg [WAW-1:0] waddr;  // weight word nf*SF + sf

reg [OCW-1:0] outstanding;  // windows started whose result has not been read
reg           room;         // outstanding < OUT_DEPTH: a window may start

wire win_first = (sf == 0) && (tp == 0) && (nf == 0);
// a window starts when its output FIFO entry is free and (RESIDUAL=1) its shortcut item is there; the shortcut is
// taken then, into a queue read when the window's items are accumulated
wire shortcut_ok = RESIDUAL == 0 || r_axis_tvalid;
wire issue = s_axis_tvalid && (!win_first || (room && shortcut_ok));
wire iter_last = (sf == SF_LAST) && (tp == T_LAST);
wire win_last = iter_last && (nf == NF_LAST);
wire out_read;

assign s_axis_tready = issue && win_last;
assign r_axis_tready = RESIDUAL != 0 && issue && win_first;

wire [OCW-1:0] outstanding_next = outstanding + {{(OCW-1){1'b0}}, issue && win_first}
                                  - {{(OCW-1){1'b0}}, out_read};
always @(posedge clk) begin
    if (rst) begin
        outstanding <= 0;
        room <= 1'b1;
    end else begin
        outstanding <= outstanding_next;
        room <= outstanding_next != OUT_DEPTH_V;
    end
end

always @(posedge clk) begin
    if (rst) begin
        nf <= 0;
        tp <= 0;
        waddr <= 0;
    end else if (issue) begin
        if (tp == T_LAST) begin
            tp <= 0;
            waddr <= win_last ? {WAW{1'b0}} : waddr + 1'b1;
            if (sf == SF_LAST) nf <= nf == NF_LAST ? {NFW{1'b0}} : nf + 1'b1;
        end else begin
            tp <= tp + 1'b1;
        end
    end
end

// the slice of the window this item works on (sf advances with the last pass over a slice), reduced below to what
// the products need: an AND-OR select with a one-hot register for synthesis, a part-select in the fast harness,
// proven equal (spikeflow_slice_select)
wire [SIMD*IN_BITS-1:0] xs;
spikeflow_slice_select #(.SF(SF), .WIDTH(SIMD*IN_BITS), .SFW(SFW))
    u_slice (.clk(clk), .rst(rst), .step(issue && tp == T_LAST), .window(s_axis_tdata), .sf(sf), .slice(xs));
wire [SIMD*XB-1:0]      x0;

genvar ge;
generate
    for (ge = 0; ge < SIMD; ge = ge + 1) begin : g_x
        wire [IN_BITS-1:0] xe = xs[ge*IN_BITS +: IN_BITS];
        if (TIME_PARALLEL == 0 && IN_KIND == 0) begin : g_bit
            assign x0[ge] = |({{(TW-IN_BITS){1'b0}}, xe} & ({{(TW-1){1'b0}}, 1'b1} << tp));  // bit plane t
        end else if (TIME_PARALLEL == 0) begin : g_spike
            assign x0[ge] = {{(TW-IN_BITS){1'b0}}, xe} > tp;  // the spike of timestep t
        end else if (CLAMP) begin : g_clamp
            wire [IN_BITS-1:0] xc = xe > IN_MAX_V ? IN_MAX_V : xe;
            assign x0[ge*XB +: XB] = xc[XB-1:0];
        end else begin : g_pass
            assign x0[ge*XB +: XB] = xe[XB-1:0];
        end
    end
endgenerate

// control of the item in each stage: valid bits (reset) and {first, last, flush, nf, t}
reg  [FP:1]     vp;
/* verilator lint_off UNUSEDSIGNAL */
reg  [CTW-1:0]  ctl [1:FP];  // not every field is read in every stage
/* verilator lint_on UNUSEDSIGNAL */
wire [CTW-1:0]  ctl0 = {(sf == 0) && (tp == 0), iter_last, win_last, nf, tp};
localparam C_FIRST = CTW - 1;
localparam C_LAST = CTW - 2;
localparam C_FLUSH = CTW - 3;

integer k;
always @(posedge clk) begin
    ctl[1] <= ctl0;
    for (k = 2; k <= FP; k = k + 1) ctl[k] <= ctl[k-1];
end

always @(posedge clk) begin
    if (rst) vp <= 0;
    else vp <= {vp[FP-1:1], issue};
end

// ---------------------------------------------------------------- S1, S2: weight ROM data, inputs
// spikeflow_lane_sum: the logic formulation for synthesis; when SPIKEFLOW_WORD_ARITH is defined (the fast harness)
// a word formulation, diagonals or packed products, whichever takes fewer 64-bit operations per lane, with the
// weight ROM's words arranged for it. The two are proven equal per instance (spikeflow.backends.rtl.equivalence).
/* verilator lint_off UNUSEDPARAM */  // without SPIKEFLOW_WORD_ARITH
localparam MAXP = ((1 << WEIGHT_BITS) - 1) * ((1 << XB) - 1);  // the largest product u * x
localparam MUL_R = MAXP < 32 ? 8 : (MAXP < 16384 ? 4 : (MAXP < 2147483647 ? 2 : 1));  // MUL_R * MAXP < 2^(64/MUL_R)
localparam MUL_WORDS = (SIMD + MUL_R - 1) / MUL_R;   // multiplies per lane (packed products)
localparam DIAG_WORDS = ((SIMD * XB + 63) / 64) * (WEIGHT_BITS + XB - 1);  // popcounts per lane (diagonals)
localparam DIAG_OK = XB == 1 || XB == 2 || XB == 4 || XB == 8;
/* verilator lint_on UNUSEDPARAM */
`ifdef SPIKEFLOW_WORD_ARITH
localparam ARITH_FORM = DIAG_OK && DIAG_WORDS <= MUL_WORDS ? 1 : 2;
`else
localparam ARITH_FORM = 0;
`endif
localparam W_WIDTH = ARITH_FORM == 2 ? PE * MUL_WORDS * 64
                   : ARITH_FORM == 1 ? PE * DIAG_WORDS * 64 : PE * SIMD * WEIGHT_BITS;
wire [W_WIDTH-1:0]             w2;
reg  [SIMD*XB-1:0]             x1, x2;

spikeflow_rom #(.WIDTH(W_WIDTH), .DEPTH(SF*NF), .ADDR_WIDTH(WAW), .OUT_REG(1), .STYLE(ARITH_FORM != 0 ? "logic" : WEIGHT_STYLE),
                .INIT_FILE(WEIGHT_FILE), .IMAGE_WIDTH(PE*SIMD*WEIGHT_BITS),
                .LAYOUT(ARITH_FORM),
                .FIELD_BITS(WEIGHT_BITS), .FIELDS(SIMD), .X_BITS(XB), .STRIDE(64 / MUL_R))
    u_wrom (.clk(clk), .en(1'b1), .addr(waddr), .data(w2));

always @(posedge clk) begin
    x1 <= x0;
    x2 <= x1;
end

// ---------------------------------------------------------------- S2 ..: products and adder trees
wire [PE*ACC_BITS-1:0] psum;  // lane sums at stage SP

spikeflow_lane_sum #(.PE(PE), .SIMD(SIMD), .WEIGHT_BITS(WEIGHT_BITS), .XB(XB), .ACC_BITS(ACC_BITS), .D(D),
                     .DSP(DSP ? 1 : 0), .LATENCY(TREE_LAT), .FORM(ARITH_FORM),
                     .MUL_R(MUL_R))
    u_lanes (.clk(clk), .w(w2), .x(x2), .psum(psum));

// ---------------------------------------------------------------- SP: accumulate
wire [PE*ACC_BITS-1:0] bias;  // at SP
/* verilator lint_off UNUSEDSIGNAL */
wire [THR_W-1:0] thr;         // at SP+1; unused (constant 0) when FIRE=0
/* verilator lint_on UNUSEDSIGNAL */
wire [CTW-1:0] ca = ctl[SP];   // the item being accumulated
wire [CTW-1:0] cc = ctl[FP];   // the item being collected

spikeflow_rom #(.WIDTH(PE*ACC_BITS), .DEPTH(NF), .ADDR_WIDTH(NFW), .OUT_REG(1), .STYLE(PARAM_STYLE),
                .INIT_FILE(BIAS_FILE))
    u_brom (.clk(clk), .en(1'b1), .addr(ctl[SP-ROM_LAT][TW +: NFW]), .data(bias));
generate
    if (FIRE) begin : g_thr
        spikeflow_rom #(.WIDTH(THR_W), .DEPTH(NF), .ADDR_WIDTH(NFW), .OUT_REG(1),
                        .STYLE(THR_LAYOUT != 0 ? "logic" : PARAM_STYLE), .INIT_FILE(THRESH_FILE),
                        .IMAGE_WIDTH(PE*THRESHOLDS*ACC_BITS), .LAYOUT(THR_LAYOUT), .FIELD_BITS(ACC_BITS),
                        .FIELDS(PE*THRESHOLDS), .STRIDE(THR_STRIDE))
            u_trom (.clk(clk), .en(1'b1), .addr(ctl[SP+1-ROM_LAT][TW +: NFW]), .data(thr));
    end else begin : g_nothr
        assign thr = {THR_W{1'b0}};
    end
endgenerate

genvar gp;
// RESIDUAL=1: the shortcut term of the item at SP, channel group nf: (count << shift) per lane, added with the bias
/* verilator lint_off UNUSEDSIGNAL */
wire [PE*ACC_BITS-1:0] shortcut;  // unused (constant 0) when RESIDUAL=0
/* verilator lint_on UNUSEDSIGNAL */
generate
    if (RESIDUAL) begin : g_res
        localparam RQW = $clog2(OUT_DEPTH);
        // the shortcut items of the windows in flight (at most OUT_DEPTH: a window starts only with room)
        reg [OUT_CH*RES_BITS-1:0] rq [0:OUT_DEPTH-1];
        reg [RQW-1:0] rq_wr, rq_rd;
        always @(posedge clk) begin
            if (r_axis_tvalid && r_axis_tready) rq[rq_wr] <= r_axis_tdata;
        end
        always @(posedge clk) begin
            if (rst) begin
                rq_wr <= 0;
                rq_rd <= 0;
            end else begin
                if (r_axis_tvalid && r_axis_tready) rq_wr <= rq_wr + 1'b1;
                if (vp[SP] && ca[C_FLUSH]) rq_rd <= rq_rd + 1'b1;  // the window's last item accumulated
            end
        end
        wire [OUT_CH*RES_BITS-1:0] head = rq[rq_rd];
        wire [PE*RES_BITS-1:0] group_counts = head[ca[TW +: NFW]*PE*RES_BITS +: PE*RES_BITS];
        wire [PE*RES_SHW-1:0] shifts;  // at SP
        spikeflow_rom #(.WIDTH(PE*RES_SHW), .DEPTH(NF), .ADDR_WIDTH(NFW), .OUT_REG(1), .STYLE(PARAM_STYLE),
                        .INIT_FILE(RES_SHIFT_FILE))
            u_srom (.clk(clk), .en(1'b1), .addr(ctl[SP-ROM_LAT][TW +: NFW]), .data(shifts));
        for (gp = 0; gp < PE; gp = gp + 1) begin : g_lane
            wire [ACC_BITS-1:0] n = {{(ACC_BITS-RES_BITS){1'b0}}, group_counts[gp*RES_BITS +: RES_BITS]};
            assign shortcut[gp*ACC_BITS +: ACC_BITS] = n << shifts[gp*RES_SHW +: RES_SHW];
        end
    end else begin : g_nores
        assign shortcut = {PE*ACC_BITS{1'b0}};
    end
endgenerate

reg  [PE*ACC_BITS-1:0] acc;  // V of the item at SP+1 (so far, for its channel group)
reg  [PE*OB-1:0]       group;  // its spike counts (FIRE=1) or V (FIRE=0) at FP

generate
    for (gp = 0; gp < PE; gp = gp + 1) begin : g_acc
        wire [ACC_BITS-1:0] first;  // the bias, plus the shortcut term with RESIDUAL=1
        if (RESIDUAL) begin : g_first_res
            assign first = bias[gp*ACC_BITS +: ACC_BITS] + shortcut[gp*ACC_BITS +: ACC_BITS];
        end else begin : g_first
            assign first = bias[gp*ACC_BITS +: ACC_BITS];
        end
        wire [ACC_BITS-1:0] base = ca[C_FIRST] ? first : acc[gp*ACC_BITS +: ACC_BITS];
        wire [ACC_BITS-1:0] ps = psum[gp*ACC_BITS +: ACC_BITS];
        wire [ACC_BITS-1:0] term;
        if (TIME_PARALLEL == 0 && IN_KIND == 0) begin : g_shift
            assign term = ps << ca[2:0];  // bit plane t weighs 2^t
        end else begin : g_noshift
            assign term = ps;
        end
        always @(posedge clk) begin
            if (vp[SP]) acc[gp*ACC_BITS +: ACC_BITS] <= base + term;
        end
        // SP+1: fire
        wire [ACC_BITS-1:0] a = acc[gp*ACC_BITS +: ACC_BITS];
        if (FIRE) begin : g_fire
            // the count of thresholds passed (spikeflow_fire: logic for synthesis, words in the fast harness)
            wire [OB-1:0] cnt;
            spikeflow_fire #(.ACC_BITS(ACC_BITS), .THRESHOLDS(THRESHOLDS), .OB(OB), .STRIDE(THR_STRIDE))
                u_fire (.v(a), .thr(thr[gp*THRESHOLDS*THR_STRIDE +: THRESHOLDS*THR_STRIDE]), .count(cnt));
            always @(posedge clk) group[gp*OB +: OB] <= cnt;
        end else begin : g_v
            always @(posedge clk) group[gp*OB +: OB] <= a;
        end
    end
endgenerate

// ---------------------------------------------------------------- FP: collect
// channels are collected by shifting groups in from the top: after NF groups group 0 is at the bottom.
// keep_en: the item entering FP ends a channel group (a register, so its fanout is a register's)
wire [OUT_CH*OB-1:0] collect_next;
generate
    if (NF > 1) begin : g_coll
        reg [(OUT_CH-PE)*OB-1:0] keep;
        reg                      keep_en;
        assign collect_next = {group, keep};
        always @(posedge clk) keep_en <= vp[SP+1] && ctl[SP+1][C_LAST];
        always @(posedge clk) begin
            if (keep_en) keep <= collect_next[OUT_CH*OB-1:PE*OB];
        end
    end else begin : g_coll1
        assign collect_next = group;
    end
endgenerate

// the finished window (flush, the last group, implies last) goes to the output FIFO, which always has room
/* verilator lint_off UNUSEDSIGNAL */
wire out_room;  // always 1: the entry was reserved when the window started
/* verilator lint_on UNUSEDSIGNAL */
spikeflow_axis_fifo #(.DATA_WIDTH(OUT_CH*OB), .DEPTH(OUT_DEPTH))
    u_out (.clk(clk), .rst(rst), .s_axis_tdata(collect_next), .s_axis_tvalid(vp[FP] && cc[C_FLUSH]),
           .s_axis_tready(out_room), .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid),
           .m_axis_tready(m_axis_tready));
assign out_read = m_axis_tvalid && m_axis_tready;

endmodule

`resetall
