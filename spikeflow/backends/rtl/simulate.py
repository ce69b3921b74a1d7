"""Run a network's generated RTL on given frames from Python: the fast Verilator C++ harness
(`simulate_frames`) or the cocotb network testbench with random idle cycles and back-pressure
(`run_cocotb_network`). Both return the head V [N, K, Gh, Gw] (int64) for comparison with the golden model.

Both generate the RTL into out_dir (files are only rewritten when they change, so the Verilator builds
are reused) and raise ToolMissingError when verilator (or cocotb) is not installed.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from spikeflow.backends.rtl.generator import RtlBuild, generate_rtl
from spikeflow.backends.rtl.rtlsim import RtlSim
from spikeflow.backends.rtl.tools import find_verilator, use_verilator
from spikeflow.errors import SpikeflowError, ToolMissingError
from spikeflow.golden.ops import check_frames
from spikeflow.hw.cycles import cycle_limits
from spikeflow.hw.folding import Folding
from spikeflow.hw.sources import hardware_folder
from spikeflow.ir import FewdIFNetwork

PACKAGE_ROOT = Path(__file__).resolve().parents[3]  # the folder that holds the spikeflow package


def simulate_frames(net: FewdIFNetwork, frames: np.ndarray, out_dir: str | Path,
                    folding: Folding | Mapping[str, Any] | None = None,
                    max_cycles: int | None = None) -> tuple[np.ndarray, list[int], RtlBuild]:
    """Generate the RTL of `net` into out_dir (if changed) and run `frames` [N,C,H,W] (uint8) through the
    fast cycle-accurate Verilator harness, back-to-back, output always ready.

    Returns (V int64 [N,K,Gh,Gw], cycle at which each frame's last output value left, the RtlBuild).
    The compiled harness is cached in out_dir/harness.
    """
    find_verilator()
    frames = check_frames(net, frames)
    build = generate_rtl(net, out_dir, folding=folding)
    sim = RtlSim(build)
    if max_cycles is None:
        max_cycles = cycle_limits(net, build.folding, len(frames)).run
    v, done = sim.run(frames, max_cycles=max_cycles)
    return v, done, build


def run_cocotb_network(net: FewdIFNetwork, frames: np.ndarray, out_dir: str | Path, seed: int = 0, *,
                       folding: Folding | Mapping[str, Any] | None = None, pixels_per_beat: int | None = None,
                       frame_timeout_cycles: int | None = None,
                       rtl_dir: str | Path | None = None,
                       ir_dir: str | Path | None = None) -> np.ndarray | list[np.ndarray]:
    """Run `frames` [N,C,H,W] (uint8) through the generated RTL under the cocotb network testbench
    (sim/tb_network.py, test `run_frames`): AXI-Stream source with random idle cycles and sink with random
    back-pressure (both drawn from `seed`). Returns the V [N,K,Gh,Gw] (int64) the testbench collected (several
    heads: a list of each head's).

    The RTL goes to rtl_dir (default out_dir/rtl; a build's existing RTL folder is reused, files are only
    rewritten when they change), the IR is read from ir_dir when it is given (else saved to out_dir/ir), and the
    simulator build and log go to out_dir/cocotb.
    Raises ToolMissingError without verilator or cocotb, SpikeflowError when the simulation fails.
    """
    use_verilator()
    try:
        from spikeflow.backends.rtl.cocotb_runner import ports_only_verilator  # noqa: PLC0415
        runner = ports_only_verilator()
    except ImportError as exc:
        raise ToolMissingError("cocotb is not installed: pip install cocotb cocotbext-axi") from exc
    frames = check_frames(net, frames)
    out_dir = Path(out_dir).resolve()
    build = generate_rtl(net, Path(rtl_dir).resolve() if rtl_dir else out_dir / "rtl", folding=folding,
                         pixels_per_beat=pixels_per_beat)
    if ir_dir is None:
        ir_dir = out_dir / "ir"
        net.save(ir_dir)
    ir_dir = Path(ir_dir).resolve()  # the testbench runs in sim/, so every path it is given is absolute
    sim_dir = out_dir / "cocotb"
    sim = hardware_folder("sim")
    sim_dir.mkdir(parents=True, exist_ok=True)
    fin, fout = sim_dir / "frames.npy", sim_dir / "outputs.npy"
    np.save(fin, frames)
    fout.unlink(missing_ok=True)
    runner.build(sources=[str(s) for s in build.sources], hdl_toplevel=build.top, build_dir=sim_dir,
                 build_args=["-j", "2", "--output-split", "0", build.mem_dir_define()],
                 timescale=("1ns", "1ps"), log_file=sim_dir / "build.log")
    env = {
        "PYTHONPATH": os.pathsep.join([str(sim), str(PACKAGE_ROOT), os.environ.get("PYTHONPATH", "")]),
        "SPIKEFLOW_TB_NET": str(ir_dir), "SPIKEFLOW_TB_PPB": str(build.pixels_per_beat),
        "SPIKEFLOW_TB_SEED": str(seed), "SPIKEFLOW_TB_INPUT": str(fin), "SPIKEFLOW_TB_OUTPUT": str(fout),
    }
    if frame_timeout_cycles is None:
        frame_timeout_cycles = cycle_limits(net, build.folding, len(frames)).per_frame
    env["SPIKEFLOW_TB_FRAME_CYCLES"] = str(int(frame_timeout_cycles))
    results = sim_dir / "results.xml"
    results.unlink(missing_ok=True)
    runner.test(hdl_toplevel=build.top, test_module="tb_network", test_dir=sim, build_dir=sim_dir,
                extra_env=env, testcase=["run_frames"], results_xml=str(results), log_file=sim_dir / "sim.log")
    failed = _failures(results)
    if failed or not fout.is_file():
        raise SpikeflowError(f"cocotb network run failed ({', '.join(failed) or 'no output'}); "
                             f"log in {sim_dir / 'sim.log'}")
    heads = build.stream.unpack_heads(np.load(fout))
    return heads if build.stream.heads else heads[0]


def _failures(results_xml: Path) -> list[str]:
    if not results_xml.is_file():
        return ["(no results)"]
    cases = list(ET.parse(results_xml).getroot().iter("testcase"))
    if not cases:
        return ["(no cocotb test ran)"]
    return [c.get("name", "?") for c in cases
            if c.find("failure") is not None or c.find("error") is not None or c.find("skipped") is not None]
