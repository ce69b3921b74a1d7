// spikeflow HLS library: the head, a convolution that integrates and does not fire.
//
// Its V (acc_bits signed, modulo 2^acc_bits like every neuron sum) is the network's output. CFG: the neuron
// fields (neuron.h) plus out_height and out_width.
#ifndef SPIKEFLOW_HEAD_H
#define SPIKEFLOW_HEAD_H

#include "spikeflow/common.h"
#include "spikeflow/neuron.h"

namespace spikeflow {

// One frame: out_height*out_width windows in, as many pixels of out_channels V values out.
template <class CFG>
void fewdif_head(hls::stream<vec<ap_uint<CFG::in_bits>, CFG::in_channels * CFG::kernel * CFG::kernel> >& in,
                 hls::stream<vec<ap_int<CFG::acc_bits>, CFG::out_channels> >& out,
                 const typename rom_int<CFG::weight_bits>::type weights[neuron_fold<CFG>::nf * neuron_fold<CFG>::sf]
                                                                       [CFG::pe * CFG::simd],
                 const typename rom_int<CFG::acc_bits>::type bias[CFG::out_channels]) {
#pragma HLS ARRAY_PARTITION variable=weights complete dim=2
#pragma HLS ARRAY_PARTITION variable=bias cyclic factor=CFG::pe
positions:
    for (int pos = 0; pos < CFG::out_height * CFG::out_width; pos++) {
        const vec<ap_uint<CFG::in_bits>, CFG::in_channels * CFG::kernel * CFG::kernel> window = in.read();
        vec<ap_int<CFG::acc_bits>, CFG::out_channels> v;
#pragma HLS ARRAY_PARTITION variable=v.v cyclic factor=CFG::pe
        integrate_window<CFG>(window, weights, bias, v.v);
        out.write(v);
    }
}

}  // namespace spikeflow

#endif  // SPIKEFLOW_HEAD_H
