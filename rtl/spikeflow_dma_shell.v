// Zynq shell of the accelerator: the AXI DMA's streams in and out of spikeflow_top, and its status registers
// (spikeflow_axil_status) on AXI-Lite. The block design instantiates it as a module reference.
//
// The DMA moves BUS_IN_WIDTH-bit words (a power of two >= 32, spikeflow.hw.stream.bus_width): each word
// carries one input beat in its low IN_WIDTH bits; the bits above are padding the driver sets to zero
// (StreamFormat.pack_frames_bus) and the shell drops. Output beats are OUT_WIDTH bits, all bytes kept.
// aresetn is the block design's synchronous active-low peripheral reset.
//
// Batches: one DMA transfer carries BATCH frames (the status block's BATCH register, 0 counts as 1), with the
// DMA's TLAST only on its last beat. The shell counts BEATS_PER_FRAME beats per frame and gives spikeflow_top
// its per-frame TLAST itself; towards the DMA it passes TLAST only on the last value of a batch's last frame,
// so one S2MM transfer ends after the batch. The driver writes BATCH while no batch is on the device; the
// input side reads it at a batch's first beat.
// Malformed batches (the frame rule of spikeflow_axis_input, one level up):
//  * a DMA TLAST inside a frame is passed on as that frame's TLAST: spikeflow_top zero-pads the frame and
//    counts it, as before; the batch ends there;
//  * a DMA TLAST at the end of a frame before the batch's last, or the batch's last beat without the DMA's
//    TLAST: the frame is whole, the shell counts the error and the batch ends there. A transfer that is too
//    long therefore splits into a whole batch and a short one ended by its TLAST (two errors, as a frame that
//    is too long counts two in spikeflow_axis_input).
// Each counts one malformed frame in ERRORS, and the output batch ends with the input batch's last frame (a
// FIFO of one bit per frame in flight carries where each batch ends), so no later batch is shifted.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module spikeflow_dma_shell #(
    parameter BUS_IN_WIDTH = 32,  // s_axis_tdata bits: the DMA MM2S stream width (IN_WIDTH padded)
    parameter IN_WIDTH = 24,      // spikeflow_top's s_axis_tdata bits
    parameter OUT_WIDTH = 32,     // spikeflow_top's (and the DMA S2MM stream's) m_axis_tdata bits
    parameter STATUS_WIDTH = 32,  // bits of spikeflow_top's error counter
    parameter BEATS_PER_FRAME = 16, // input beats per frame (StreamFormat.beats_per_frame): spikeflow_top's frame
    parameter FRAMES_IN_FLIGHT = 16, // frames the shell tracks inside spikeflow_top (a power of two); more wait
    parameter AXIL_ADDR_WIDTH = 6 // s_axil address bits
) (
    (* X_INTERFACE_PARAMETER = "ASSOCIATED_BUSIF s_axis:m_axis:s_axil, ASSOCIATED_RESET aresetn" *)
    input  wire                      aclk,
    input  wire                      aresetn,
    input  wire [BUS_IN_WIDTH-1:0]   s_axis_tdata,
    input  wire [BUS_IN_WIDTH/8-1:0] s_axis_tkeep,
    input  wire                      s_axis_tvalid,
    output wire                      s_axis_tready,
    input  wire                      s_axis_tlast,
    output wire [OUT_WIDTH-1:0]      m_axis_tdata,
    output wire [OUT_WIDTH/8-1:0]    m_axis_tkeep,
    output wire                      m_axis_tvalid,
    input  wire                      m_axis_tready,
    output wire                      m_axis_tlast,
    input  wire [AXIL_ADDR_WIDTH-1:0] s_axil_awaddr,
    input  wire [2:0]                s_axil_awprot,
    input  wire                      s_axil_awvalid,
    output wire                      s_axil_awready,
    input  wire [31:0]               s_axil_wdata,
    input  wire [3:0]                s_axil_wstrb,
    input  wire                      s_axil_wvalid,
    output wire                      s_axil_wready,
    output wire [1:0]                s_axil_bresp,
    output wire                      s_axil_bvalid,
    input  wire                      s_axil_bready,
    input  wire [AXIL_ADDR_WIDTH-1:0] s_axil_araddr,
    input  wire [2:0]                s_axil_arprot,
    input  wire                      s_axil_arvalid,
    output wire                      s_axil_arready,
    output wire [31:0]               s_axil_rdata,
    output wire [1:0]                s_axil_rresp,
    output wire                      s_axil_rvalid,
    input  wire                      s_axil_rready
);

