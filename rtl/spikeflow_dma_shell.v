// Zynq shell of the accelerator: the AXI DMA's streams in and out of spikeflow_top, and its status registers
// (spikeflow_axil_status) on AXI-Lite. The block design instantiates it as a module reference.
//
// The DMA moves BUS_IN_WIDTH-bit words (a power of two >= 32, spikeflow.hw.stream.bus_width): each word
// carries one input beat in its low IN_WIDTH bits; the bits above are padding the driver sets to zero
// (StreamFormat.pack_frames_bus) and the shell drops. Output beats are OUT_WIDTH bits, all bytes kept.
// aresetn is the block design's synchronous active-low peripheral reset.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module spikeflow_dma_shell #(
    parameter BUS_IN_WIDTH = 32,  // s_axis_tdata bits: the DMA MM2S stream width (IN_WIDTH padded)
    parameter IN_WIDTH = 24,      // spikeflow_top's s_axis_tdata bits
    parameter OUT_WIDTH = 32,     // spikeflow_top's (and the DMA S2MM stream's) m_axis_tdata bits
    parameter STATUS_WIDTH = 32,  // bits of spikeflow_top's error counter
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

initial begin
    if (BUS_IN_WIDTH < 32 || (BUS_IN_WIDTH & (BUS_IN_WIDTH - 1)) != 0)
        $error("spikeflow_dma_shell: BUS_IN_WIDTH must be a power of two >= 32");
    if (BUS_IN_WIDTH < IN_WIDTH) $error("spikeflow_dma_shell: BUS_IN_WIDTH must hold IN_WIDTH");
    if (OUT_WIDTH % 8 != 0) $error("spikeflow_dma_shell: OUT_WIDTH must be whole bytes");
end

reg rst;
always @(posedge aclk) rst <= !aresetn;

// the padding above IN_WIDTH and TKEEP (every DMA beat is a whole word) carry nothing
/* verilator lint_off UNUSEDSIGNAL */
wire unused = &{1'b0, s_axis_tdata, s_axis_tkeep, status_frame_error};
/* verilator lint_on UNUSEDSIGNAL */

wire status_frame_error;  // counted in status_error_count, which the status block reads
wire [STATUS_WIDTH-1:0] status_error_count;

spikeflow_top #(
    .IN_WIDTH(IN_WIDTH),
    .OUT_WIDTH(OUT_WIDTH),
    .STATUS_WIDTH(STATUS_WIDTH)
) u_accelerator (
    .clk(aclk), .rst(rst),
    .s_axis_tdata(s_axis_tdata[IN_WIDTH-1:0]), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
    .s_axis_tlast(s_axis_tlast),
    .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready),
    .m_axis_tlast(m_axis_tlast),
    .status_frame_error(status_frame_error), .status_error_count(status_error_count)
);

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
    .frame_in(s_axis_tvalid && s_axis_tready && s_axis_tlast),
    .frame_out(m_axis_tvalid && m_axis_tready && m_axis_tlast),
    .error_count(status_error_count)
);

endmodule

`resetall
