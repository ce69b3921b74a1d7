// AXI-Stream input adapter: PIXELS_PER_BEAT channel-interleaved pixels (PIXEL_BITS per channel) per beat in,
// one pixel per cycle out, with frame checking. The stream format is spikeflow/hw/stream.py's.
//
// Malformed-frame rule (frames are FRAME_PIXELS/PIXELS_PER_BEAT beats long):
//  * early TLAST (TLAST on a beat before the frame's last beat): the beats received are passed on and the
//    rest of the frame is padded with zero pixels, so downstream always sees whole frames; one output
//    frame is produced for it (the network's answer to the zero-padded frame).
//  * missing TLAST (the frame's last beat arrives without TLAST): the frame ends there anyway and is
//    processed normally; the next beat starts a new frame. A frame that is too long therefore splits into
//    a complete frame and a short one, which ends at its TLAST and is zero-padded as above.
// Either way status_frame_error pulses for one cycle, status_error_count increments, the stream is
// resynchronised on TLAST and no later frame is shifted or lost. The adapter never waits for TLAST.
// The input passes a skid buffer (spikeflow_axis_skid), so s_axis_tready is a flip-flop: no ready path runs
// through this module from the window generator it feeds to the DMA.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module spikeflow_axis_input #(
    parameter CHANNELS = 3,        // channels per pixel (channel 0 in the low bits)
    parameter PIXEL_BITS = 8,      // bits per pixel channel
    parameter PIXELS_PER_BEAT = 1, // pixels per input beat
    parameter FRAME_PIXELS = 16,   // pixels per frame (H*W), a multiple of PIXELS_PER_BEAT
    parameter STATUS_WIDTH = 32    // bits of the malformed-frame counter (wraps around)
) (
    input  wire                                            clk,
    input  wire                                            rst,
    input  wire [PIXEL_BITS*CHANNELS*PIXELS_PER_BEAT-1:0]  s_axis_tdata,
    input  wire                                            s_axis_tvalid,
    output wire                                            s_axis_tready,
    input  wire                                            s_axis_tlast,
    output wire [PIXEL_BITS*CHANNELS-1:0]                  m_axis_tdata,
    output wire                                            m_axis_tvalid,
    input  wire                                            m_axis_tready,
    output reg                                             status_frame_error,
    output reg  [STATUS_WIDTH-1:0]                         status_error_count
);

localparam PIX_W = PIXEL_BITS * CHANNELS;
localparam BEATS = FRAME_PIXELS / PIXELS_PER_BEAT;
localparam BEAT_W = BEATS > 1 ? $clog2(BEATS) : 1;
localparam SUB_W = PIXELS_PER_BEAT > 1 ? $clog2(PIXELS_PER_BEAT) : 1;
localparam PIX_CW = FRAME_PIXELS > 1 ? $clog2(FRAME_PIXELS) : 1;
localparam integer LAST_BEAT_I = BEATS - 1;
localparam integer LAST_SUB_I = PIXELS_PER_BEAT - 1;
localparam integer LAST_PIX_I = FRAME_PIXELS - 1;
localparam [BEAT_W-1:0] LAST_BEAT = LAST_BEAT_I[BEAT_W-1:0];
localparam [SUB_W-1:0] LAST_SUB = LAST_SUB_I[SUB_W-1:0];
localparam [PIX_CW-1:0] LAST_PIX = LAST_PIX_I[PIX_CW-1:0];

initial begin
    if (CHANNELS < 1) $error("spikeflow_axis_input: CHANNELS must be >= 1");
    if (PIXEL_BITS < 1) $error("spikeflow_axis_input: PIXEL_BITS must be >= 1");
    if (STATUS_WIDTH < 1 || STATUS_WIDTH > 64) $error("spikeflow_axis_input: STATUS_WIDTH must be 1..64");
    if (PIXELS_PER_BEAT < 1) $error("spikeflow_axis_input: PIXELS_PER_BEAT must be >= 1");
    if (FRAME_PIXELS < 1 || FRAME_PIXELS % PIXELS_PER_BEAT != 0)
        $error("spikeflow_axis_input: FRAME_PIXELS must be a positive multiple of PIXELS_PER_BEAT");
end

reg [PIX_W*PIXELS_PER_BEAT-1:0] beat_reg;
reg                             beat_valid;
reg [SUB_W-1:0]                 sub;
reg                             pad;
reg [BEAT_W-1:0]                beat_cnt;
reg [PIX_CW-1:0]                pix_cnt;

// input skid buffer: beats with their TLAST
wire [PIX_W*PIXELS_PER_BEAT-1:0] in_data;
wire                             in_last;
wire                             in_valid;
wire                             in_ready;

spikeflow_axis_skid #(.DATA_WIDTH(PIX_W*PIXELS_PER_BEAT + 1))
    u_skid (.clk(clk), .rst(rst), .s_axis_tdata({s_axis_tlast, s_axis_tdata}), .s_axis_tvalid(s_axis_tvalid),
            .s_axis_tready(s_axis_tready), .m_axis_tdata({in_last, in_data}), .m_axis_tvalid(in_valid),
            .m_axis_tready(in_ready));

wire out_fire  = m_axis_tvalid && m_axis_tready;
wire beat_done = out_fire && beat_valid && sub == LAST_SUB;
wire in_fire   = in_valid && in_ready;
wire last_beat = beat_cnt == LAST_BEAT;
wire early     = in_fire && in_last && !last_beat;
wire missing   = in_fire && !in_last && last_beat;

assign in_ready = !pad && (!beat_valid || beat_done);
assign m_axis_tvalid = beat_valid || pad;
assign m_axis_tdata  = beat_valid ? beat_reg[sub*PIX_W +: PIX_W] : {PIX_W{1'b0}};

always @(posedge clk) begin
    if (in_fire) beat_reg <= in_data;
end

always @(posedge clk) begin
    if (rst) begin
        beat_valid <= 1'b0;
        sub <= 0;
        pad <= 1'b0;
        beat_cnt <= 0;
        pix_cnt <= 0;
        status_frame_error <= 1'b0;
        status_error_count <= {STATUS_WIDTH{1'b0}};
    end else begin
        status_frame_error <= early || missing;
        if (early || missing) status_error_count <= status_error_count + 1'b1;
        if (out_fire) begin
            pix_cnt <= pix_cnt == LAST_PIX ? {PIX_CW{1'b0}} : pix_cnt + 1'b1;
            if (pix_cnt == LAST_PIX) pad <= 1'b0;
            if (beat_valid) sub <= sub == LAST_SUB ? {SUB_W{1'b0}} : sub + 1'b1;
        end
        if (beat_done) beat_valid <= 1'b0;
        if (in_fire) begin
            beat_valid <= 1'b1;
            beat_cnt <= (in_last || last_beat) ? {BEAT_W{1'b0}} : beat_cnt + 1'b1;
            if (early) pad <= 1'b1;
        end
    end
end

endmodule

`resetall
