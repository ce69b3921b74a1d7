// AXI-Lite status register block of the accelerator (Zynq shell): frame counters, error count, cycle counter,
// and the number of frames per DMA transfer.
//
// Register map (byte offsets, 32-bit registers; the same table is spikeflow/backends/bitstream/registers.py,
// which writes it into the driver's address map):
//   0x00 ID          read   0x53504B46 ("SPKF")
//   0x04 STREAM      read   {OUT_WIDTH[15:0], IN_WIDTH[15:0]}: the accelerator's stream widths
//   0x08 FRAMES_IN   read   input frames accepted (frame ends on the input stream, not batches)
//   0x0C FRAMES_OUT  read   output frames sent (frame ends on the output stream, not batches)
//   0x10 ERRORS      read   malformed input frames (spikeflow_top's count plus the shell's batch errors)
//   0x14 CYCLES      read   clock cycles since reset or the last clear (wraps)
//   0x18 CONTROL     write  bit 0: clear FRAMES_IN, FRAMES_OUT and CYCLES (reads 0)
//   0x1C BATCH       r/w    frames per DMA transfer (reset 1; 0 counts as 1): the shell's TLAST spacing
// Other offsets read 0 and ignore writes; responses are always OKAY.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module spikeflow_axil_status #(
    parameter ADDR_WIDTH = 6,    // s_axil address bits (the block decodes 8 words)
    parameter IN_WIDTH = 24,     // accelerator input beat bits, reported in STREAM
    parameter OUT_WIDTH = 32,    // accelerator output beat bits, reported in STREAM
    parameter STATUS_WIDTH = 32  // bits of the accelerator's error counter (at most 32)
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire [ADDR_WIDTH-1:0]   s_axil_awaddr,
    input  wire [2:0]              s_axil_awprot,
    input  wire                    s_axil_awvalid,
    output wire                    s_axil_awready,
    input  wire [31:0]             s_axil_wdata,
    input  wire [3:0]              s_axil_wstrb,
    input  wire                    s_axil_wvalid,
    output wire                    s_axil_wready,
    output wire [1:0]              s_axil_bresp,
    output reg                     s_axil_bvalid,
    input  wire                    s_axil_bready,
    input  wire [ADDR_WIDTH-1:0]   s_axil_araddr,
    input  wire [2:0]              s_axil_arprot,
    input  wire                    s_axil_arvalid,
    output wire                    s_axil_arready,
    output reg  [31:0]             s_axil_rdata,
    output wire [1:0]              s_axil_rresp,
    output reg                     s_axil_rvalid,
    input  wire                    s_axil_rready,
    input  wire                    frame_in,      // one cycle per input frame
    input  wire                    frame_out,     // one cycle per output frame
    input  wire [STATUS_WIDTH-1:0] error_count,
    output wire [31:0]             batch_frames   // BATCH, 0 read as 1
);

localparam [31:0] ID = 32'h53504B46;

// protection bits: part of the interface, not of this register map
/* verilator lint_off UNUSEDSIGNAL */
wire unused = &{1'b0, s_axil_awprot, s_axil_arprot};
/* verilator lint_on UNUSEDSIGNAL */
localparam [2:0] REG_ID = 3'd0, REG_STREAM = 3'd1, REG_FRAMES_IN = 3'd2, REG_FRAMES_OUT = 3'd3,
                 REG_ERRORS = 3'd4, REG_CYCLES = 3'd5, REG_CONTROL = 3'd6, REG_BATCH = 3'd7;

initial begin
    if (ADDR_WIDTH < 5) $error("spikeflow_axil_status: ADDR_WIDTH must be >= 5 (8 words)");
    if (STATUS_WIDTH < 1 || STATUS_WIDTH > 32) $error("spikeflow_axil_status: STATUS_WIDTH must be 1..32");
    if (IN_WIDTH < 1 || IN_WIDTH > 65535 || OUT_WIDTH < 1 || OUT_WIDTH > 65535)
        $error("spikeflow_axil_status: stream widths must fit 16 bits");
end

reg [31:0] frames_in_count;
reg [31:0] frames_out_count;
reg [31:0] cycle_count;
reg [31:0] batch;
assign batch_frames = batch == 32'd0 ? 32'd1 : batch;

wire [2:0] wr_index = s_axil_awaddr[4:2];
wire [2:0] rd_index = s_axil_araddr[4:2];
wire wr_upper_zero = ADDR_WIDTH == 5 ? 1'b1 : ~|(s_axil_awaddr >> 5);
wire rd_upper_zero = ADDR_WIDTH == 5 ? 1'b1 : ~|(s_axil_araddr >> 5);

// a write takes address and data together, when the previous response is gone or leaving
wire wr_take = s_axil_awvalid && s_axil_wvalid && (!s_axil_bvalid || s_axil_bready);
assign s_axil_awready = wr_take;
assign s_axil_wready = wr_take;
assign s_axil_bresp = 2'b00;
wire clear = wr_take && wr_upper_zero && wr_index == REG_CONTROL && s_axil_wstrb[0] && s_axil_wdata[0];
wire batch_write = wr_take && wr_upper_zero && wr_index == REG_BATCH;

assign s_axil_arready = !s_axil_rvalid || s_axil_rready;
assign s_axil_rresp = 2'b00;

always @(posedge clk) begin
    if (rst) begin
        s_axil_bvalid <= 1'b0;
        s_axil_rvalid <= 1'b0;
        s_axil_rdata <= 32'd0;
    end else begin
        if (wr_take) s_axil_bvalid <= 1'b1;
        else if (s_axil_bready) s_axil_bvalid <= 1'b0;
        if (s_axil_arvalid && s_axil_arready) begin
            s_axil_rvalid <= 1'b1;
            s_axil_rdata <= 32'd0;
            if (rd_upper_zero) begin
                case (rd_index)
                    REG_ID:         s_axil_rdata <= ID;
                    REG_STREAM:     s_axil_rdata <= {OUT_WIDTH[15:0], IN_WIDTH[15:0]};
                    REG_FRAMES_IN:  s_axil_rdata <= frames_in_count;
                    REG_FRAMES_OUT: s_axil_rdata <= frames_out_count;
                    REG_ERRORS:     s_axil_rdata <= {{(32-STATUS_WIDTH){1'b0}}, error_count};
                    REG_CYCLES:     s_axil_rdata <= cycle_count;
                    REG_BATCH:      s_axil_rdata <= batch;
                    default:        s_axil_rdata <= 32'd0;
                endcase
            end
        end else if (s_axil_rready) begin
            s_axil_rvalid <= 1'b0;
        end
    end
end

integer i;
always @(posedge clk) begin
    if (rst) begin
        batch <= 32'd1;
    end else if (batch_write) begin
        for (i = 0; i < 4; i = i + 1)
            if (s_axil_wstrb[i]) batch[8*i +: 8] <= s_axil_wdata[8*i +: 8];
    end
end

always @(posedge clk) begin
    if (rst || clear) begin
        frames_in_count <= 32'd0;
        frames_out_count <= 32'd0;
        cycle_count <= 32'd0;
    end else begin
        if (frame_in) frames_in_count <= frames_in_count + 1'b1;
        if (frame_out) frames_out_count <= frames_out_count + 1'b1;
        cycle_count <= cycle_count + 1'b1;
    end
end

endmodule

`resetall
