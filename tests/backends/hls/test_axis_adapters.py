"""The HLS stream adapters on their own (g++): the malformed-frame rule of rtl/README.md, and the output words."""

from __future__ import annotations

import subprocess

from spikeflow.backends.hls.csim import CXX_FLAGS, ap_types_folder, find_cxx
from spikeflow.hw.sources import hardware_folder
from tests.backends.hls.hlstools import require_csim

DRIVER = r"""
#include <cstdio>
#include "spikeflow/axis.h"

struct in_cfg { static const int channels = 2, pixel_bits = 8, pixels_per_beat = 2, beats_per_frame = 3,
                in_width = 32; };
struct out_cfg { static const int channels = 2, positions = 2, value_bits = 5, out_width = 32; };

// Feed beats (value = beat number + 1 in every byte), then run one frame per call and print its pixels.
int main() {
    hls::stream<spikeflow::axis_in_word<32> > s_axis;
    hls::stream<spikeflow::vec<ap_uint<8>, 2> > pixels;
    const int lasts[] = {0, 1,   0, 0, 0,   0, 1};  // frame 0: early TLAST; 1: missing TLAST; 2: early TLAST
    for (int b = 0; b < 7; b++) {
        spikeflow::axis_in_word<32> w;
        w.data = 0x01010101u * (b + 1);
        w.last = lasts[b];
        s_axis.write(w);
    }
    for (int frame = 0; frame < 3; frame++) {
        spikeflow::axis_input<in_cfg>(s_axis, pixels);
        printf("frame");
        while (!pixels.empty()) {
            spikeflow::vec<ap_uint<8>, 2> p = pixels.read();
            printf(" %d,%d", (int)p.v[0], (int)p.v[1]);
        }
        printf("\n");
    }
    hls::stream<spikeflow::vec<ap_int<5>, 2> > values;
    hls::stream<spikeflow::axis_out_word<32> > m_axis;
    spikeflow::vec<ap_int<5>, 2> v;
    v.v[0] = -16; v.v[1] = 15; values.write(v);
    v.v[0] = -1; v.v[1] = 0; values.write(v);
    spikeflow::axis_output<out_cfg>(values, m_axis);
    printf("out");
    while (!m_axis.empty()) {
        spikeflow::axis_out_word<32> w = m_axis.read();
        printf(" %lld/%d", (long long)w.data.to_int64(), (int)w.last);
    }
    printf(" left %d\n", (int)s_axis.size());
    return 0;
}
"""


def test_input_adapter_follows_the_malformed_frame_rule_and_output_sign_extends(tmp_path) -> None:
    require_csim()
    hls = hardware_folder("hls")
    (tmp_path / "driver.cpp").write_text(DRIVER)
    exe = tmp_path / "driver"
    subprocess.run([str(find_cxx()), *CXX_FLAGS, f"-I{ap_types_folder()}", f"-I{hls / 'csim'}",
                    f"-I{hls / 'include'}", str(tmp_path / "driver.cpp"), "-o", str(exe)], check=True)
    lines = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.splitlines()
    # early TLAST on beat 2 of 3: the beats received, then zero pixels
    assert lines[0] == "frame 1,1 1,1 2,2 2,2 0,0 0,0"
    # missing TLAST: the frame ends at its third beat; the next beat starts a new frame
    assert lines[1] == "frame 3,3 3,3 4,4 4,4 5,5 5,5"
    # the next frame is two beats long (TLAST on its second beat): padded, and every beat has been used
    assert lines[2] == "frame 6,6 6,6 7,7 7,7 0,0 0,0"
    assert lines[3] == "out -16/0 15/0 -1/0 0/1 left 0"
