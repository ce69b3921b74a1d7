"""Vitis HLS: run a build's generated script (when `vitis_hls` is on PATH) and read its C synthesis report.

The report is Vitis HLS's `solution1/syn/report/<top>_csynth.xml`: `UserAssignments` (Part, TargetClockPeriod),
`PerformanceEstimates/SummaryOfOverallLatency` (Best-caseLatency, Worst-caseLatency, Interval-min,
Interval-max; "undef" when unknown) and `AreaEstimates/Resources` (BRAM_18K, DSP or DSP48E in older releases,
FF, LUT, URAM).
"""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from spikeflow.backends.hls.generator import HlsBuild
from spikeflow.errors import SpikeflowError, ToolMissingError

VITIS_HLS = "vitis_hls"
SCRIPT_STEPS = ("csim", "csynth", "cosim", "export")
PROJECT = "spikeflow_hls"
SOLUTION = "solution1"


def find_vitis_hls() -> Path | None:
    found = shutil.which(VITIS_HLS)
    return Path(found) if found else None


def csynth_report_path(build: HlsBuild) -> Path:
    return build.out_dir / PROJECT / SOLUTION / "syn" / "report" / f"{build.top}_csynth.xml"


def run_vitis_hls(build: HlsBuild, steps: tuple[str, ...] = SCRIPT_STEPS) -> Path:
    """Run run_hls.tcl with `steps`; returns the log file. Raises when the tool is missing or fails."""
    exe = find_vitis_hls()
    if exe is None:
        raise ToolMissingError(f"{VITIS_HLS} not found on PATH: source the Vitis settings64.sh first")
    log = build.out_dir / "vitis_hls.log"
    with log.open("w") as out:
        proc = subprocess.run([str(exe), "-f", str(build.script), "-tclargs", *steps], cwd=build.out_dir,
                              stdout=out, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise SpikeflowError(f"{VITIS_HLS} failed (exit {proc.returncode}) on {build.script}; log: {log}")
    return log


def _number(node: ET.Element | None, path: str) -> float | None:
    found = node.find(path) if node is not None else None
    if found is None or found.text is None:
        return None
    text = found.text.strip()
    try:
        return float(text)
    except ValueError:
        return None  # "undef", "-"


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def parse_csynth_report(path: str | Path) -> dict[str, Any]:
    """The figures of report/hls.json from a Vitis HLS csynth.xml: tool, part, clock_mhz, latency_cycles,
    interval_cycles, LUT, FF, BRAM36, DSP (plus URAM, the estimated clock and the worst-case figures)."""
    path = Path(path)
    if not path.is_file():
        raise SpikeflowError(f"no Vitis HLS synthesis report at {path}")
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise SpikeflowError(f"{path}: not valid XML ({exc})") from exc
    user = root.find("UserAssignments")
    perf = root.find("PerformanceEstimates")
    latency = perf.find("SummaryOfOverallLatency") if perf is not None else None
    area = root.find("AreaEstimates/Resources")
    if user is None or area is None or latency is None:
        raise SpikeflowError(f"{path}: not a Vitis HLS csynth report (needs UserAssignments, "
                             f"PerformanceEstimates/SummaryOfOverallLatency, AreaEstimates/Resources)")
    period = _number(user, "TargetClockPeriod")
    estimated = _number(perf, "SummaryOfTimingAnalysis/EstimatedClockPeriod")
    version = root.findtext("ReportVersion/Version", default="").strip()
    dsp = _number(area, "DSP")
    if dsp is None:
        dsp = _number(area, "DSP48E")
    bram18 = _number(area, "BRAM_18K")
    return {
        "tool": f"Vitis HLS {version}".strip(),
        "part": user.findtext("Part", default="").strip(),
        "clock_mhz": round(1000.0 / period, 3) if period else None,
        "estimated_clock_mhz": round(1000.0 / estimated, 3) if estimated else None,
        "latency_cycles": _int(_number(latency, "Best-caseLatency")),
        "latency_cycles_worst": _int(_number(latency, "Worst-caseLatency")),
        "interval_cycles": _int(_number(latency, "Interval-min")),
        "interval_cycles_worst": _int(_number(latency, "Interval-max")),
        "LUT": _int(_number(area, "LUT")),
        "FF": _int(_number(area, "FF")),
        "BRAM36": None if bram18 is None else bram18 / 2,
        "BRAM_18K": _int(bram18),
        "URAM": _int(_number(area, "URAM")),
        "DSP": _int(dsp),
        "report": str(path),
    }
