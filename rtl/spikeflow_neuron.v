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
// ROM images (generated): weights word nf*SF+sf holds W[nf*PE+pe][sf*SIMD+s] at bit (pe*SIMD+s)*WEIGHT_BITS;
// bias word nf holds bias[nf*PE+pe] at pe*ACC_BITS; thresholds word nf holds thr[nf*PE+pe][j] at
// (pe*THRESHOLDS+j)*ACC_BITS.
//
// Pipeline: issue (ROM address) -> ROM data + input slice -> PE x SIMD products summed -> accumulate and
// fire. The whole pipeline advances unless the output register is full and not being read.
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

// contribution of one weight and one input element (for pass t when serial), modulo 2^ACC_BITS
function [ACC_BITS-1:0] term;
    input [WEIGHT_BITS-1:0] w;
    input [IN_BITS-1:0] x;
    input [TW-1:0] t;
    reg [ACC_BITS-1:0] ws;
    reg [TW-1:0] xe;
    integer p;
    begin
        ws = {{(ACC_BITS-WEIGHT_BITS){w[WEIGHT_BITS-1]}}, w};
        xe = {{(TW-IN_BITS){1'b0}}, x};
        term = {ACC_BITS{1'b0}};
        if (TIME_PARALLEL != 0) begin
            if (IN_KIND == 0) begin
                term = ws * {{(ACC_BITS-IN_BITS){1'b0}}, x};
            end else begin
                for (p = 0; p < PLANES; p = p + 1) begin
                    if (xe > p[TW-1:0]) term = term + ws;
                end
            end
        end else begin
            if (IN_KIND == 0) begin
                if (|(xe & ({{(TW-1){1'b0}}, 1'b1} << t))) term = ws << t;
            end else begin
                if (xe > t) term = ws;
            end
        end
    end
endfunction

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

// ---------------------------------------------------------------- stage 1: ROM data, input slice
wire [PE*SIMD*WEIGHT_BITS-1:0] w1;
wire [PE*ACC_BITS-1:0] b1;
wire [THR_W-1:0] th1;

spikeflow_rom #(.WIDTH(PE*SIMD*WEIGHT_BITS), .DEPTH(SF*NF), .ADDR_WIDTH(WAW), .INIT_FILE(WEIGHT_FILE))
    u_wrom (.clk(clk), .en(en), .addr(waddr), .data(w1));
spikeflow_rom #(.WIDTH(PE*ACC_BITS), .DEPTH(NF), .ADDR_WIDTH(NFW), .INIT_FILE(BIAS_FILE))
    u_brom (.clk(clk), .en(en), .addr(nf), .data(b1));
generate
    if (FIRE) begin : g_thr
        spikeflow_rom #(.WIDTH(THR_W), .DEPTH(NF), .ADDR_WIDTH(NFW), .INIT_FILE(THRESH_FILE))
            u_trom (.clk(clk), .en(en), .addr(nf), .data(th1));
    end else begin : g_nothr
        assign th1 = {THR_W{1'b0}};
    end
endgenerate

reg                    v1, first1, last1, flush1;
reg [SIMD*IN_BITS-1:0] x1;
reg [TW-1:0]           t1;

always @(posedge clk) begin
    if (en) begin
        x1 <= win[sf*SIMD*IN_BITS +: SIMD*IN_BITS];
        t1 <= tp;
        first1 <= (sf == 0) && (tp == 0);
        last1 <= iter_last;
        flush1 <= win_last;
    end
end

// ---------------------------------------------------------------- stage 2: PE x SIMD partial sums
reg [PE*ACC_BITS-1:0] psum;
integer pe_i, s_i;
always @* begin
    psum = {PE*ACC_BITS{1'b0}};
    for (pe_i = 0; pe_i < PE; pe_i = pe_i + 1) begin
        for (s_i = 0; s_i < SIMD; s_i = s_i + 1) begin
            psum[pe_i*ACC_BITS +: ACC_BITS] = psum[pe_i*ACC_BITS +: ACC_BITS]
                + term(w1[(pe_i*SIMD+s_i)*WEIGHT_BITS +: WEIGHT_BITS], x1[s_i*IN_BITS +: IN_BITS], t1);
        end
    end
end

reg                   v2, first2, last2, flush2;
reg [PE*ACC_BITS-1:0] psum2, b2;
/* verilator lint_off UNUSEDSIGNAL */
reg [THR_W-1:0]       th2;  // unused (constant 0) when FIRE=0
/* verilator lint_on UNUSEDSIGNAL */

always @(posedge clk) begin
    if (en) begin
        psum2 <= psum;
        b2 <= b1;
        th2 <= th1;
        first2 <= first1;
        last2 <= last1;
        flush2 <= flush1;
    end
end

// ---------------------------------------------------------------- stage 3: accumulate, fire, collect
reg  [PE*ACC_BITS-1:0] acc;
reg  [PE*ACC_BITS-1:0] acc_next;
wire [PE*OB-1:0]       group;
integer pe_j;
always @* begin
    for (pe_j = 0; pe_j < PE; pe_j = pe_j + 1) begin
        acc_next[pe_j*ACC_BITS +: ACC_BITS] = (first2 ? b2[pe_j*ACC_BITS +: ACC_BITS]
                                                      : acc[pe_j*ACC_BITS +: ACC_BITS])
                                              + psum2[pe_j*ACC_BITS +: ACC_BITS];
    end
end

generate
    if (FIRE) begin : g_fire
        reg [PE*OB-1:0] counts;
        reg [OB-1:0]    cnt;
        integer pe_k, j;
        always @* begin
            for (pe_k = 0; pe_k < PE; pe_k = pe_k + 1) begin
                cnt = {OB{1'b0}};
                for (j = 0; j < THRESHOLDS; j = j + 1) begin
                    if ($signed(acc_next[pe_k*ACC_BITS +: ACC_BITS])
                            >= $signed(th2[(pe_k*THRESHOLDS+j)*ACC_BITS +: ACC_BITS]))
                        cnt = cnt + 1'b1;
                end
                counts[pe_k*OB +: OB] = cnt;
            end
        end
        assign group = counts;
    end else begin : g_v
        assign group = acc_next;
    end
endgenerate

// channels are collected by shifting groups in from the top: after NF groups group 0 is at the bottom
wire [OUT_CH*OB-1:0] collect_next;
generate
    if (NF > 1) begin : g_coll
        reg [(OUT_CH-PE)*OB-1:0] keep;
        assign collect_next = {group, keep};
        always @(posedge clk) begin
            if (en && v2 && last2) keep <= collect_next[OUT_CH*OB-1:PE*OB];
        end
    end else begin : g_coll1
        assign collect_next = group;
    end
endgenerate

always @(posedge clk) begin
    if (en && v2) begin
        acc <= acc_next;
        if (last2 && flush2) m_axis_tdata <= collect_next;  // flush (last group) implies last2
    end
end

always @(posedge clk) begin
    if (rst) begin
        v1 <= 1'b0;
        v2 <= 1'b0;
        m_axis_tvalid <= 1'b0;
    end else begin
        if (m_axis_tready) m_axis_tvalid <= 1'b0;
        if (en) begin
            v1 <= issue;
            v2 <= v1;
            if (v2 && flush2) m_axis_tvalid <= 1'b1;
        end
    end
end

endmodule

`resetall
