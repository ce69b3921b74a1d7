// Sliding-window generator: raster-order pixel stream in, KERNEL x KERNEL windows out (one per output
// position, raster order), with stride and zero padding. The padded image is walked one position per
// cycle; padding positions are inserted here without consuming input. KERNEL-1 line buffers share one
// memory word per column (one read and one write per cycle). Frames follow each other with no gap.
// The input passes a skid buffer (spikeflow_axis_skid), so s_axis_tready is a flip-flop: no ready path runs
// through this module to the producer.
// OUT_REG=1 copies each finished window into an output register, so the walk goes on while the consumer works
// on the window (the neuron reads the window in place for its cycles per window): the walk over a strided
// layer's positions without a window then overlaps the window work. Without it (OUT_REG=0: stride 1, where
// nearly every position is a window, and max-pools, which take a window per cycle) the window registers are
// the output and the walk waits while a window is held.
// Window element (i, j) (row i, column j of the window) is at m_axis_tdata[(i*KERNEL+j)*PIX_W +: PIX_W].
`resetall
`timescale 1ns / 1ps
`default_nettype none

module spikeflow_window #(
    parameter PIX_W = 8,   // bits per pixel (all channels of one position)
    parameter IN_H = 8,    // input height
    parameter IN_W = 8,    // input width
    parameter KERNEL = 3,  // window size
    parameter STRIDE = 1,  // step between windows
    parameter PADDING = 1, // zero padding on each border
    parameter OUT_REG = 0  // 1: finished windows are copied to an output register (walk overlaps window work)
) (
    input  wire                             clk,
    input  wire                             rst,
    input  wire [PIX_W-1:0]                 s_axis_tdata,
    input  wire                             s_axis_tvalid,
    output wire                             s_axis_tready,
    output wire [KERNEL*KERNEL*PIX_W-1:0]   m_axis_tdata,
    output reg                              m_axis_tvalid,
    input  wire                             m_axis_tready
);

localparam HP = IN_H + 2 * PADDING;
localparam WP = IN_W + 2 * PADDING;
localparam RW = HP > 1 ? $clog2(HP) : 1;
localparam CW = WP > 1 ? $clog2(WP) : 1;
localparam PW = STRIDE > 1 ? $clog2(STRIDE) : 1;
localparam integer ROW_LAST_I = HP - 1;
localparam integer COL_LAST_I = WP - 1;
localparam integer PH_LAST_I = STRIDE - 1;
localparam [RW-1:0] ROW_LAST = ROW_LAST_I[RW-1:0];
localparam [CW-1:0] COL_LAST = COL_LAST_I[CW-1:0];
localparam [PW-1:0] PH_LAST = PH_LAST_I[PW-1:0];
// the row/col one before a flag changes (used only where they are >= 0: PADDING > 0, KERNEL > 1)
localparam integer PAD_LO_M1_I = PADDING > 0 ? PADDING - 1 : 0;
localparam integer ROW_PAD_HI_M1_I = IN_H + PADDING - 1;
localparam integer COL_PAD_HI_M1_I = IN_W + PADDING - 1;
localparam integer GO_M1_I = KERNEL > 1 ? KERNEL - 2 : 0;
localparam [RW-1:0] ROW_PAD_LO_M1 = PAD_LO_M1_I[RW-1:0];
localparam [RW-1:0] ROW_PAD_HI_M1 = ROW_PAD_HI_M1_I[RW-1:0];
localparam [CW-1:0] COL_PAD_LO_M1 = PAD_LO_M1_I[CW-1:0];
localparam [CW-1:0] COL_PAD_HI_M1 = COL_PAD_HI_M1_I[CW-1:0];
localparam [RW-1:0] ROW_GO_M1 = GO_M1_I[RW-1:0];
localparam [CW-1:0] COL_GO_M1 = GO_M1_I[CW-1:0];
localparam [0:0] PAD_AT_0 = PADDING > 0 ? 1'b1 : 1'b0;  // is_pad at (0, 0)
localparam [0:0] GO_AT_0 = KERNEL > 1 ? 1'b0 : 1'b1;    // row_go, col_go at (0, 0)

initial begin
    if (PIX_W < 1) $error("spikeflow_window: PIX_W must be >= 1");
    if (KERNEL < 1 || STRIDE < 1 || PADDING < 0) $error("spikeflow_window: bad KERNEL/STRIDE/PADDING");
    if (KERNEL > HP || KERNEL > WP) $error("spikeflow_window: KERNEL larger than the padded image");
    if (OUT_REG != 0 && OUT_REG != 1) $error("spikeflow_window: OUT_REG must be 0 or 1");
end

// position (in the padded image) of the next pixel to enter the window
reg [RW-1:0] row;
reg [CW-1:0] col;
reg [PW-1:0] row_ph;  // (row - (KERNEL-1)) mod STRIDE, once row >= KERNEL-1
reg [PW-1:0] col_ph;

// advance enables every window register (K*K*PIX_W bits: 2,304 in default's Conv_5) and the line-buffer
// write. It depends on the consumer's ready in the same cycle, so it cannot be registered; max_fanout makes
// Vivado replicate its driver so that no copy drives more than 64 loads (Yosys ignores the attribute).
(* max_fanout = 64 *)
wire advance;

// is_pad, row_go and col_go are flip-flops: each is loaded with its value for the next position when the walk
// advances, from equality compares on the current row/col (no magnitude compare on the advance / in_ready
// path). They follow the definitions: is_pad = row or col in the padding border, row_go = row >= KERNEL-1,
// col_go = col >= KERNEL-1.
wire col_wrap = col == COL_LAST;  // the next position is column 0 of the next row
wire row_wrap = row == ROW_LAST;  // with col_wrap: the next position is (0, 0) of the next frame
reg is_pad;
reg row_go;  // row >= KERNEL-1
reg col_go;  // col >= KERNEL-1
wire is_pad_next;
wire row_go_next;
wire col_go_next;
generate
    if (PADDING > 0) begin : g_pad
        reg row_pad;  // row < PADDING or row >= IN_H + PADDING
        reg col_pad;  // col < PADDING or col >= IN_W + PADDING
        wire col_pad_next = col_wrap ? 1'b1
                          : col == COL_PAD_LO_M1 ? 1'b0
                          : col == COL_PAD_HI_M1 ? 1'b1 : col_pad;
        wire row_pad_next = !col_wrap ? row_pad
                          : row_wrap ? 1'b1
                          : row == ROW_PAD_LO_M1 ? 1'b0
                          : row == ROW_PAD_HI_M1 ? 1'b1 : row_pad;
        assign is_pad_next = row_pad_next || col_pad_next;
        always @(posedge clk) begin
            if (rst) begin
                row_pad <= 1'b1;
                col_pad <= 1'b1;
            end else if (advance) begin
                row_pad <= row_pad_next;
                col_pad <= col_pad_next;
            end
        end
    end else begin : g_nopad
        assign is_pad_next = 1'b0;
    end
    if (KERNEL > 1) begin : g_first
        assign col_go_next = col_wrap ? 1'b0 : col == COL_GO_M1 ? 1'b1 : col_go;
        assign row_go_next = !col_wrap ? row_go : row_wrap ? 1'b0 : row == ROW_GO_M1 ? 1'b1 : row_go;
    end else begin : g_first1
        assign row_go_next = 1'b1;
        assign col_go_next = 1'b1;
    end
endgenerate
always @(posedge clk) begin
    if (rst) begin
        is_pad <= PAD_AT_0;
        row_go <= GO_AT_0;
        col_go <= GO_AT_0;
    end else if (advance) begin
        is_pad <= is_pad_next;
        row_go <= row_go_next;
        col_go <= col_go_next;
    end
end

// input skid buffer
wire [PIX_W-1:0] in_data;
wire             in_valid;
wire             in_ready;

spikeflow_axis_skid #(.DATA_WIDTH(PIX_W))
    u_skid (.clk(clk), .rst(rst), .s_axis_tdata(s_axis_tdata), .s_axis_tvalid(s_axis_tvalid),
            .s_axis_tready(s_axis_tready), .m_axis_tdata(in_data), .m_axis_tvalid(in_valid),
            .m_axis_tready(in_ready));

wire [PIX_W-1:0] in_pix = is_pad ? {PIX_W{1'b0}} : in_data;
wire out_here = row_go && col_go && (row_ph == 0) && (col_ph == 0);
// win_free: the window registers hold no finished window that has still to be passed on (to the consumer, or
// with OUT_REG=1 to the output register), or it leaves in this cycle: the walk may advance.
wire win_free;
assign advance = win_free && (is_pad || in_valid);

assign in_ready = !is_pad && win_free;

// column of KERNEL values entering the window: index 0 is the top row
wire [KERNEL*PIX_W-1:0] column;
assign column[(KERNEL-1)*PIX_W +: PIX_W] = in_pix;

// Line buffers: LUT RAM up to LUTRAM_MAX_DEPTH words (the padded row), block RAM beyond, set by ram_style so
// that Yosys and Vivado place them alike (the resource model, spikeflow/hw/resources.py, follows this rule).
// The column register feeds the read address, so block RAM reads it synchronously.
localparam LUTRAM_MAX_DEPTH = 64;
generate
    if (KERNEL > 1) begin : g_lines
        wire [(KERNEL-1)*PIX_W-1:0] rd;  // rd[k*PIX_W +: PIX_W] = row (row-1-k), column col
        wire [(KERNEL-1)*PIX_W-1:0] wr;
        genvar k;
        for (k = 0; k < KERNEL - 1; k = k + 1) begin : g_col
            assign column[(KERNEL-2-k)*PIX_W +: PIX_W] = rd[k*PIX_W +: PIX_W];
        end
        if (KERNEL > 2) begin : g_shift
            assign wr = {rd[(KERNEL-2)*PIX_W-1:0], in_pix};
        end else begin : g_one
            assign wr = in_pix;
        end
        if (WP <= LUTRAM_MAX_DEPTH) begin : g_lutram
            (* ram_style = "distributed" *)
            reg [(KERNEL-1)*PIX_W-1:0] lines [0:WP-1];
            assign rd = lines[col];
            always @(posedge clk) begin
                if (advance) lines[col] <= wr;
            end
        end else begin : g_bram
            (* ram_style = "block" *)
            reg [(KERNEL-1)*PIX_W-1:0] lines [0:WP-1];
            assign rd = lines[col];
            always @(posedge clk) begin
                if (advance) lines[col] <= wr;
            end
        end
    end
endgenerate

// window registers: win[i][j], shifted left by one column per advance
reg [PIX_W-1:0] win [0:KERNEL*KERNEL-1];
wire [KERNEL*KERNEL*PIX_W-1:0] win_data;
genvar gi, gj;
generate
    for (gi = 0; gi < KERNEL; gi = gi + 1) begin : g_row
        for (gj = 0; gj < KERNEL; gj = gj + 1) begin : g_el
            assign win_data[(gi*KERNEL+gj)*PIX_W +: PIX_W] = win[gi*KERNEL+gj];
            if (gj == KERNEL - 1) begin : g_in
                always @(posedge clk) begin
                    if (advance) win[gi*KERNEL+gj] <= column[gi*PIX_W +: PIX_W];
                end
            end else begin : g_sh
                always @(posedge clk) begin
                    if (advance) win[gi*KERNEL+gj] <= win[gi*KERNEL+gj+1];
                end
            end
        end
    end
endgenerate

// the output: the window registers themselves (OUT_REG=0), or a copy taken when the output register is free
generate
    if (OUT_REG != 0) begin : g_out_reg
        reg win_held;  // the window registers hold a finished window not yet copied
        wire take = win_held && (!m_axis_tvalid || m_axis_tready);  // copy it to the output register now
        (* max_fanout = 64 *)
        wire take_en = take;  // enables every output register bit
        reg [KERNEL*KERNEL*PIX_W-1:0] out_data;
        assign win_free = !win_held || take;
        assign m_axis_tdata = out_data;
        always @(posedge clk) begin
            if (take_en) out_data <= win_data;
        end
        always @(posedge clk) begin
            if (rst) begin
                win_held <= 1'b0;
                m_axis_tvalid <= 1'b0;
            end else begin
                if (advance) win_held <= out_here;
                else if (take) win_held <= 1'b0;
                if (take) m_axis_tvalid <= 1'b1;
                else if (m_axis_tready) m_axis_tvalid <= 1'b0;
            end
        end
    end else begin : g_out_win
        assign win_free = !m_axis_tvalid || m_axis_tready;
        assign m_axis_tdata = win_data;
        always @(posedge clk) begin
            if (rst) m_axis_tvalid <= 1'b0;
            else if (advance) m_axis_tvalid <= out_here;
            else if (m_axis_tready) m_axis_tvalid <= 1'b0;
        end
    end
endgenerate

always @(posedge clk) begin
    if (rst) begin
        row <= 0;
        col <= 0;
        row_ph <= 0;
        col_ph <= 0;
    end else begin
        if (advance) begin
            if (col_wrap) begin
                col <= 0;
                col_ph <= 0;
                if (row_wrap) begin
                    row <= 0;
                    row_ph <= 0;
                end else begin
                    row <= row + 1'b1;
                    if (row_go) row_ph <= row_ph == PH_LAST ? {PW{1'b0}} : row_ph + 1'b1;
                end
            end else begin
                col <= col + 1'b1;
                if (col_go) col_ph <= col_ph == PH_LAST ? {PW{1'b0}} : col_ph + 1'b1;
            end
        end
    end
end

endmodule

`resetall
