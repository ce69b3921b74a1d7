// spikeflow: a C-simulation stand-in for Vitis HLS's ap_axi_sdata.h, used by g++ only.
//
// The hls4ml wheel ships ap_int.h and hls_stream.h but not ap_axi_sdata.h. This file gives the part of it that
// the spikeflow library uses, with the same names: hls::axis_data<T, AXIS_ENABLE_LAST>, a DATA and a LAST
// field. Vitis HLS uses its own header, which takes precedence: this folder is never on its include path.
#ifndef SPIKEFLOW_CSIM_AP_AXI_SDATA_H
#define SPIKEFLOW_CSIM_AP_AXI_SDATA_H

#ifdef __SYNTHESIS__
#error "spikeflow's ap_axi_sdata.h stand-in is for C simulation with g++ only"
#endif

#include <cstdint>

#include "ap_int.h"
#include "hls_stream.h"

#define AXIS_ENABLE_DATA 0b00000001
#define AXIS_ENABLE_LAST 0b00010000

namespace hls {

template <typename T, uint8_t EnableSignals = AXIS_ENABLE_DATA>
struct axis_data {
    static_assert(EnableSignals == AXIS_ENABLE_LAST || EnableSignals == (AXIS_ENABLE_DATA | AXIS_ENABLE_LAST),
                  "the stand-in models DATA and LAST only");
    T data;
    ap_uint<1> last;
};

}  // namespace hls

#endif  // SPIKEFLOW_CSIM_AP_AXI_SDATA_H
