"""Vivado's report text -> report/resources.json and report/timing.json (keys in REPORTS.md).

Parsed: `report_utilization` (the Site Type tables of 7-series and UltraScale+ parts) and `report_timing_summary`
(the Design Timing Summary, the Clock Summary and the Intra Clock Table).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from spikeflow.errors import BitstreamError

if TYPE_CHECKING:
    from spikeflow.backends.bitstream.plan import BitstreamPlan
    from spikeflow.flow.builddir import BuildDir
    from spikeflow.flow.config import BuildConfig

# Site Type rows -> resources.json keys; the first name present in the report wins
_SITES: dict[str, tuple[str, ...]] = {
    "LUT": ("CLB LUTs", "Slice LUTs"),
    "FF": ("CLB Registers", "Slice Registers"),
    "BRAM36": ("Block RAM Tile",),
    "URAM": ("URAM",),
    "DSP": ("DSPs",),
}
_VERSION = re.compile(r"^\|\s*Tool Version\s*:\s*Vivado v\.(\S+)", re.MULTILINE)
_ROW = re.compile(r"^\|\s*([^|]+?)\s*\|\s*([0-9.]+)\s*\|", re.MULTILINE)


def vivado_version(text: str) -> str | None:
    """The Vivado version in a report's header ("2023.2"), or None."""
    match = _VERSION.search(text)
    return match.group(1) if match else None


def parse_utilization(text: str) -> dict[str, float]:
    """Used LUT, FF, BRAM36 (Block RAM tiles, halves for RAMB18), URAM and DSP of a utilization report.

    A site type the report does not list counts 0 (URAM on a 7-series part); a report without LUTs or registers is
    not a utilization report and raises BitstreamError."""
    rows: dict[str, float] = {}
    for name, used in _ROW.findall(text):
        rows.setdefault(name.strip(), float(used))
    out: dict[str, float] = {}
    for key, names in _SITES.items():
        found = next((rows[n] for n in names if n in rows), None)
        if found is None and key in ("LUT", "FF"):
            raise BitstreamError(f"not a Vivado utilization report: no {' or '.join(names)} row")
        value = found or 0.0
        out[key] = int(value) if value.is_integer() else value
    return out


@dataclass(frozen=True)
class TimingSummary:
    wns_ns: float
    whs_ns: float
    tns_ns: float
    clocks: dict[str, float]  # clock name -> period in ns (Clock Summary)
    clock_wns_ns: dict[str, float]  # clock name -> setup WNS (Intra Clock Table), for clocks with timed paths

    @property
    def met(self) -> bool:
        return self.wns_ns >= 0 and self.whs_ns >= 0

    def clock_for(self, clock_mhz: float) -> str | None:
        """The clock whose period is the build's clock (the accelerator's), or None."""
        want = 1000.0 / clock_mhz
        best = min(self.clocks, key=lambda c: abs(self.clocks[c] - want), default=None)
        return best if best is not None and abs(self.clocks[best] - want) <= 0.001 * want else None

    def fmax_mhz(self, clock_mhz: float) -> float:
        """The highest clock the accelerator's paths allow: 1 / (period - WNS) of its clock."""
        name = self.clock_for(clock_mhz)
        wns = self.clock_wns_ns.get(name, self.wns_ns) if name else self.wns_ns
        return 1000.0 / (1000.0 / clock_mhz - wns)


