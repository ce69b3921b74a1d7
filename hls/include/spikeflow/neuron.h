// spikeflow HLS library: the FewdIF neuron unit's integration, shared by the firing conv and the head.
//
// V[k] = b[k] + sum_e W[k][e] * x[e] over one window, computed PE output channels and SIMD window elements per
// cycle, with all input timesteps at once (time-parallel: W*x) or one pass per timestep (serial: a spike count
// x holds spikes in its first x timesteps, so pass t adds W when x > t; a pixel's pass t adds W<<t when bit t
// is set). Every term and sum is taken modulo 2^acc_bits (ap_int<acc_bits>), as in docs/fewdif.md: the IR's
// acc_bits holds every V, so all foldings give the same bits.
//
// Weight layout (as the RTL ROM): weights[nf*SF + sf][pe*SIMD + s] = W[nf*PE + pe][sf*SIMD + s], window element
// order e = (i*K + j)*C + c. CFG: in_channels, kernel, out_channels, pe, simd, time_parallel, in_pixels,
// in_bits, in_max, weight_bits, acc_bits.
#ifndef SPIKEFLOW_NEURON_H
#define SPIKEFLOW_NEURON_H

#include "spikeflow/common.h"

namespace spikeflow {

// Folding arithmetic of a conv or head layer.
template <class CFG>
struct neuron_fold {
    static const int window = CFG::in_channels * CFG::kernel * CFG::kernel;  // elements per window
    static const int nf = CFG::out_channels / CFG::pe;                      // output channel folds
    static const int sf = window / CFG::simd;                               // window folds
    static const int passes = CFG::time_parallel ? 1 : (CFG::in_pixels ? CFG::in_bits : CFG::in_max);
    static_assert(CFG::out_channels % CFG::pe == 0, "PE must divide the output channels");
    static_assert(window % CFG::simd == 0, "SIMD must divide the window");
};

// Contribution of weight w and input x in pass t, modulo 2^acc_bits.
template <class CFG>
inline ap_int<CFG::acc_bits> neuron_term(ap_int<CFG::weight_bits> w, ap_uint<CFG::in_bits> x, int t) {
#pragma HLS INLINE
    typedef ap_int<CFG::acc_bits> acc_t;
    if (CFG::time_parallel) return acc_t(w * x);
    if (CFG::in_pixels) return x[t] ? acc_t(acc_t(w) << t) : acc_t(0);
    return x > t ? acc_t(w) : acc_t(0);
}

// V of every output channel for one window.
template <class CFG>
void integrate_window(
    const vec<ap_uint<CFG::in_bits>, CFG::in_channels * CFG::kernel * CFG::kernel>& window,
    const typename rom_int<CFG::weight_bits>::type weights[neuron_fold<CFG>::nf * neuron_fold<CFG>::sf]
                                                          [CFG::pe * CFG::simd],
    const typename rom_int<CFG::acc_bits>::type bias[CFG::out_channels],
    ap_int<CFG::acc_bits> v[CFG::out_channels]) {
#pragma HLS INLINE
    typedef ap_int<CFG::acc_bits> acc_t;
    typedef neuron_fold<CFG> F;
channel_folds:
    for (int nf = 0; nf < F::nf; nf++) {
        acc_t acc[CFG::pe];
#pragma HLS ARRAY_PARTITION variable=acc complete
        for (int pe = 0; pe < CFG::pe; pe++) {
#pragma HLS UNROLL
            acc[pe] = bias[nf * CFG::pe + pe];
        }
    window_folds:
        for (int i = 0; i < F::sf * F::passes; i++) {
#pragma HLS PIPELINE II=1
            const int sf = i / F::passes, t = i % F::passes;
            for (int pe = 0; pe < CFG::pe; pe++) {
#pragma HLS UNROLL
                acc_t sum = 0;
                for (int s = 0; s < CFG::simd; s++) {
#pragma HLS UNROLL
                    const ap_int<CFG::weight_bits> w = weights[nf * F::sf + sf][pe * CFG::simd + s];
                    sum += neuron_term<CFG>(w, window.v[sf * CFG::simd + s], t);
                }
                acc[pe] += sum;
            }
        }
        for (int pe = 0; pe < CFG::pe; pe++) {
#pragma HLS UNROLL
            v[nf * CFG::pe + pe] = acc[pe];
        }
    }
}

}  // namespace spikeflow

#endif  // SPIKEFLOW_NEURON_H
