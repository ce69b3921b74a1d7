// Max-pool on spike counts: KERNEL x KERNEL windows (no padding) over CHANNELS counts of BITS bits. On
// thermometer-coded spike trains the max of counts is the per-timestep OR of the trains.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module spikeflow_maxpool #(
    parameter CHANNELS = 4, // channels per pixel
    parameter BITS = 2,     // bits per spike count
    parameter IN_H = 8,     // input height
    parameter IN_W = 8,     // input width
    parameter KERNEL = 2,   // pooling window size
    parameter STRIDE = 2    // pooling stride
) (
    input  wire                     clk,
    input  wire                     rst,
    input  wire [CHANNELS*BITS-1:0] s_axis_tdata,
    input  wire                     s_axis_tvalid,
    output wire                     s_axis_tready,
    output reg  [CHANNELS*BITS-1:0] m_axis_tdata,
    output reg                      m_axis_tvalid,
    input  wire                     m_axis_tready
);

localparam PIX_W = CHANNELS * BITS;

initial begin
    if (CHANNELS < 1 || BITS < 1) $error("spikeflow_maxpool: CHANNELS and BITS must be >= 1");
    if (KERNEL < 1 || STRIDE < 1) $error("spikeflow_maxpool: KERNEL and STRIDE must be >= 1");
end

wire [KERNEL*KERNEL*PIX_W-1:0] win_data;
wire win_valid;
wire win_ready = !m_axis_tvalid || m_axis_tready;

spikeflow_window #(.PIX_W(PIX_W), .IN_H(IN_H), .IN_W(IN_W), .KERNEL(KERNEL), .STRIDE(STRIDE), .PADDING(0))
    u_window (.clk(clk), .rst(rst), .s_axis_tdata(s_axis_tdata), .s_axis_tvalid(s_axis_tvalid),
              .s_axis_tready(s_axis_tready), .m_axis_tdata(win_data), .m_axis_tvalid(win_valid),
              .m_axis_tready(win_ready));

// per-channel max of the window (evaluated only when a window is taken)
function [PIX_W-1:0] pool;
    input [KERNEL*KERNEL*PIX_W-1:0] w;
    integer c, e;
    begin
        pool = {PIX_W{1'b0}};
        for (c = 0; c < CHANNELS; c = c + 1) begin
            for (e = 0; e < KERNEL * KERNEL; e = e + 1) begin
                if (w[e*PIX_W + c*BITS +: BITS] > pool[c*BITS +: BITS])
                    pool[c*BITS +: BITS] = w[e*PIX_W + c*BITS +: BITS];
            end
        end
    end
endfunction

always @(posedge clk) begin
    if (win_valid && win_ready) m_axis_tdata <= pool(win_data);
end

always @(posedge clk) begin
    if (rst) begin
        m_axis_tvalid <= 1'b0;
    end else begin
        if (m_axis_tready) m_axis_tvalid <= 1'b0;
        if (win_valid && win_ready) m_axis_tvalid <= 1'b1;
    end
end

endmodule

`resetall
