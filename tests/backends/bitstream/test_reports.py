"""Vivado report parsers on representative report text (7-series and UltraScale+ utilization, timing summary)."""

from __future__ import annotations

import pytest

from spikeflow.backends.bitstream.reports import (
    parse_timing_summary,
    parse_utilization,
    resources_report,
    timing_report,
    vivado_version,
)
from spikeflow.errors import BitstreamError
from spikeflow.hw.boards import Board
from tests.backends.bitstream.stubs import REPORTS


def timing_text(wns: float, whs: float, freq: float = 200.0) -> str:
    period = 1000.0 / freq
    values = {"@WNS@": f"{wns:.3f}", "@WHS@": f"{whs:.3f}", "@TNS@": f"{min(0.0, wns * 17):.3f}",
              "@TNSN@": "17" if wns < 0 else "0", "@VERDICT@": "All user specified timing constraints are met.",
              "@PERIOD@": f"{period:.3f}", "@HALF@": f"{period / 2:.3f}", "@FREQ@": f"{freq:.3f}"}
    text = (REPORTS / "timing_summary.rpt.in").read_text()
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def test_utilization_7series() -> None:
    text = (REPORTS / "utilization_xc7.rpt").read_text()
    assert parse_utilization(text) == {"LUT": 21873, "FF": 30412, "BRAM36": 37.5, "URAM": 0, "DSP": 14}
    assert vivado_version(text) == "2023.2"
    doc = resources_report(text, Board.PYNQ_Z2.spec.part, Board.PYNQ_Z2.spec.capacity.as_dict())
    assert doc["tool"] == "vivado 2023.2" and doc["utilization_percent"]["LUT"] == pytest.approx(41.11, abs=0.01)
    assert doc["utilization_percent"]["URAM"] is None  # the part has none


def test_utilization_ultrascale_plus() -> None:
    text = (REPORTS / "utilization_xcup.rpt").read_text()
    assert parse_utilization(text) == {"LUT": 104211, "FF": 150330, "BRAM36": 121.5, "URAM": 8, "DSP": 212}
    assert resources_report(text, "p", Board.ZCU104.spec.capacity.as_dict(), "2022.2")["tool"] == "vivado 2022.2"


def test_timing_summary_met() -> None:
    t = parse_timing_summary(timing_text(0.412, 0.031))
    assert (t.wns_ns, t.whs_ns, t.tns_ns, t.met) == (0.412, 0.031, 0.0, True)
    assert t.clocks["clk_out1_spikeflow_bd_clk_wiz_0"] == 5.0 and t.clocks["clk_fpga_0"] == 10.0
    assert t.clock_wns_ns == {"clk_out1_spikeflow_bd_clk_wiz_0": 0.412}  # the others time no setup paths
    doc = timing_report(timing_text(0.412, 0.031), "xczu7ev-ffvc1156-2-e", 200.0)
    assert doc["fmax_mhz"] == pytest.approx(1000.0 / (5.0 - 0.412), abs=1e-3)
    assert doc["tool"] == "vivado 2023.2" and doc["clock"] == "clk_out1_spikeflow_bd_clk_wiz_0"
    assert {"tool", "part", "clock_mhz", "wns_ns", "whs_ns", "fmax_mhz"} <= doc.keys()


def test_timing_summary_violated() -> None:
    doc = timing_report(timing_text(-0.75, 0.02, 100.0), "xc7z020clg400-1", 100.0)
    assert doc["wns_ns"] == -0.75 and doc["met"] is False
    assert doc["fmax_mhz"] == pytest.approx(1000.0 / 10.75, abs=1e-3)


def test_not_a_report() -> None:
    with pytest.raises(BitstreamError, match="utilization"):
        parse_utilization("hello")
    with pytest.raises(BitstreamError, match="Design Timing Summary"):
        parse_timing_summary("hello")
