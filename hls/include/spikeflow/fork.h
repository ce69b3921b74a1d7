// spikeflow HLS library: a fork, one stream of pixels read by two consumers.
//
// In a DAG network a tensor may feed several layers (docs/fewdif.md, "Beyond a chain"); every consumer sees the
// same pixels, so the fork copies each pixel to both of its output streams. A tensor read by n > 2 consumers is
// forked by a cascade of n - 1 forks (the generator writes it). CFG: channels, bits (of one value), positions.
#ifndef SPIKEFLOW_FORK_H
#define SPIKEFLOW_FORK_H

#include "spikeflow/common.h"

namespace spikeflow {

// One frame: positions pixels in, the same pixels out on out0 and out1.
template <class CFG>
void fewdif_fork(hls::stream<vec<ap_uint<CFG::bits>, CFG::channels> >& in,
                 hls::stream<vec<ap_uint<CFG::bits>, CFG::channels> >& out0,
                 hls::stream<vec<ap_uint<CFG::bits>, CFG::channels> >& out1) {
positions:
    for (int pos = 0; pos < CFG::positions; pos++) {
#pragma HLS PIPELINE II=1
        const vec<ap_uint<CFG::bits>, CFG::channels> pixel = in.read();
        out0.write(pixel);
        out1.write(pixel);
    }
}

}  // namespace spikeflow

#endif  // SPIKEFLOW_FORK_H
