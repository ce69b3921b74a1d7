"""What the open ECP5 flow reports: nextpnr-ecp5's report.json (Fmax per clock, critical paths, utilisation) or,
when it wrote none, its log; the Yosys synth_ecp5 statistics; and the fit of a design to the part."""

from __future__ import annotations

import re
from typing import Any

from spikeflow.backends.rtl.synth import ecp5_resources
from spikeflow.errors import PnrError

# nextpnr-ecp5 cell types -> the part's resources (Board.ULX3S_85F.spec.ecp5.capacity)
NEXTPNR_RESOURCES = {"TRELLIS_COMB": "LUT4", "TRELLIS_FF": "FF", "DP16KD": "EBR", "MULT18X18D": "MULT18"}
RESOURCE_NAMES = {"LUT4": "LUT4 (logic cells)", "FF": "flip-flops", "EBR": "EBR (18 kbit block RAM)",
                  "MULT18": "18x18 multipliers"}
_MAX_FREQ = re.compile(r"Max frequency for clock '([^']+)': ([\d.]+) MHz \((PASS|FAIL) at ([\d.]+) MHz\)")
_ERROR = re.compile(r"^(ERROR|Error):", re.IGNORECASE)
_NO_BELS = re.compile(r"no BELs remaining to implement cell type '([^']+)'|"
                      r"Design uses (\d+) cells? of type '?([A-Z0-9_]+)'?,? but device (?:only )?has (\d+)")


# The part's resources from synth_ecp5's cell counts (the estimate step counts its instances the same way)
yosys_ecp5_resources = ecp5_resources


def check_fit(used: dict[str, int], capacity: dict[str, int], part: str, hint: str) -> None:
    """A one-line PnrError naming the first resource the design needs more of than the part has."""
    for key, have in capacity.items():
        need = used.get(key, 0)
        if need > have:
            raise PnrError(f"the design does not fit {part}: it needs {need:,} {RESOURCE_NAMES.get(key, key)}, "
                           f"the part has {have:,} ({100.0 * need / have:.0f}%); {hint}")


def fmax_from_log(log: str) -> dict[str, dict[str, Any]]:
    """Fmax per clock from the last timing report of a nextpnr log: {clock: {achieved, constraint, met}}."""
    clocks: dict[str, dict[str, Any]] = {}
    for name, achieved, verdict, constraint in _MAX_FREQ.findall(log):
        clocks[name] = {"achieved": float(achieved), "constraint": float(constraint), "met": verdict == "PASS"}
    return clocks


def fmax_from_report(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: {"achieved": float(v["achieved"]), "constraint": float(v["constraint"]),
                   "met": float(v["achieved"]) >= float(v["constraint"])} for name, v in report.get("fmax", {}).items()}


def critical_path(report: dict[str, Any], clock: str) -> dict[str, Any] | None:
    """The clock's register-to-register critical path of a nextpnr report.json: source and sink cells, logic levels
    (the path's logic segments), its delay and how much of it is routing."""
    for path in report.get("critical_paths", []):
        if clock not in path.get("from", "") or clock not in path.get("to", ""):
            continue
        segments = path.get("path", [])
        if not segments:
            return None
        return {"from": segments[0]["from"]["cell"], "to": segments[-1]["to"]["cell"],
                "logic_levels": sum(1 for s in segments if s.get("type") == "logic"),
                "delay_ns": round(sum(float(s.get("delay", 0)) for s in segments), 3),
                "routing_ns": round(sum(float(s.get("delay", 0)) for s in segments if s.get("type") == "routing"), 3)}
    return None


def critical_path_from_log(log: str) -> dict[str, Any] | None:
    """Source, sink and logic levels of the last clock critical path in a nextpnr log (when no report.json)."""
    blocks = log.split("Critical path report for clock")
    if len(blocks) < 2:
        return None
    block = blocks[-1].split("Critical path report for cross-domain", 1)[0].split("Max frequency", 1)[0]
    sources = re.findall(r"^Info:\s+(?:clk-to-q|logic|setup|source)\s+[\d.]+\s+[\d.]+\s+Source (\S+)", block, re.M)
    sinks = re.findall(r"Sink (\S+)", block)
    levels = len(re.findall(r"^Info:\s+logic\s+[\d.]+", block, re.M))
    if not sources and not sinks:
        return None
    return {"from": sources[0] if sources else None, "to": sinks[-1] if sinks else None, "logic_levels": levels}


def utilization(report: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {name: {"used": int(v["used"]), "available": int(v["available"])}
            for name, v in report.get("utilization", {}).items()}


def utilization_from_log(log: str) -> dict[str, dict[str, int]]:
    found = re.findall(r"^Info:\s+(\w+):\s+(\d+)/\s*(\d+)\s+\d+%", log, re.M)
    return {name: {"used": int(used), "available": int(avail)} for name, used, avail in found}


def part_resources(util: dict[str, dict[str, int]]) -> dict[str, int]:
    return {key: util.get(cell, {}).get("used", 0) for cell, key in NEXTPNR_RESOURCES.items()}


def relevant_lines(log: str, limit: int = 12) -> list[str]:
    """The lines of a nextpnr log that say why it stopped: errors, failed clocks, unroutable nets."""
    keep = [line.strip() for line in log.splitlines()
            if _ERROR.match(line.strip()) or "FAIL at" in line or "unroutable" in line.lower()
            or "failed to route" in line.lower() or "no BELs remaining" in line]
    return keep[-limit:]


def resource_failure(log: str) -> str | None:
    """The part's resource named by a nextpnr placement failure (too many cells of a type), if that is why it
    stopped."""
    for match in _NO_BELS.finditer(log):
        cell = match.group(1) or match.group(3)
        return NEXTPNR_RESOURCES.get(cell, cell)
    return None
