// spikeflow HLS library: sliding windows over a pixel stream (line buffers and window registers).
//
// `window_push` keeps the last K-1 rows of a (padded) raster in line buffers and the current KxK window in
// registers. `conv_window` walks a layer's zero-padded raster, one position per iteration, and emits every
// stride-aligned KxK window as one `vec` of K*K*C elements in the order the neuron unit and the weights use:
// element e = (i*K + j)*C + c (window row i, column j, channel c).
#ifndef SPIKEFLOW_WINDOW_H
#define SPIKEFLOW_WINDOW_H

#include "spikeflow/common.h"

namespace spikeflow {

// Push the pixel at column x of the current row of a raster WIDTH positions wide into K-1 line buffers
// (lines[i][x]: row y-K+1+i, oldest first) and KxK window registers (win[i][j]: row y-K+1+i, column x-K+1+j);
// the window then ends at that position.
template <typename PIXEL_T, int K, int WIDTH>
inline void window_push(PIXEL_T lines[K > 1 ? K - 1 : 1][WIDTH], PIXEL_T win[K][K], int x, const PIXEL_T& pixel) {
#pragma HLS INLINE
    PIXEL_T column[K];
#pragma HLS ARRAY_PARTITION variable=column complete
    for (int i = 0; i < K - 1; i++) {
#pragma HLS UNROLL
        column[i] = lines[i][x];
    }
    column[K - 1] = pixel;
    for (int i = 0; i + 1 < K - 1; i++) {
#pragma HLS UNROLL
        lines[i][x] = lines[i + 1][x];
    }
    if (K > 1) lines[K > 1 ? K - 2 : 0][x] = pixel;
    for (int i = 0; i < K; i++) {
#pragma HLS UNROLL
        for (int j = 0; j + 1 < K; j++) {
#pragma HLS UNROLL
            win[i][j] = win[i][j + 1];
        }
        win[i][K - 1] = column[i];
    }
}

// Whether the window ending at padded position (y, x) is an output window (stride-aligned).
template <int K, int STRIDE>
inline bool window_complete(int y, int x) {
#pragma HLS INLINE
    return y >= K - 1 && x >= K - 1 && (y - (K - 1)) % STRIDE == 0 && (x - (K - 1)) % STRIDE == 0;
}

// One frame: in_height*in_width pixels in, out_height*out_width windows of K*K*C elements out.
// CFG: in_channels, in_height, in_width, kernel, stride, padding, out_height, out_width, in_bits.
template <class CFG>
void conv_window(hls::stream<vec<ap_uint<CFG::in_bits>, CFG::in_channels> >& in,
                 hls::stream<vec<ap_uint<CFG::in_bits>, CFG::in_channels * CFG::kernel * CFG::kernel> >& out) {
    typedef ap_uint<CFG::in_bits> value_t;
    typedef vec<value_t, CFG::in_channels> pixel_t;
    const int K = CFG::kernel, C = CFG::in_channels, P = CFG::padding;
    const int HP = CFG::in_height + 2 * CFG::padding, WP = CFG::in_width + 2 * CFG::padding;
    static pixel_t lines[CFG::kernel > 1 ? CFG::kernel - 1 : 1][CFG::in_width + 2 * CFG::padding];
    static pixel_t win[CFG::kernel][CFG::kernel];
#pragma HLS ARRAY_PARTITION variable=lines complete dim=1
#pragma HLS ARRAY_PARTITION variable=win complete dim=0
raster:
    for (int pos = 0; pos < HP * WP; pos++) {
#pragma HLS PIPELINE II=1
        const int y = pos / WP, x = pos % WP;
        pixel_t pixel;
        const bool inside = y >= P && y < P + CFG::in_height && x >= P && x < P + CFG::in_width;
        if (inside) {
            pixel = in.read();
        } else {
            for (int c = 0; c < C; c++) {
#pragma HLS UNROLL
                pixel.v[c] = 0;
            }
        }
        window_push<pixel_t, CFG::kernel, CFG::in_width + 2 * CFG::padding>(lines, win, x, pixel);
        if (window_complete<CFG::kernel, CFG::stride>(y, x)) {
            vec<value_t, CFG::in_channels * CFG::kernel * CFG::kernel> w;
            for (int i = 0; i < K; i++) {
#pragma HLS UNROLL
                for (int j = 0; j < K; j++) {
#pragma HLS UNROLL
                    for (int c = 0; c < C; c++) {
#pragma HLS UNROLL
                        w.v[(i * K + j) * C + c] = win[i][j].v[c];
                    }
                }
            }
            out.write(w);
        }
    }
}

}  // namespace spikeflow

#endif  // SPIKEFLOW_WINDOW_H