localparam BEAT_W = BEATS_PER_FRAME > 1 ? $clog2(BEATS_PER_FRAME) : 1;
localparam FIFO_W = FRAMES_IN_FLIGHT > 1 ? $clog2(FRAMES_IN_FLIGHT) : 1;
localparam integer LAST_BEAT_I = BEATS_PER_FRAME - 1;
localparam [BEAT_W-1:0] LAST_BEAT = LAST_BEAT_I[BEAT_W-1:0];
localparam integer FIFO_FULL_I = FRAMES_IN_FLIGHT;
localparam [FIFO_W:0] FIFO_FULL = FIFO_FULL_I[FIFO_W:0];

initial begin
    if (BUS_IN_WIDTH < 32 || (BUS_IN_WIDTH & (BUS_IN_WIDTH - 1)) != 0)
        $error("spikeflow_dma_shell: BUS_IN_WIDTH must be a power of two >= 32");
    if (BUS_IN_WIDTH < IN_WIDTH) $error("spikeflow_dma_shell: BUS_IN_WIDTH must hold IN_WIDTH");
    if (OUT_WIDTH % 8 != 0) $error("spikeflow_dma_shell: OUT_WIDTH must be whole bytes");
    if (BEATS_PER_FRAME < 1) $error("spikeflow_dma_shell: BEATS_PER_FRAME must be >= 1");
    if (FRAMES_IN_FLIGHT < 2 || (FRAMES_IN_FLIGHT & (FRAMES_IN_FLIGHT - 1)) != 0)
        $error("spikeflow_dma_shell: FRAMES_IN_FLIGHT must be a power of two >= 2");
end

reg rst;
always @(posedge aclk) rst <= !aresetn;

