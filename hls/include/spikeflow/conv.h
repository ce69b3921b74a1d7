// spikeflow HLS library: the FewdIF convolution with thresholds (integrate, then fire).
//
// For each window from conv_window: V = integrate_window(...), then the neuron fires once for each threshold
// that V reaches, y = #{j : V >= tau[k][j]}, 0 <= y <= T. The output stream carries y per channel: the spike
// count, which is the thermometer-ordered train of docs/fewdif.md. CFG: the neuron fields (neuron.h) plus
// out_height, out_width, timesteps (thresholds per channel) and out_bits (bits of a count).
// fewdif_conv_residual adds a second input, the shortcut of a residual add, before firing.
#ifndef SPIKEFLOW_CONV_H
#define SPIKEFLOW_CONV_H

#include "spikeflow/common.h"
#include "spikeflow/neuron.h"

namespace spikeflow {

// Bits of a stored residual shift r[k] (0 .. 24, signed storage as every rom_int).
static const int residual_shift_bits = 6;

// Spike count of V against one channel's non-decreasing thresholds.
template <class CFG>
inline ap_uint<CFG::out_bits> fire(ap_int<CFG::acc_bits> v, const typename rom_int<CFG::acc_bits>::type tau[CFG::timesteps]) {
#pragma HLS INLINE
    ap_uint<CFG::out_bits> count = 0;
    for (int j = 0; j < CFG::timesteps; j++) {
#pragma HLS UNROLL
        count += v >= ap_int<CFG::acc_bits>(tau[j]) ? 1 : 0;
    }
    return count;
}

// One frame: out_height*out_width windows in, as many pixels of out_channels spike counts out.
template <class CFG>
void fewdif_conv(hls::stream<vec<ap_uint<CFG::in_bits>, CFG::in_channels * CFG::kernel * CFG::kernel> >& in,
                 hls::stream<vec<ap_uint<CFG::out_bits>, CFG::out_channels> >& out,
                 const typename rom_int<CFG::weight_bits>::type weights[neuron_fold<CFG>::nf * neuron_fold<CFG>::sf]
                                                                       [CFG::pe * CFG::simd],
                 const typename rom_int<CFG::acc_bits>::type bias[CFG::out_channels],
                 const typename rom_int<CFG::acc_bits>::type thresholds[CFG::out_channels][CFG::timesteps]) {
#pragma HLS ARRAY_PARTITION variable=weights complete dim=2
#pragma HLS ARRAY_PARTITION variable=bias cyclic factor=CFG::pe
#pragma HLS ARRAY_PARTITION variable=thresholds complete dim=2
positions:
    for (int pos = 0; pos < CFG::out_height * CFG::out_width; pos++) {
        const vec<ap_uint<CFG::in_bits>, CFG::in_channels * CFG::kernel * CFG::kernel> window = in.read();
        ap_int<CFG::acc_bits> v[CFG::out_channels];
#pragma HLS ARRAY_PARTITION variable=v cyclic factor=CFG::pe
        integrate_window<CFG>(window, weights, bias, v);
        vec<ap_uint<CFG::out_bits>, CFG::out_channels> counts;
        for (int k = 0; k < CFG::out_channels; k++) {
#pragma HLS PIPELINE II=1
            counts.v[k] = fire<CFG>(v[k], thresholds[k]);
        }
        out.write(counts);
    }
}

// One frame of a conv with a shortcut (a residual add, docs/fewdif.md): as fewdif_conv, and before firing each
// channel's V adds the shortcut's count at the same output position shifted by the channel's residual shift,
// V[k] = b[k] + sum W*x + (n_sc[k] << r[k]), modulo 2^acc_bits (the IR's acc_bits holds the shortcut's share).
// The shortcut has the conv's output shape and arrives position by position, one pixel per window.
template <class CFG>
void fewdif_conv_residual(
    hls::stream<vec<ap_uint<CFG::in_bits>, CFG::in_channels * CFG::kernel * CFG::kernel> >& in,
    hls::stream<vec<ap_uint<CFG::out_bits>, CFG::out_channels> >& shortcut,
    hls::stream<vec<ap_uint<CFG::out_bits>, CFG::out_channels> >& out,
    const typename rom_int<CFG::weight_bits>::type weights[neuron_fold<CFG>::nf * neuron_fold<CFG>::sf]
                                                          [CFG::pe * CFG::simd],
    const typename rom_int<CFG::acc_bits>::type bias[CFG::out_channels],
    const typename rom_int<CFG::acc_bits>::type thresholds[CFG::out_channels][CFG::timesteps],
    const typename rom_int<residual_shift_bits>::type shifts[CFG::out_channels]) {
#pragma HLS ARRAY_PARTITION variable=weights complete dim=2
#pragma HLS ARRAY_PARTITION variable=bias cyclic factor=CFG::pe
#pragma HLS ARRAY_PARTITION variable=thresholds complete dim=2
#pragma HLS ARRAY_PARTITION variable=shifts complete
    typedef ap_int<CFG::acc_bits> acc_t;
positions:
    for (int pos = 0; pos < CFG::out_height * CFG::out_width; pos++) {
        const vec<ap_uint<CFG::in_bits>, CFG::in_channels * CFG::kernel * CFG::kernel> window = in.read();
        const vec<ap_uint<CFG::out_bits>, CFG::out_channels> added = shortcut.read();
        acc_t v[CFG::out_channels];
#pragma HLS ARRAY_PARTITION variable=v cyclic factor=CFG::pe
        integrate_window<CFG>(window, weights, bias, v);
        vec<ap_uint<CFG::out_bits>, CFG::out_channels> counts;
        for (int k = 0; k < CFG::out_channels; k++) {
#pragma HLS PIPELINE II=1
            const acc_t sum = v[k] + acc_t(acc_t(added.v[k]) << int(shifts[k]));
            counts.v[k] = fire<CFG>(sum, thresholds[k]);
        }
        out.write(counts);
    }
}

}  // namespace spikeflow

#endif  // SPIKEFLOW_CONV_H
