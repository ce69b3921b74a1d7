// spikeflow HLS library: the types every layer family shares.
//
// Streams between layers carry one pixel (all channels) per transfer as a `vec`, a fixed-size array in a
// struct so that an hls::stream holds it as one (aggregated) FIFO word of any width.
#ifndef SPIKEFLOW_COMMON_H
#define SPIKEFLOW_COMMON_H

#include <cstdint>
#include <type_traits>

#include "ap_int.h"
#include "hls_stream.h"

namespace spikeflow {

// N values of type T moved together (one pixel's channels, one window, one output pixel).
template <typename T, int N>
struct vec {
    T v[N];
};

// Storage type of a constant array (weights, biases, thresholds) of signed BITS-bit integers.
// Synthesis stores them at their exact width; C simulation uses the smallest native integer that holds them,
// which compiles much faster for large networks. The values, and so the arithmetic, are the same.
template <int BITS>
struct rom_int {
#ifdef __SYNTHESIS__
    typedef ap_int<BITS> type;
#else
    typedef typename std::conditional<
        (BITS <= 8), int8_t,
        typename std::conditional<(BITS <= 16), int16_t,
                                  typename std::conditional<(BITS <= 32), int32_t, int64_t>::type>::type>::type type;
#endif
};

}  // namespace spikeflow

#endif  // SPIKEFLOW_COMMON_H
