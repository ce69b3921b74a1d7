// AXI-Stream output: one head pixel (CHANNELS values of VALUE_BITS) in, CHANNELS beats out, each value
// sign-extended to OUT_WIDTH bits, channel 0 first; TLAST on the last value of the frame.
// The output passes a skid buffer (spikeflow_axis_skid), so m_axis_tready only reaches flip-flops: no ready
// path runs through this module from the DMA to the head.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module spikeflow_axis_output #(
    parameter CHANNELS = 4,      // values per input pixel
    parameter VALUE_BITS = 16,   // signed bits per value
    parameter FRAME_PIXELS = 16, // pixels per frame (Gh*Gw)
    parameter OUT_WIDTH = 32     // output tdata width, >= VALUE_BITS
) (
    input  wire                           clk,
    input  wire                           rst,
    input  wire [CHANNELS*VALUE_BITS-1:0] s_axis_tdata,
    input  wire                           s_axis_tvalid,
    output wire                           s_axis_tready,
    output wire [OUT_WIDTH-1:0]           m_axis_tdata,
    output wire                           m_axis_tvalid,
    input  wire                           m_axis_tready,
    output wire                           m_axis_tlast
);

localparam CHW = CHANNELS > 1 ? $clog2(CHANNELS) : 1;
localparam PXW = FRAME_PIXELS > 1 ? $clog2(FRAME_PIXELS) : 1;
localparam integer CH_LAST_I = CHANNELS - 1;
localparam integer PX_LAST_I = FRAME_PIXELS - 1;
localparam [CHW-1:0] CH_LAST = CH_LAST_I[CHW-1:0];
localparam [PXW-1:0] PX_LAST = PX_LAST_I[PXW-1:0];

initial begin
    if (CHANNELS < 1 || FRAME_PIXELS < 1) $error("spikeflow_axis_output: CHANNELS, FRAME_PIXELS must be >= 1");
    if (VALUE_BITS < 1 || VALUE_BITS > OUT_WIDTH) $error("spikeflow_axis_output: VALUE_BITS must be 1..OUT_WIDTH");
end

reg [CHANNELS*VALUE_BITS-1:0] pix;
reg                           valid;
reg [CHW-1:0]                 ch;
reg [PXW-1:0]                 px;

wire                  out_ready;  // the output skid buffer's (a flip-flop)
wire                  out_last = (ch == CH_LAST) && (px == PX_LAST);
wire [OUT_WIDTH-1:0]  out_data;
wire out_fire = valid && out_ready;
wire pix_done = out_fire && ch == CH_LAST;
wire [VALUE_BITS-1:0] value = pix[ch*VALUE_BITS +: VALUE_BITS];

assign s_axis_tready = !valid || pix_done;

generate
    if (VALUE_BITS < OUT_WIDTH) begin : g_ext
        assign out_data = {{(OUT_WIDTH-VALUE_BITS){value[VALUE_BITS-1]}}, value};
    end else begin : g_same
        assign out_data = value;
    end
endgenerate

spikeflow_axis_skid #(.DATA_WIDTH(OUT_WIDTH + 1))
    u_skid (.clk(clk), .rst(rst), .s_axis_tdata({out_last, out_data}), .s_axis_tvalid(valid),
            .s_axis_tready(out_ready), .m_axis_tdata({m_axis_tlast, m_axis_tdata}), .m_axis_tvalid(m_axis_tvalid),
            .m_axis_tready(m_axis_tready));

always @(posedge clk) begin
    if (s_axis_tvalid && s_axis_tready) pix <= s_axis_tdata;
end

always @(posedge clk) begin
    if (rst) begin
        valid <= 1'b0;
        ch <= 0;
        px <= 0;
    end else begin
        if (out_fire) begin
            ch <= ch == CH_LAST ? {CHW{1'b0}} : ch + 1'b1;
            if (ch == CH_LAST) px <= px == PX_LAST ? {PXW{1'b0}} : px + 1'b1;
        end
        if (pix_done) valid <= 1'b0;
        if (s_axis_tvalid && s_axis_tready) valid <= 1'b1;
    end
end

endmodule

`resetall
