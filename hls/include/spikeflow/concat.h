// spikeflow HLS library: channel concatenation of spike counts (docs/fewdif.md, "Concatenation").
//
// Two streams on the same grid are joined position by position: the output pixel holds the first input's
// channels, then the second's. Two or more inputs are joined by a cascade of two-input concats in input order
// (the generator writes it). CFG: channels_a, channels_b, positions, bits (of a spike count).
#ifndef SPIKEFLOW_CONCAT_H
#define SPIKEFLOW_CONCAT_H

#include "spikeflow/common.h"

namespace spikeflow {

// One frame: positions pixels from each input in, as many pixels of channels_a + channels_b counts out.
template <class CFG>
void fewdif_concat(hls::stream<vec<ap_uint<CFG::bits>, CFG::channels_a> >& in_a,
                   hls::stream<vec<ap_uint<CFG::bits>, CFG::channels_b> >& in_b,
                   hls::stream<vec<ap_uint<CFG::bits>, CFG::channels_a + CFG::channels_b> >& out) {
positions:
    for (int pos = 0; pos < CFG::positions; pos++) {
#pragma HLS PIPELINE II=1
        const vec<ap_uint<CFG::bits>, CFG::channels_a> a = in_a.read();
        const vec<ap_uint<CFG::bits>, CFG::channels_b> b = in_b.read();
        vec<ap_uint<CFG::bits>, CFG::channels_a + CFG::channels_b> joined;
        for (int c = 0; c < CFG::channels_a; c++) {
#pragma HLS UNROLL
            joined.v[c] = a.v[c];
        }
        for (int c = 0; c < CFG::channels_b; c++) {
#pragma HLS UNROLL
            joined.v[CFG::channels_a + c] = b.v[c];
        }
        out.write(joined);
    }
}

}  // namespace spikeflow

#endif  // SPIKEFLOW_CONCAT_H
