// spikeflow HLS library: the AXI-Stream adapters at the accelerator's ports.
//
// The words are the RTL top's (spikeflow/hw/stream.py, StreamFormat): the input carries pixels_per_beat pixels
// per beat in raster order, pixel p at bits [pixel_bits*C*(p+1)-1 : pixel_bits*C*p], channel 0 in the low
// bits, TLAST on the frame's last beat; the output carries one head value per beat, sign-extended to
// out_width bits, positions row-major and channel fastest, TLAST on the frame's last value.
//
// Malformed frames follow rtl/README.md: a frame ends at TLAST or at its last beat, whichever comes first.
// After an early TLAST the rest of the frame is zero pixels; a missing TLAST ends the frame at its last beat
// and the next beat starts a new frame. One output frame per input frame; nothing waits for TLAST.
#ifndef SPIKEFLOW_AXIS_H
#define SPIKEFLOW_AXIS_H

#include "ap_axi_sdata.h"
#include "spikeflow/common.h"

namespace spikeflow {

template <int WIDTH>
using axis_in_word = hls::axis_data<ap_uint<WIDTH>, AXIS_ENABLE_LAST>;  // TDATA, TLAST
template <int WIDTH>
using axis_out_word = hls::axis_data<ap_int<WIDTH>, AXIS_ENABLE_LAST>;  // TDATA, TLAST

// One frame of beats in, height*width pixels of `channels` pixel_bits-bit values out.
// CFG: channels, pixel_bits, pixels_per_beat, beats_per_frame, in_width.
template <class CFG>
void axis_input(hls::stream<axis_in_word<CFG::in_width> >& s_axis,
                hls::stream<vec<ap_uint<CFG::pixel_bits>, CFG::channels> >& out) {
    static_assert(CFG::in_width == CFG::pixel_bits * CFG::channels * CFG::pixels_per_beat,
                  "in_width must be pixel_bits x channels x pixels_per_beat");
    bool ended = false;  // an early TLAST ended the frame: pad it with zero pixels
    ap_uint<CFG::in_width> data = 0;
pixels:
    for (int i = 0; i < CFG::beats_per_frame * CFG::pixels_per_beat; i++) {
#pragma HLS PIPELINE II=1
        const int beat = i / CFG::pixels_per_beat, p = i % CFG::pixels_per_beat;
        if (p == 0) {
            data = 0;
            if (!ended) {
                const axis_in_word<CFG::in_width> word = s_axis.read();
                data = word.data;
                ended = word.last && beat != CFG::beats_per_frame - 1;
            }
        }
        vec<ap_uint<CFG::pixel_bits>, CFG::channels> pixel;
        for (int c = 0; c < CFG::channels; c++) {
#pragma HLS UNROLL
            const int lo = (p * CFG::channels + c) * CFG::pixel_bits;
            pixel.v[c] = data.range(lo + CFG::pixel_bits - 1, lo);
        }
        out.write(pixel);
    }
}

// One frame of positions*channels head values in, one sign-extended value per beat out.
// CFG: channels, positions, value_bits, out_width.
template <class CFG>
void axis_output(hls::stream<vec<ap_int<CFG::value_bits>, CFG::channels> >& in,
                 hls::stream<axis_out_word<CFG::out_width> >& m_axis) {
    static_assert(CFG::value_bits <= CFG::out_width, "out_width must hold a head value");
positions:
    for (int pos = 0; pos < CFG::positions; pos++) {
        const vec<ap_int<CFG::value_bits>, CFG::channels> v = in.read();
        for (int k = 0; k < CFG::channels; k++) {
#pragma HLS PIPELINE II=1
            axis_out_word<CFG::out_width> word;
            word.data = v.v[k];  // sign-extends
            word.last = pos == CFG::positions - 1 && k == CFG::channels - 1;
            m_axis.write(word);
        }
    }
}

}  // namespace spikeflow

#endif  // SPIKEFLOW_AXIS_H
