"""The RTL step of the flow: generate a build's Verilog, simulate it, and report agreement and throughput."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from spikeflow.builddir import BuildDir
from spikeflow.checkpoint import load_detector
from spikeflow.golden import run_counts
from spikeflow.ir import load_network
from spikeflow.performance import DEFAULT_BOARD, PARTS, estimate_cycles, plot_layer_cycles
from spikeflow.report import read_report, write_report
from spikeflow.verify import StageResult, compare


def build_frames(build: BuildDir, count: int) -> np.ndarray:
    from spikeflow.flow import validation_frames

    flow = build.read_flow()
    model, _ = load_detector(flow["checkpoint"])
    frames, _ = validation_frames(model, flow.get("data"), count)
    return frames


def simulate_build(build_dir: str | Path, frames: int = 32, cocotb: bool = True, board: str = DEFAULT_BOARD,
                   quiet: bool = False) -> dict[str, StageResult]:
    """Generate RTL, run the fast harness (stage rtlsim) and optionally cocotb (stage rtl_cocotb) on validation
    frames (at least 3, for the steady state), compare with the golden model, write verify.json and
    performance.json."""
    from spikeflow.rtl import run_cocotb_network, simulate_frames
    from spikeflow.rtl.rtlsim import RtlSim

    build = BuildDir(Path(build_dir))
    net = load_network(build.ir)
    images = build_frames(build, frames)
    golden = run_counts(net, images)
    results: dict[str, StageResult] = {}
    started = time.time()
    v_rtl, done, rtl_build = simulate_frames(net, images, build.rtl)
    sim_seconds = time.time() - started
    results["rtlsim"] = compare("rtlsim", "golden", v_rtl, golden)
    if cocotb:
        started = time.time()
        v_cocotb = run_cocotb_network(net, images, build.root, rtl_dir=build.rtl, ir_dir=build.ir)
        results["rtl_cocotb"] = compare("rtl_cocotb", "golden", v_cocotb, golden,
                                        note=f"random idle and back-pressure, {time.time() - started:.0f} s")
    stages = read_report(build.root, "verify").get("stages", {})
    stages.update({name: r.as_dict() for name, r in results.items()})
    write_report(build.root, "verify", {"stages": stages})

    part, clock_mhz = PARTS[board]
    steady = RtlSim.timing(done).cycles_per_frame
    rows = estimate_cycles(net, rtl_build.cycles_per_window)
    estimated = max(r.cycles for r in rows)
    write_report(build.root, "performance", {
        "part": part, "board": board, "clock_mhz": clock_mhz, "frames_simulated": len(images),
        "cycles_per_frame": steady, "latency_cycles": int(done[0]), "fps": clock_mhz * 1e6 / steady,
        "estimated_cycles_per_frame": estimated, "done_cycles": done,
        "simulated_cycles_per_second": done[-1] / sim_seconds if sim_seconds else None,
        "layers": [vars(r) for r in rows],
        "folding": {k: vars(v) if hasattr(v, "__dict__") else v for k, v in rtl_build.folding.items()},
    })
    plot_layer_cycles(rows, steady, build.report / "cycles.png", f"{net.name}: cycles per frame by stage")
    if not quiet:
        print(f"RTL: {rtl_build.out_dir} (top {rtl_build.top}, {len(rtl_build.sources)} sources)")
        for r in results.values():
            print("  " + r.line())
        print(f"cycles per frame {steady:,.0f} (steady state over {len(images)} back-to-back frames, estimate "
              f"{estimated:,}), latency {done[0]:,} cycles, {clock_mhz * 1e6 / steady:,.0f} FPS at {clock_mhz:g} MHz "
              f"on {part}")
        print(f"report: {build.report / 'performance.json'}, chart: {build.report / 'cycles.png'}")
    return results