def _section(text: str, title: str) -> list[str]:
    """The lines of a `| Title` section, up to the next section header."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == f"| {title}":
            body = []
            for rest in lines[i + 3:]:
                if rest.startswith("| ") and body:
                    break
                body.append(rest)
            return body
    raise BitstreamError(f"not a Vivado timing summary: no '{title}' section")


def _table(lines: list[str], first: str) -> tuple[list[str], list[list[str]]]:
    """Header columns (split on runs of 2+ spaces) and the rows under the dashes of a table starting at `first`."""
    for i, line in enumerate(lines):
        if line.strip().startswith(first):
            header = re.split(r"\s{2,}", line.strip())
            rows = []
            for row in lines[i + 2:]:
                if not row.strip():
                    if rows:
                        break
                    continue
                if row.startswith("-") or row.startswith("|"):
                    break
                rows.append(row)
            return header, [r.split() if first == "WNS(ns)" else [r] for r in rows]
    raise BitstreamError(f"not a Vivado timing summary: no table headed {first!r}")


def parse_timing_summary(text: str) -> TimingSummary:
    header, rows = _table(_section(text, "Design Timing Summary"), "WNS(ns)")
    if not rows or len(rows[0]) < len(header):
        raise BitstreamError("Vivado timing summary: the Design Timing Summary has no values (was it routed?)")
    values = dict(zip(header, rows[0], strict=False))
    clocks: dict[str, float] = {}
    try:
        _, summary = _table(_section(text, "Clock Summary"), "Clock")
        for (row,) in summary:
            name, _, period = re.match(r"\s*(\S+)\s+(\{[^}]*\})\s+([0-9.]+)", row).groups()  # type: ignore[union-attr]
            clocks[name] = float(period)
    except (BitstreamError, AttributeError):
        pass
    clock_wns: dict[str, float] = {}
    try:
        _, intra = _table(_section(text, "Intra Clock Table"), "Clock")
        for (row,) in intra:
            name, *cells = row.split()
            if len(cells) >= 8:  # setup and hold columns present (a clock with only pulse-width checks has 4)
                clock_wns[name] = float(cells[0])
    except BitstreamError:
        pass
    return TimingSummary(wns_ns=float(values["WNS(ns)"]), whs_ns=float(values["WHS(ns)"]),
                         tns_ns=float(values["TNS(ns)"]), clocks=clocks, clock_wns_ns=clock_wns)


def timing_report(text: str, part: str, clock_mhz: float, version: str | None = None) -> dict[str, object]:
    """report/timing.json's values from a routed design's timing summary."""
    t = parse_timing_summary(text)
    return {"tool": f"vivado {version or vivado_version(text) or 'unknown'}", "part": part, "clock_mhz": clock_mhz,
            "wns_ns": t.wns_ns, "whs_ns": t.whs_ns, "tns_ns": t.tns_ns, "fmax_mhz": round(t.fmax_mhz(clock_mhz), 3),
            "met": t.met, "clock": t.clock_for(clock_mhz)}


def resources_report(text: str, part: str, capacity: dict[str, int], version: str | None = None) -> dict[str, object]:
    """report/resources.json's values from a routed design's utilization report."""
    used = parse_utilization(text)
    return {"tool": f"vivado {version or vivado_version(text) or 'unknown'}", "part": part, **used,
            "capacity": capacity,
            "utilization_percent": {k: round(100.0 * used[k] / capacity[k], 2) if capacity.get(k) else None
                                    for k in used},
            "method": "Vivado report_utilization after routing (the whole design: shell, DMA or kernel, accelerator)"}


def read_version(path: Path) -> str | None:
    return path.read_text().strip() or None if path.is_file() else None


def collect_vivado_reports(plan: BitstreamPlan, build: BuildDir, cfg: BuildConfig) -> dict[str, object]:
    """The routed design's reports in plan.reports_dir -> report/timing.json and report/resources.json.

    An earlier Yosys estimate in resources.json is kept under its key "estimate". Returns the timing values (empty
    when the run stopped before its reports)."""
    from spikeflow.flow.report import read_report, write_report

    spec = cfg.board.spec
    version = read_version(plan.tool_version_file)
    timing: dict[str, object] = {}
    timing_rpt = plan.reports_dir / "timing_summary.rpt"
    if timing_rpt.is_file():
        timing = timing_report(timing_rpt.read_text(), spec.part, cfg.clock, version)
        write_report(build.root, "timing", {"board": cfg.board.value, **timing, "source": str(timing_rpt)})
    util_rpt = plan.reports_dir / "utilization.rpt"
    if util_rpt.is_file():
        values = resources_report(util_rpt.read_text(), spec.part, spec.capacity.as_dict(), version)
        earlier = read_report(build.root, "resources")
        estimate = earlier.get("estimate") if str(earlier.get("tool", "")).startswith("vivado") else earlier
        extra = {"estimate": {k: estimate.get(k) for k in ("tool", "LUT", "FF", "BRAM36", "URAM", "DSP", "method")}
                 } if estimate else {}
        write_report(build.root, "resources", {"board": cfg.board.value, **values, **extra,
                                               "source": str(util_rpt)})
    return timing
