// Alveo (Vitis RTL kernel) wrapper of the accelerator: reads N input frames from device memory over
// m_axi_gmem0, streams them through spikeflow_top, writes the output values over m_axi_gmem1, under an
// AXI-Lite control block with the ap_ctrl_hs handshake.
//
// Control registers (byte offsets; the same table is KERNEL_REGISTERS in spikeflow/backends/bitstream/registers.py
// and the kernel.xml that package_xo reads):
//   0x00 CTRL    bit 0 ap_start (write 1 to start; reads 1 while running), 1 ap_done (clear on read),
//                2 ap_idle, 3 ap_ready (clear on read)
//   0x04 GIE     bit 0: global interrupt enable
//   0x08 IER     bit 0: interrupt on done, bit 1: on ready
//   0x0C ISR     bit 0 done, bit 1 ready; a 1 written toggles the bit
//   0x10 frames  frames to run
//   0x18 input   input buffer address, low word (0x1C high word)
//   0x24 output  output buffer address, low word (0x28 high word)
//   0x30 errors  malformed input frames (spikeflow_top's counter), read only
// Memory layout: input words of BUS_IN_WIDTH bits, one input beat in the low IN_WIDTH bits of each (the rest
// padding), BEATS_PER_FRAME words per frame; output words of OUT_WIDTH bits, VALUES_PER_FRAME per frame.
// Buffers must be aligned to BURST_LEN words (XRT allocates 4 KiB-aligned buffers), so no burst crosses 4 KiB.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module spikeflow_kernel #(
    parameter BUS_IN_WIDTH = 32,      // m_axi_gmem0 data bits: IN_WIDTH padded to a power of two >= 32
    parameter IN_WIDTH = 24,          // spikeflow_top's s_axis_tdata bits
    parameter OUT_WIDTH = 32,         // spikeflow_top's m_axis_tdata bits, and m_axi_gmem1's data bits
    parameter STATUS_WIDTH = 32,      // bits of spikeflow_top's error counter
    parameter BEATS_PER_FRAME = 16,   // input beats (words) per frame
    parameter VALUES_PER_FRAME = 16,  // output values (words) per frame
    parameter BURST_LEN = 16,         // beats per AXI burst (power of two, 2..256)
    parameter ADDR_WIDTH = 64         // m_axi address bits
) (
    (* X_INTERFACE_PARAMETER = "ASSOCIATED_BUSIF s_axi_control:m_axi_gmem0:m_axi_gmem1, ASSOCIATED_RESET ap_rst_n" *)
    input  wire                        ap_clk,
    input  wire                        ap_rst_n,
    /* verilator lint_off SYMRSVDWORD */
    output wire                        interrupt,  // the Vitis name of a kernel's interrupt
    /* verilator lint_on SYMRSVDWORD */
    // AXI-Lite control
    input  wire [5:0]                  s_axi_control_awaddr,
    input  wire                        s_axi_control_awvalid,
    output wire                        s_axi_control_awready,
    input  wire [31:0]                 s_axi_control_wdata,
    input  wire [3:0]                  s_axi_control_wstrb,
    input  wire                        s_axi_control_wvalid,
    output wire                        s_axi_control_wready,
    output wire [1:0]                  s_axi_control_bresp,
    output reg                         s_axi_control_bvalid,
    input  wire                        s_axi_control_bready,
    input  wire [5:0]                  s_axi_control_araddr,
    input  wire                        s_axi_control_arvalid,
    output wire                        s_axi_control_arready,
    output reg  [31:0]                 s_axi_control_rdata,
    output wire [1:0]                  s_axi_control_rresp,
    output reg                         s_axi_control_rvalid,
    input  wire                        s_axi_control_rready,
    // m_axi_gmem0: reads the input frames
    output wire [0:0]                  m_axi_gmem0_arid,
    output wire [ADDR_WIDTH-1:0]       m_axi_gmem0_araddr,
    output wire [7:0]                  m_axi_gmem0_arlen,
    output wire [2:0]                  m_axi_gmem0_arsize,
    output wire [1:0]                  m_axi_gmem0_arburst,
    output wire                        m_axi_gmem0_arvalid,
    input  wire                        m_axi_gmem0_arready,
    input  wire [0:0]                  m_axi_gmem0_rid,
    input  wire [BUS_IN_WIDTH-1:0]     m_axi_gmem0_rdata,
    input  wire [1:0]                  m_axi_gmem0_rresp,
    input  wire                        m_axi_gmem0_rlast,
    input  wire                        m_axi_gmem0_rvalid,
    output wire                        m_axi_gmem0_rready,
    // m_axi_gmem1: writes the output values
    output wire [0:0]                  m_axi_gmem1_awid,
    output wire [ADDR_WIDTH-1:0]       m_axi_gmem1_awaddr,
    output wire [7:0]                  m_axi_gmem1_awlen,
    output wire [2:0]                  m_axi_gmem1_awsize,
    output wire [1:0]                  m_axi_gmem1_awburst,
    output wire                        m_axi_gmem1_awvalid,
    input  wire                        m_axi_gmem1_awready,
    output wire [OUT_WIDTH-1:0]        m_axi_gmem1_wdata,
    output wire [OUT_WIDTH/8-1:0]      m_axi_gmem1_wstrb,
    output wire                        m_axi_gmem1_wlast,
    output wire                        m_axi_gmem1_wvalid,
    input  wire                        m_axi_gmem1_wready,
    input  wire [0:0]                  m_axi_gmem1_bid,
    input  wire [1:0]                  m_axi_gmem1_bresp,
    input  wire                        m_axi_gmem1_bvalid,
    output wire                        m_axi_gmem1_bready
);

