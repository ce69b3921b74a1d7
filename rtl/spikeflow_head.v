// Head accumulator: a FewdIF neuron unit without firing; the output stream carries the integer membrane V
// of every output channel (ACC_BITS each, two's complement), channel k at m_axis_tdata[k*ACC_BITS +: ACC_BITS].
`resetall
`timescale 1ns / 1ps
`default_nettype none

module spikeflow_head #(
    parameter N_IN = 4,          // window elements (kernel*kernel*in_channels)
    parameter IN_BITS = 2,       // bits per input element
    parameter IN_KIND = 1,       // 0: pixels, 1: spike counts
    parameter IN_MAX = 3,        // largest input value (spike timesteps)
    parameter OUT_CH = 4,        // output channels
    parameter PE = 1,            // output channels per cycle
    parameter SIMD = 1,          // window elements per cycle
    parameter TIME_PARALLEL = 1, // 1: all timesteps per cycle, 0: one per pass
    parameter WEIGHT_BITS = 4,   // signed weight width
    parameter ACC_BITS = 16,     // signed accumulator width
    parameter USE_DSP = 0,       // 1: pixel products as multiplies (DSP slices), see spikeflow_neuron
    parameter WEIGHT_FILE = "",  // $readmemh image of the weights
    parameter BIAS_FILE = ""     // $readmemh image of the biases
) (
    input  wire                       clk,
    input  wire                       rst,
    input  wire [N_IN*IN_BITS-1:0]    s_axis_tdata,
    input  wire                       s_axis_tvalid,
    output wire                       s_axis_tready,
    output wire [OUT_CH*ACC_BITS-1:0] m_axis_tdata,
    output wire                       m_axis_tvalid,
    input  wire                       m_axis_tready
);

initial begin
    if (ACC_BITS < 2) $error("spikeflow_head: ACC_BITS must be >= 2");
end

/* verilator lint_off UNUSEDSIGNAL */
wire no_shortcut_ready;
/* verilator lint_on UNUSEDSIGNAL */
spikeflow_neuron #(
    .N_IN(N_IN), .IN_BITS(IN_BITS), .IN_KIND(IN_KIND), .IN_MAX(IN_MAX), .OUT_CH(OUT_CH), .PE(PE),
    .SIMD(SIMD), .TIME_PARALLEL(TIME_PARALLEL), .WEIGHT_BITS(WEIGHT_BITS), .ACC_BITS(ACC_BITS), .USE_DSP(USE_DSP), .FIRE(0),
    .THRESHOLDS(1), .OUT_BITS(1), .WEIGHT_FILE(WEIGHT_FILE), .BIAS_FILE(BIAS_FILE), .THRESH_FILE("")
) u_neuron (
    .clk(clk), .rst(rst), .s_axis_tdata(s_axis_tdata), .s_axis_tvalid(s_axis_tvalid),
    .s_axis_tready(s_axis_tready), .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid),
    .m_axis_tready(m_axis_tready),
    .r_axis_tdata({(OUT_CH*2){1'b0}}), .r_axis_tvalid(1'b0), .r_axis_tready(no_shortcut_ready)  // none in a head
);

endmodule

`resetall
