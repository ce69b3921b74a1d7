// FewdIF neuron unit: for each input window computes V[k] = bias[k] + sum_e W[k,e] * x[e] for all OUT_CH
// output channels and, when FIRE=1, emits per channel the spike count #{j : V >= thr[k,j]}; when FIRE=0
// (head) it emits V itself.
//
// Folding: PE output channels and SIMD window elements are processed per cycle, so one window takes
// (OUT_CH/PE) * (N_IN/SIMD) * PASSES cycles. Inputs are decomposed into planes: spike counts (IN_KIND=1)
// into IN_MAX thermometer timesteps (plane t = x > t, the spike train), pixels (IN_KIND=0) into IN_BITS
// bit planes (weight 2^t). TIME_PARALLEL=1 integrates every plane at once (PASSES=1: for spikes the
// multiply-free sum of W over the timesteps where the spike is 1, for pixels W*x); TIME_PARALLEL=0 does one
// plane per pass (AND-add). All foldings give the same bits: arithmetic is exact modulo 2^ACC_BITS and
// ACC_BITS holds the final V.
//
// Window element e is s_axis_tdata[e*IN_BITS +: IN_BITS]. Output channel k is at m_axis_tdata[k*OB +: OB].
// ROM images (generated): weights word nf*SF+sf holds W[nf*PE+pe][sf*SIMD+s] at bit (pe*SIMD+s)*WEIGHT_BITS
// in offset binary (W + 2^(WEIGHT_BITS-1), unsigned);
// bias word nf holds bias[nf*PE+pe] at pe*ACC_BITS; thresholds word nf holds thr[nf*PE+pe][j] at
// (pe*THRESHOLDS+j)*ACC_BITS.
//
// Pipeline: issue (weight ROM address) -> weight ROM data + input slice -> registered chunk sums of up to 16
// terms per PE lane (adder tree level 1) -> registered sum of a lane's chunks, bias/threshold ROM data
// (level 2) -> accumulate and fire. The whole pipeline advances unless the output register is full and not
// being read; data registers load only with valid items.
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
    parameter WEIGHT_FILE = "",    // $readmemh image of the weights
    parameter BIAS_FILE = "",      // $readmemh image of the biases
    parameter THRESH_FILE = ""     // $readmemh image of the thresholds (FIRE=1)
) (
    input  wire                            clk,
    input  wire                            rst,
    input  wire [N_IN*IN_BITS-1:0]         s_axis_tdata,
    input  wire                            s_axis_tvalid,
    output wire                            s_axis_tready,
    output reg  [OUT_CH*(FIRE ? OUT_BITS : ACC_BITS)-1:0] m_axis_tdata,
    output reg                             m_axis_tvalid,
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
localparam THR_W = FIRE ? PE * THRESHOLDS * ACC_BITS : 1;
localparam CHUNK = SIMD < 16 ? SIMD : 16;      // terms summed per chunk register (adder tree level 1)
localparam G = (SIMD + CHUNK - 1) / CHUNK;      // chunks per PE lane (summed at level 2)
localparam CLAMP = (IN_KIND == 1) && (IN_MAX < (1 << IN_BITS) - 1);
// chunk sums are formed at SUM_W >= ACC_BITS bits (one machine word in simulation); only the low ACC_BITS
// are kept, so synthesis trims the rest
localparam SUM_W = ACC_BITS < 32 ? 32 : ACC_BITS;
localparam [SUM_W-1:0] W_OFFSET = {{(SUM_W-WEIGHT_BITS){1'b0}}, 1'b1, {(WEIGHT_BITS-1){1'b0}}};
localparam integer IN_MAX_I = IN_MAX;
localparam [IN_BITS-1:0] IN_MAX_V = IN_MAX_I[IN_BITS-1:0];

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
end

// ---------------------------------------------------------------- stage 0: window register and issue
reg [N_IN*IN_BITS-1:0] win;
reg                    win_valid;
reg [NFW-1:0]          nf;
reg [SFW-1:0]          sf;
reg [TW-1:0]           tp;
reg [WAW-1:0]          waddr;  // weight word nf*SF + sf

wire en = !m_axis_tvalid || m_axis_tready;
wire issue = en && win_valid;
wire iter_last = (sf == SF_LAST) && (tp == T_LAST);
wire win_last = iter_last && (nf == NF_LAST);

assign s_axis_tready = en && (!win_valid || win_last);

always @(posedge clk) begin
    if (s_axis_tvalid && s_axis_tready) win <= s_axis_tdata;
end

always @(posedge clk) begin
    if (rst) begin
        win_valid <= 1'b0;
        nf <= 0;
        sf <= 0;
        tp <= 0;
        waddr <= 0;
    end else if (en) begin
        if (issue) begin
            if (tp == T_LAST) begin
                tp <= 0;
                waddr <= win_last ? {WAW{1'b0}} : waddr + 1'b1;
                if (sf == SF_LAST) begin
                    sf <= 0;
                    nf <= nf == NF_LAST ? {NFW{1'b0}} : nf + 1'b1;
                end else begin
                    sf <= sf + 1'b1;
                end
            end else begin
                tp <= tp + 1'b1;
            end
            if (win_last) win_valid <= 1'b0;
        end
        if (s_axis_tvalid && s_axis_tready) win_valid <= 1'b1;
    end
end

// ---------------------------------------------------------------- stage 1: weight ROM data, input slice
// Data registers of every stage load only with a valid item (the control bits v1..v3 tell which are).
wire [PE*SIMD*WEIGHT_BITS-1:0] w1;

spikeflow_rom #(.WIDTH(PE*SIMD*WEIGHT_BITS), .DEPTH(SF*NF), .ADDR_WIDTH(WAW), .INIT_FILE(WEIGHT_FILE))
    u_wrom (.clk(clk), .en(issue), .addr(waddr), .data(w1));

reg                    v1, first1, last1, flush1;
reg [SIMD*IN_BITS-1:0] x1;
reg [TW-1:0]           t1;
reg [NFW-1:0]          nf1;

always @(posedge clk) begin
    if (issue) begin
        x1 <= win[sf*SIMD*IN_BITS +: SIMD*IN_BITS];
        t1 <= tp;
        nf1 <= nf;
        first1 <= (sf == 0) && (tp == 0);
        last1 <= iter_last;
        flush1 <= win_last;
    end
end

// ---------------------------------------------------------------- stage 2: registered chunk sums
// Chunk g of PE lane pe sums the terms of elements g*CHUNK .. g*CHUNK+CHUNK-1 (fewer in the last chunk).
// term = contribution of weight W and input x (in pass t when serial), modulo 2^ACC_BITS:
//   pixels, parallel:  W * x (8-bit x 4-bit product)
//   spikes, parallel:  the sum of W over the timesteps where the thermometer spike train is 1, i.e.
//                      W * min(x, IN_MAX) (a product of W with a count of at most 2-3 bits: shift-adds)
//   pixels, serial:    W << t if bit t of x is set
//   spikes, serial:    W if x > t (the spike of timestep t)
wire  [ACC_BITS-1:0] csum [0:PE*G-1];
reg                  v2, first2, last2, flush2;
reg   [NFW-1:0]      nf2;

genvar gp, gg;
generate
    for (gp = 0; gp < PE; gp = gp + 1) begin : g_lane
        for (gg = 0; gg < G; gg = gg + 1) begin : g_chunk
            reg [ACC_BITS-1:0] sum;
            reg [SUM_W-1:0]    ws;
            reg [IN_BITS-1:0]  xv;
            reg [SUM_W-1:0]    chunk;
            integer i;
            always @* begin
                chunk = {SUM_W{1'b0}};
                for (i = 0; i < ((SIMD - gg*CHUNK) < CHUNK ? (SIMD - gg*CHUNK) : CHUNK); i = i + 1) begin
                    // offset-binary ROM field u = W + 2^(b-1), so W = u - 2^(b-1) (exact modulo 2^SUM_W)
                    ws = {{(SUM_W-WEIGHT_BITS){1'b0}}, w1[(gp*SIMD + gg*CHUNK + i)*WEIGHT_BITS +: WEIGHT_BITS]}
                         - W_OFFSET;
                    xv = x1[(gg*CHUNK + i)*IN_BITS +: IN_BITS];
                    if (TIME_PARALLEL != 0) begin
                        if (IN_KIND != 0 && CLAMP != 0 && xv > IN_MAX_V) xv = IN_MAX_V;
                        chunk = chunk + ws * {{(SUM_W-IN_BITS){1'b0}}, xv};
                    end else if (IN_KIND == 0) begin
                        if (|({{(TW-IN_BITS){1'b0}}, xv} & ({{(TW-1){1'b0}}, 1'b1} << t1)))
                            chunk = chunk + (ws << t1);
                    end else begin
                        if ({{(TW-IN_BITS){1'b0}}, xv} > t1) chunk = chunk + ws;
                    end
                end
            end
            always @(posedge clk) begin
                if (en && v1) sum <= chunk[ACC_BITS-1:0];
            end
            assign csum[gp*G + gg] = sum;
        end
    end
endgenerate

always @(posedge clk) begin
    if (en && v1) begin
        nf2 <= nf1;
        first2 <= first1;
        last2 <= last1;
        flush2 <= flush1;
    end
end

// ---------------------------------------------------------------- stage 3: per-lane sums, bias/thresholds
wire [PE*ACC_BITS-1:0] b3;
/* verilator lint_off UNUSEDSIGNAL */
wire [THR_W-1:0] th3;  // unused (constant 0) when FIRE=0
/* verilator lint_on UNUSEDSIGNAL */
wire [PE*ACC_BITS-1:0] psum3;
reg                    v3, first3, last3, flush3;

spikeflow_rom #(.WIDTH(PE*ACC_BITS), .DEPTH(NF), .ADDR_WIDTH(NFW), .INIT_FILE(BIAS_FILE))
    u_brom (.clk(clk), .en(en && v2), .addr(nf2), .data(b3));
generate
    if (FIRE) begin : g_thr
        spikeflow_rom #(.WIDTH(THR_W), .DEPTH(NF), .ADDR_WIDTH(NFW), .INIT_FILE(THRESH_FILE))
            u_trom (.clk(clk), .en(en && v2), .addr(nf2), .data(th3));
    end else begin : g_nothr
        assign th3 = {THR_W{1'b0}};
    end
endgenerate

generate
    for (gp = 0; gp < PE; gp = gp + 1) begin : g_psum
        reg [ACC_BITS-1:0] lane;
        reg [ACC_BITS-1:0] total;
        integer g;
        always @* begin
            total = {ACC_BITS{1'b0}};
            for (g = 0; g < G; g = g + 1) total = total + csum[gp*G + g];
        end
        always @(posedge clk) begin
            if (en && v2) lane <= total;
        end
        assign psum3[gp*ACC_BITS +: ACC_BITS] = lane;
    end
endgenerate

always @(posedge clk) begin
    if (en && v2) begin
        first3 <= first2;
        last3 <= last2;
        flush3 <= flush2;
    end
end

// ---------------------------------------------------------------- stage 4: accumulate, fire, collect
reg  [PE*ACC_BITS-1:0] acc;
wire [PE*ACC_BITS-1:0] acc_next;
wire [PE*OB-1:0]       group;

generate
    for (gp = 0; gp < PE; gp = gp + 1) begin : g_acc
        wire [ACC_BITS-1:0] a = (first3 ? b3[gp*ACC_BITS +: ACC_BITS] : acc[gp*ACC_BITS +: ACC_BITS])
                                + psum3[gp*ACC_BITS +: ACC_BITS];
        assign acc_next[gp*ACC_BITS +: ACC_BITS] = a;
        if (FIRE) begin : g_fire
            reg [OB-1:0] cnt;
            integer j;
            always @* begin
                cnt = {OB{1'b0}};
                for (j = 0; j < THRESHOLDS; j = j + 1) begin
                    if ($signed(a) >= $signed(th3[(gp*THRESHOLDS+j)*ACC_BITS +: ACC_BITS])) cnt = cnt + 1'b1;
                end
            end
            assign group[gp*OB +: OB] = cnt;
        end else begin : g_v
            assign group[gp*OB +: OB] = a;
        end
    end
endgenerate

// channels are collected by shifting groups in from the top: after NF groups group 0 is at the bottom
wire [OUT_CH*OB-1:0] collect_next;
generate
    if (NF > 1) begin : g_coll
        reg [(OUT_CH-PE)*OB-1:0] keep;
        assign collect_next = {group, keep};
        always @(posedge clk) begin
            if (en && v3 && last3) keep <= collect_next[OUT_CH*OB-1:PE*OB];
        end
    end else begin : g_coll1
        assign collect_next = group;
    end
endgenerate

always @(posedge clk) begin
    if (en && v3) begin
        acc <= acc_next;
        if (last3 && flush3) m_axis_tdata <= collect_next;  // flush (last group) implies last3
    end
end

always @(posedge clk) begin
    if (rst) begin
        v1 <= 1'b0;
        v2 <= 1'b0;
        v3 <= 1'b0;
        m_axis_tvalid <= 1'b0;
    end else begin
        if (m_axis_tready) m_axis_tvalid <= 1'b0;
        if (en) begin
            v1 <= issue;
            v2 <= v1;
            v3 <= v2;
            if (v3 && flush3) m_axis_tvalid <= 1'b1;
        end
    end
end

endmodule

`resetall
