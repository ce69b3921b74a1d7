// spikeflow HLS library: max-pool of spike counts (no padding).
//
// On thermometer-ordered spike trains the OR per timestep equals the max of the counts (docs/fewdif.md), so
// the layer takes the per-channel max over each KxK window, stride S. Rows and columns past the last whole
// window are read and dropped. CFG: channels, in_height, in_width, kernel, stride, out_height, out_width, bits.
#ifndef SPIKEFLOW_MAXPOOL_H
#define SPIKEFLOW_MAXPOOL_H

#include "spikeflow/common.h"
#include "spikeflow/window.h"

namespace spikeflow {

// One frame: in_height*in_width pixels of spike counts in, out_height*out_width pixels out.
template <class CFG>
void fewdif_maxpool(hls::stream<vec<ap_uint<CFG::bits>, CFG::channels> >& in,
                    hls::stream<vec<ap_uint<CFG::bits>, CFG::channels> >& out) {
    typedef vec<ap_uint<CFG::bits>, CFG::channels> pixel_t;
    const int K = CFG::kernel;
    static pixel_t lines[CFG::kernel > 1 ? CFG::kernel - 1 : 1][CFG::in_width];
    static pixel_t win[CFG::kernel][CFG::kernel];
#pragma HLS ARRAY_PARTITION variable=lines complete dim=1
#pragma HLS ARRAY_PARTITION variable=win complete dim=0
raster:
    for (int pos = 0; pos < CFG::in_height * CFG::in_width; pos++) {
#pragma HLS PIPELINE II=1
        const int y = pos / CFG::in_width, x = pos % CFG::in_width;
        window_push<pixel_t, CFG::kernel, CFG::in_width>(lines, win, x, in.read());
        const int oy = (y - (K - 1)) / CFG::stride, ox = (x - (K - 1)) / CFG::stride;
        if (window_complete<CFG::kernel, CFG::stride>(y, x) && oy < CFG::out_height && ox < CFG::out_width) {
            pixel_t m;
            for (int c = 0; c < CFG::channels; c++) {
#pragma HLS UNROLL
                ap_uint<CFG::bits> best = 0;
                for (int i = 0; i < K; i++) {
#pragma HLS UNROLL
                    for (int j = 0; j < K; j++) {
#pragma HLS UNROLL
                        if (win[i][j].v[c] > best) best = win[i][j].v[c];
                    }
                }
                m.v[c] = best;
            }
            out.write(m);
        }
    }
}

}  // namespace spikeflow

#endif  // SPIKEFLOW_MAXPOOL_H
