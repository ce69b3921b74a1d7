// spikeflow HLS library: nearest-neighbour upsampling of spike counts (docs/fewdif.md, "Upsampling").
//
// out[c][y][x] = in[c][y / factor][x / factor]: each count repeated on a factor x factor block. The first output
// row of a block reads the input row (each pixel once, repeated factor times along x) and keeps it in a line
// buffer; the other factor - 1 output rows repeat it from there. Thermometer order is kept, so this is exact on
// spike trains too. CFG: channels, in_height, in_width, factor, bits (of a spike count).
#ifndef SPIKEFLOW_UPSAMPLE_H
#define SPIKEFLOW_UPSAMPLE_H

#include "spikeflow/common.h"

namespace spikeflow {

// One frame: in_height*in_width pixels in, (in_height*factor)*(in_width*factor) pixels out.
template <class CFG>
void fewdif_upsample(hls::stream<vec<ap_uint<CFG::bits>, CFG::channels> >& in,
                     hls::stream<vec<ap_uint<CFG::bits>, CFG::channels> >& out) {
    typedef vec<ap_uint<CFG::bits>, CFG::channels> pixel_t;
    const int F = CFG::factor, OW = CFG::in_width * CFG::factor;
    static pixel_t line[CFG::in_width];
    pixel_t held;
raster:
    for (int pos = 0; pos < CFG::in_height * F * OW; pos++) {
#pragma HLS PIPELINE II=1
        const int oy = pos / OW, ox = pos % OW;
        if (ox % F == 0) {
            if (oy % F == 0) {
                held = in.read();
                line[ox / F] = held;
            } else {
                held = line[ox / F];
            }
        }
        out.write(held);
    }
}

}  // namespace spikeflow

#endif  // SPIKEFLOW_UPSAMPLE_H