// the padding above IN_WIDTH and TKEEP (every DMA beat is a whole word) carry nothing
/* verilator lint_off UNUSEDSIGNAL */
wire unused = &{1'b0, s_axis_tdata, s_axis_tkeep, status_frame_error};
/* verilator lint_on UNUSEDSIGNAL */

wire status_frame_error;  // counted in status_error_count, which the status block reads
wire [STATUS_WIDTH-1:0] status_error_count;
wire [31:0] batch_frames;  // the BATCH register, 0 read as 1

// -- input: beats and frames of the current batch ------------------------------------------------------------
reg [BEAT_W-1:0] in_beat;    // beat of the current frame
reg              in_start;   // the next beat starts a batch
reg [31:0]       in_left;    // frames of the batch after the current one (valid when !in_start)
reg [FIFO_W:0]   in_flight;  // frames begun at the input whose output frame has not ended
reg [STATUS_WIDTH-1:0] batch_errors;  // batches with a misplaced or missing DMA TLAST

wire first_beat = in_beat == {BEAT_W{1'b0}};
wire hold = first_beat && in_flight == FIFO_FULL;  // no room to track another frame: wait
wire top_tready;
assign s_axis_tready = top_tready && !hold;
wire in_fire = s_axis_tvalid && s_axis_tready;
wire [31:0] left = in_start ? batch_frames - 32'd1 : in_left;
wire frame_end = in_beat == LAST_BEAT;
wire batch_end = frame_end && left == 32'd0;  // the batch's last beat, by count
wire top_tlast = frame_end || s_axis_tlast;  // a DMA TLAST inside a frame ends it early (spikeflow_top pads it)
wire ends_batch = s_axis_tlast || batch_end;
wire tlast_error = in_fire && frame_end && (s_axis_tlast != batch_end);

// -- where each batch ends, one bit per frame from its first input beat to its last output value -------------
reg [FRAMES_IN_FLIGHT-1:0] last_of_batch;
reg [FIFO_W-1:0] wr_frame;
reg [FIFO_W-1:0] rd_frame;
wire top_m_tvalid;
wire top_m_tlast;
wire out_frame_end = top_m_tvalid && m_axis_tready && top_m_tlast;

always @(posedge aclk) begin
    if (rst) begin
        in_beat <= {BEAT_W{1'b0}};
        in_start <= 1'b1;
        in_left <= 32'd0;
        wr_frame <= {FIFO_W{1'b0}};
        rd_frame <= {FIFO_W{1'b0}};
        in_flight <= {(FIFO_W+1){1'b0}};
        batch_errors <= {STATUS_WIDTH{1'b0}};
        last_of_batch <= {FRAMES_IN_FLIGHT{1'b0}};
    end else begin
        if (in_fire) begin
            in_beat <= top_tlast ? {BEAT_W{1'b0}} : in_beat + 1'b1;
            in_start <= ends_batch;
            in_left <= frame_end ? left - 32'd1 : left;
            // as planned at a frame's first beat, as it came at its last (they differ on a malformed batch)
            if (first_beat) last_of_batch[wr_frame] <= left == 32'd0;
            if (top_tlast) begin
                last_of_batch[wr_frame] <= ends_batch;
                wr_frame <= wr_frame + 1'b1;
            end
        end
        if (tlast_error) batch_errors <= batch_errors + 1'b1;
        if (out_frame_end) rd_frame <= rd_frame + 1'b1;
        in_flight <= in_flight + {{FIFO_W{1'b0}}, in_fire && first_beat} - {{FIFO_W{1'b0}}, out_frame_end};
    end
end

spikeflow_top #(
    .IN_WIDTH(IN_WIDTH),
    .OUT_WIDTH(OUT_WIDTH),
    .STATUS_WIDTH(STATUS_WIDTH)
) u_accelerator (
    .clk(aclk), .rst(rst),
    .s_axis_tdata(s_axis_tdata[IN_WIDTH-1:0]), .s_axis_tvalid(s_axis_tvalid && !hold), .s_axis_tready(top_tready),
    .s_axis_tlast(top_tlast),
    .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(top_m_tvalid), .m_axis_tready(m_axis_tready),
    .m_axis_tlast(top_m_tlast),
    .status_frame_error(status_frame_error), .status_error_count(status_error_count)
);

assign m_axis_tvalid = top_m_tvalid;
assign m_axis_tlast = top_m_tlast && last_of_batch[rd_frame];
assign m_axis_tkeep = {(OUT_WIDTH/8){1'b1}};

spikeflow_axil_status #(
    .ADDR_WIDTH(AXIL_ADDR_WIDTH),
    .IN_WIDTH(IN_WIDTH),
    .OUT_WIDTH(OUT_WIDTH),
    .STATUS_WIDTH(STATUS_WIDTH)
) u_status (
    .clk(aclk), .rst(rst),
    .s_axil_awaddr(s_axil_awaddr), .s_axil_awprot(s_axil_awprot), .s_axil_awvalid(s_axil_awvalid),
    .s_axil_awready(s_axil_awready), .s_axil_wdata(s_axil_wdata), .s_axil_wstrb(s_axil_wstrb),
    .s_axil_wvalid(s_axil_wvalid), .s_axil_wready(s_axil_wready), .s_axil_bresp(s_axil_bresp),
    .s_axil_bvalid(s_axil_bvalid), .s_axil_bready(s_axil_bready),
    .s_axil_araddr(s_axil_araddr), .s_axil_arprot(s_axil_arprot), .s_axil_arvalid(s_axil_arvalid),
    .s_axil_arready(s_axil_arready), .s_axil_rdata(s_axil_rdata), .s_axil_rresp(s_axil_rresp),
    .s_axil_rvalid(s_axil_rvalid), .s_axil_rready(s_axil_rready),
    .frame_in(in_fire && top_tlast),
    .frame_out(out_frame_end),
    .error_count(status_error_count + batch_errors),
    .batch_frames(batch_frames)
);

endmodule

`resetall
