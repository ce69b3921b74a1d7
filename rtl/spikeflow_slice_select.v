// The slice of a window a neuron unit works on: a counter over the SF slices of WIDTH bits each, and the current
// slice, window[sf*WIDTH +: WIDTH]. `step` moves to the next slice; the last wraps to the first.
//
// Two formulations of the select:
//   logic (synthesis): an AND-OR with a one-hot register (sf_hot[q] = (sf == q)), a balanced OR of SF terms, log6
//     deep, where a variable part-select becomes a mux chain or a barrel shifter over the whole window;
//   word (SPIKEFLOW_WORD_ARITH, the fast harness): the part-select itself, a shift of a few words in Verilator,
//     where the AND-OR is SF masked copies of the window.
// They are equal because sf_hot == 1 << sf and sf <= SF-1 in every state reachable from reset. With SPIKEFLOW_FORMAL
// that invariant and the equality of the two are assertions, which the flow's equiv step proves by temporal
// induction (Yosys `sat -tempinduct`) for each (SF, WIDTH) it generates (spikeflow.backends.rtl.equivalence).
`resetall
`timescale 1ns / 1ps
`default_nettype none

module spikeflow_slice_select #(
    parameter SF = 1,                           // slices per window
    parameter WIDTH = 1,                        // bits per slice
    parameter SFW = SF > 1 ? $clog2(SF) : 1     // bits of the slice index
) (
    input  wire                  clk,
    input  wire                  rst,
    input  wire                  step,          // advance to the next slice
    input  wire [SF*WIDTH-1:0]   window,
    output reg  [SFW-1:0]        sf,            // the current slice's index
    output wire [WIDTH-1:0]      slice          // window[sf*WIDTH +: WIDTH]
);

localparam integer SF_LAST_I = SF - 1;
localparam [SFW-1:0] SF_LAST = SF_LAST_I[SFW-1:0];

initial begin
    if (SF < 1 || WIDTH < 1) $error("spikeflow_slice_select: SF and WIDTH must be >= 1");
    if (SFW < 1 || (SF > 1 && (1 << SFW) < SF)) $error("spikeflow_slice_select: SFW too small for SF");
end

reg [SF-1:0] sf_hot;
always @(posedge clk) begin
    if (rst) begin
        sf <= 0;
        sf_hot <= {{(SF-1){1'b0}}, 1'b1};
    end else if (step) begin
        sf <= sf == SF_LAST ? {SFW{1'b0}} : sf + 1'b1;
        sf_hot <= sf == SF_LAST ? {{(SF-1){1'b0}}, 1'b1} : sf_hot << 1;
    end
end

/* verilator lint_off UNUSEDSIGNAL */  // one of the two is unused, except in the proof
reg  [WIDTH-1:0] slice_logic;
wire [WIDTH-1:0] slice_word = window[sf*WIDTH +: WIDTH];
/* verilator lint_on UNUSEDSIGNAL */
integer q;
always @* begin
    slice_logic = {WIDTH{1'b0}};
    for (q = 0; q < SF; q = q + 1) slice_logic = slice_logic | (window[q*WIDTH +: WIDTH] & {WIDTH{sf_hot[q]}});
end

`ifdef SPIKEFLOW_WORD_ARITH
assign slice = slice_word;
`else
assign slice = slice_logic;
`endif

`ifdef SPIKEFLOW_FORMAL
// checked in every state after the first (the proof starts in reset): the invariant, and the formulations equal
always @* begin
    assert (sf <= SF_LAST && sf_hot == {{(SF-1){1'b0}}, 1'b1} << sf);
    assert (slice_word == slice_logic);
end
`endif

endmodule

`resetall