localparam IN_BYTES = BUS_IN_WIDTH / 8;
localparam OUT_BYTES = OUT_WIDTH / 8;
localparam integer IN_SIZE = $clog2(IN_BYTES);
localparam integer OUT_SIZE = $clog2(OUT_BYTES);
localparam CW = 40;  // beat counters: frames (32 bits) x beats per frame
localparam BW = $clog2(BEATS_PER_FRAME + 1);  // bits of the beat-in-frame counter
localparam integer BURST_I = BURST_LEN;
localparam integer LAST_IN_BURST_I = BURST_LEN - 1;
localparam integer LAST_IN_FRAME_I = BEATS_PER_FRAME - 1;
localparam [CW-1:0] BURST_BEATS = {{(CW-32){1'b0}}, BURST_I[31:0]};
localparam [8:0] LAST_IN_BURST = LAST_IN_BURST_I[8:0];
localparam [BW-1:0] LAST_IN_FRAME = LAST_IN_FRAME_I[BW-1:0];

initial begin
    if (BUS_IN_WIDTH < 32 || (BUS_IN_WIDTH & (BUS_IN_WIDTH - 1)) != 0 || BUS_IN_WIDTH > 1024)
        $error("spikeflow_kernel: BUS_IN_WIDTH must be a power of two, 32..1024");
    if (BUS_IN_WIDTH < IN_WIDTH) $error("spikeflow_kernel: BUS_IN_WIDTH must hold IN_WIDTH");
    if (OUT_WIDTH < 32 || (OUT_WIDTH & (OUT_WIDTH - 1)) != 0) $error("spikeflow_kernel: OUT_WIDTH must be 32, 64, ...");
    if (BURST_LEN < 2 || BURST_LEN > 256 || (BURST_LEN & (BURST_LEN - 1)) != 0)
        $error("spikeflow_kernel: BURST_LEN must be a power of two, 2..256");
    if (BEATS_PER_FRAME < 1 || VALUES_PER_FRAME < 1) $error("spikeflow_kernel: empty frames");
end

reg rst;
always @(posedge ap_clk) rst <= !ap_rst_n;

// ---- control registers ------------------------------------------------------------------------------------
reg        running;
reg        ap_done;
reg        ap_ready;
reg        gie;
reg [1:0]  ier;
reg [1:0]  isr;
reg [31:0] frames;
reg [63:0] in_base;
reg [63:0] out_base;
wire       finish;
wire       frame_error;  // cannot happen here (the kernel makes TLAST); counted in error_count all the same
wire [STATUS_WIDTH-1:0] error_count;

wire wr_take = s_axi_control_awvalid && s_axi_control_wvalid && (!s_axi_control_bvalid || s_axi_control_bready);
assign s_axi_control_awready = wr_take;
assign s_axi_control_wready = wr_take;
assign s_axi_control_bresp = 2'b00;
assign s_axi_control_arready = !s_axi_control_rvalid || s_axi_control_rready;
assign s_axi_control_rresp = 2'b00;
wire rd_take = s_axi_control_arvalid && s_axi_control_arready;
wire [5:0] wa = {s_axi_control_awaddr[5:2], 2'b00};  // the control block's 6 address bits (kernel.xml)
wire [5:0] ra = {s_axi_control_araddr[5:2], 2'b00};
wire [31:0] wmask = {{8{s_axi_control_wstrb[3]}}, {8{s_axi_control_wstrb[2]}}, {8{s_axi_control_wstrb[1]}},
                     {8{s_axi_control_wstrb[0]}}};
wire start = wr_take && wa == 6'h00 && s_axi_control_wstrb[0] && s_axi_control_wdata[0] && !running;

function [31:0] merge(input [31:0] old, input [31:0] data, input [31:0] mask);
    merge = (old & ~mask) | (data & mask);
endfunction

always @(posedge ap_clk) begin
    if (rst) begin
        s_axi_control_bvalid <= 1'b0;
        s_axi_control_rvalid <= 1'b0;
        s_axi_control_rdata <= 32'd0;
        ap_done <= 1'b0;
        ap_ready <= 1'b0;
        gie <= 1'b0;
        ier <= 2'b00;
        isr <= 2'b00;
        frames <= 32'd0;
        in_base <= 64'd0;
        out_base <= 64'd0;
    end else begin
        if (wr_take) s_axi_control_bvalid <= 1'b1;
        else if (s_axi_control_bready) s_axi_control_bvalid <= 1'b0;
        if (wr_take) begin
            case (wa)
                6'h04: if (s_axi_control_wstrb[0]) gie <= s_axi_control_wdata[0];
                6'h08: if (s_axi_control_wstrb[0]) ier <= s_axi_control_wdata[1:0];
                6'h0C: isr <= isr ^ (s_axi_control_wdata[1:0] & {2{s_axi_control_wstrb[0]}});
                6'h10: frames <= merge(frames, s_axi_control_wdata, wmask);
                6'h18: in_base[31:0] <= merge(in_base[31:0], s_axi_control_wdata, wmask);
                6'h1C: in_base[63:32] <= merge(in_base[63:32], s_axi_control_wdata, wmask);
                6'h24: out_base[31:0] <= merge(out_base[31:0], s_axi_control_wdata, wmask);
                6'h28: out_base[63:32] <= merge(out_base[63:32], s_axi_control_wdata, wmask);
                default: ;
            endcase
        end
        if (rd_take) begin
            s_axi_control_rvalid <= 1'b1;
            case (ra)
                6'h00: s_axi_control_rdata <= {28'd0, ap_ready, !running, ap_done, running};
                6'h04: s_axi_control_rdata <= {31'd0, gie};
                6'h08: s_axi_control_rdata <= {30'd0, ier};
                6'h0C: s_axi_control_rdata <= {30'd0, isr};
                6'h10: s_axi_control_rdata <= frames;
                6'h18: s_axi_control_rdata <= in_base[31:0];
                6'h1C: s_axi_control_rdata <= in_base[63:32];
                6'h24: s_axi_control_rdata <= out_base[31:0];
                6'h28: s_axi_control_rdata <= out_base[63:32];
                6'h30: s_axi_control_rdata <= {{(32-STATUS_WIDTH){1'b0}}, error_count};
                default: s_axi_control_rdata <= 32'd0;
            endcase
        end else if (s_axi_control_rready) begin
            s_axi_control_rvalid <= 1'b0;
        end
        // ap_done and ap_ready clear when CTRL is read; a new completion in the same cycle wins
        if (rd_take && ra == 6'h00) begin
            ap_done <= 1'b0;
            ap_ready <= 1'b0;
        end
        if (finish) begin
            ap_done <= 1'b1;
            ap_ready <= 1'b1;
            isr <= isr | (ier & 2'b11);
        end
    end
end

assign interrupt = gie && |isr;

// ---- run state ------------------------------------------------------------------------------------------------
reg [CW-1:0] rd_left;      // input beats still to request
reg [CW-1:0] in_left;      // input beats still to pass to the accelerator
reg [CW-1:0] aw_left;      // output beats still to request
reg [CW-1:0] w_left;       // output beats still to write
reg [31:0]   bursts_open;  // write bursts requested minus responses received
reg [31:0]   w_bursts_ok;  // write bursts whose address has gone out and whose data has not all gone
reg [ADDR_WIDTH-1:0] rd_addr;
reg [ADDR_WIDTH-1:0] wr_addr;
reg [BW-1:0] in_beat;
reg [8:0] w_beat;

wire [CW-1:0] in_total = frames * BEATS_PER_FRAME;
wire [CW-1:0] out_total = frames * VALUES_PER_FRAME;
wire [8:0] rd_len = rd_left >= BURST_BEATS ? BURST_LEN[8:0] : rd_left[8:0];
wire [8:0] aw_len = aw_left >= BURST_BEATS ? BURST_LEN[8:0] : aw_left[8:0];

assign m_axi_gmem0_arid = 1'b0;
assign m_axi_gmem0_araddr = rd_addr;
assign m_axi_gmem0_arlen = rd_len[7:0] - 8'd1;
assign m_axi_gmem0_arsize = IN_SIZE[2:0];
assign m_axi_gmem0_arburst = 2'b01;
assign m_axi_gmem0_arvalid = running && rd_left != 0;

assign m_axi_gmem1_awid = 1'b0;
assign m_axi_gmem1_awaddr = wr_addr;
assign m_axi_gmem1_awlen = aw_len[7:0] - 8'd1;
assign m_axi_gmem1_awsize = OUT_SIZE[2:0];
assign m_axi_gmem1_awburst = 2'b01;
assign m_axi_gmem1_awvalid = running && aw_left != 0;
assign m_axi_gmem1_bready = 1'b1;

// input: memory words straight into the accelerator, TLAST on each frame's last beat
wire                 acc_s_tready;
assign m_axi_gmem0_rready = running && in_left != 0 && acc_s_tready;
wire                 acc_s_tvalid = running && in_left != 0 && m_axi_gmem0_rvalid;
wire                 acc_s_tlast = in_beat == LAST_IN_FRAME;
wire                 in_take = acc_s_tvalid && acc_s_tready;

// output: values into write bursts, only behind their burst's address
wire [OUT_WIDTH-1:0] acc_m_tdata;
wire                 acc_m_tvalid;
wire                 acc_m_tlast;
wire                 w_open = w_bursts_ok != 0;
assign m_axi_gmem1_wdata = acc_m_tdata;
assign m_axi_gmem1_wstrb = {OUT_BYTES{1'b1}};
assign m_axi_gmem1_wlast = w_beat == LAST_IN_BURST || w_left == 1;
assign m_axi_gmem1_wvalid = running && w_left != 0 && w_open && acc_m_tvalid;
wire                 acc_m_tready = running && w_left != 0 && w_open && m_axi_gmem1_wready;
wire                 w_take = m_axi_gmem1_wvalid && m_axi_gmem1_wready;
wire                 aw_take = m_axi_gmem1_awvalid && m_axi_gmem1_awready;
wire                 b_take = m_axi_gmem1_bvalid && m_axi_gmem1_bready;

assign finish = running && rd_left == 0 && in_left == 0 && aw_left == 0 && w_left == 0 && bursts_open == 0;

always @(posedge ap_clk) begin
    if (rst) begin
        running <= 1'b0;
        rd_left <= 0;
        in_left <= 0;
        aw_left <= 0;
        w_left <= 0;
        bursts_open <= 0;
        w_bursts_ok <= 0;
        rd_addr <= 0;
        wr_addr <= 0;
        in_beat <= 0;
        w_beat <= 0;
    end else if (start) begin
        running <= 1'b1;
        rd_left <= in_total;
        in_left <= in_total;
        aw_left <= out_total;
        w_left <= out_total;
        bursts_open <= 0;
        w_bursts_ok <= 0;
        rd_addr <= in_base[ADDR_WIDTH-1:0];
        wr_addr <= out_base[ADDR_WIDTH-1:0];
        in_beat <= 0;
        w_beat <= 0;
    end else if (running) begin
        if (finish) running <= 1'b0;
        if (m_axi_gmem0_arvalid && m_axi_gmem0_arready) begin
            rd_left <= rd_left - {{(CW-9){1'b0}}, rd_len};
            rd_addr <= rd_addr + rd_len * IN_BYTES;
        end
        if (in_take) begin
            in_left <= in_left - 1'b1;
            in_beat <= acc_s_tlast ? 0 : in_beat + 1'b1;
        end
        if (aw_take) begin
            aw_left <= aw_left - {{(CW-9){1'b0}}, aw_len};
            wr_addr <= wr_addr + aw_len * OUT_BYTES;
        end
        w_bursts_ok <= w_bursts_ok + (aw_take ? 1 : 0) - (w_take && m_axi_gmem1_wlast ? 1 : 0);
        bursts_open <= bursts_open + (aw_take ? 1 : 0) - (b_take ? 1 : 0);
        if (w_take) begin
            w_left <= w_left - 1'b1;
            w_beat <= m_axi_gmem1_wlast ? 0 : w_beat + 1'b1;
        end
    end
end

spikeflow_top #(
    .IN_WIDTH(IN_WIDTH),
    .OUT_WIDTH(OUT_WIDTH),
    .STATUS_WIDTH(STATUS_WIDTH)
) u_accelerator (
    .clk(ap_clk), .rst(rst),
    .s_axis_tdata(m_axi_gmem0_rdata[IN_WIDTH-1:0]), .s_axis_tvalid(acc_s_tvalid), .s_axis_tready(acc_s_tready),
    .s_axis_tlast(acc_s_tlast),
    .m_axis_tdata(acc_m_tdata), .m_axis_tvalid(acc_m_tvalid), .m_axis_tready(acc_m_tready),
    .m_axis_tlast(acc_m_tlast),
    .status_frame_error(frame_error), .status_error_count(error_count)
);

// IDs, responses, RLAST (bursts are counted), the padding above IN_WIDTH and the output TLAST (values are counted)
/* verilator lint_off UNUSEDSIGNAL */
wire unused = &{1'b0, m_axi_gmem0_rid, m_axi_gmem0_rresp, m_axi_gmem0_rlast, m_axi_gmem0_rdata,
                m_axi_gmem1_bid, m_axi_gmem1_bresp, acc_m_tlast, frame_error, s_axi_control_wdata, s_axi_control_awaddr[1:0],
                s_axi_control_araddr[1:0]};
/* verilator lint_on UNUSEDSIGNAL */

endmodule

`resetall
