"""Fast cycle-accurate simulation of a generated spikeflow_top with a Verilator C++ harness.

RtlSim(build).run(frames) feeds frames back-to-back as fast as the input accepts them (output always ready)
and returns the head V per frame plus the cycle at which each frame's last output value left.
The harness is rendered from sim/harness/spikeflow_harness.cpp.j2 with the build's stream widths.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jinja2
import numpy as np

from spikeflow.backends.rtl.generator import RtlBuild
from spikeflow.backends.rtl.tools import VERILATOR_LAYOUT, verilator_env
from spikeflow.errors import DeviceTimeoutError, SpikeflowError
from spikeflow.hw.cycles import limits_from_estimate
from spikeflow.hw.sources import hardware_folder

HARNESS_TEMPLATE = "spikeflow_harness.cpp.j2"
MIN_TIMING_FRAMES = 3  # frames 1..N-1 give the steady state; frame 0 the latency


@dataclass
class RtlTiming:
    cycles_per_frame: float  # steady state, from frames 1..N-1 done cycles
    latency: int  # cycles from reset release to the first frame's last output


def render_harness(build: RtlBuild, out: Path) -> Path:
    """Write the C++ harness for `build` (its stream widths as constants) to `out`, if changed."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(hardware_folder("sim") / "harness"),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    text = env.get_template(HARNESS_TEMPLATE).render(name=build.name, stream=build.stream)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.is_file() or out.read_text() != text:
        out.write_text(text)
    return out


class RtlSim:
    """Compile (once, cached in build.out_dir/harness) and run the Verilator harness of `build`."""

    def __init__(self, build: RtlBuild, jobs: int = 2):
        self.build = build
        self.jobs = jobs
        self.obj_dir = build.out_dir / "harness"
        self.exe = self.obj_dir / "spikeflow_harness"
        self.harness = self.obj_dir / "spikeflow_harness.cpp"
        self.last_cycles = 0  # simulated cycles of the last run
        self.last_seconds = 0.0  # wall time of the last run's simulation loop (without file I/O)
        self.last_cpu_seconds = 0.0  # CPU time of that loop (differs from wall time on a busy machine)

    def compile(self) -> Path:
        render_harness(self.build, self.harness)
        sources = [*self.build.sources, self.harness]
        if self.exe.is_file() and all(self.exe.stat().st_mtime > s.stat().st_mtime for s in sources):
            return self.exe
        cmd = ["verilator", "--cc", "--exe", "--build", "-O3", "--x-assign", "fast", "--x-initial", "fast",
               "--noassert", "-Wno-fatal", *VERILATOR_LAYOUT, "-j", str(self.jobs),
               "--top-module", self.build.top, "-Mdir", str(self.obj_dir), "-o", self.exe.name,
               "-CFLAGS", "-O3", *[str(s) for s in self.build.sources], str(self.harness)]
        proc = subprocess.run(cmd, env=verilator_env(), capture_output=True, text=True)
        if proc.returncode != 0:
            raise SpikeflowError(f"verilator harness build failed in {self.obj_dir}:\n{proc.stderr[-4000:]}")
        return self.exe

    def run(self, frames: np.ndarray, max_cycles: int | None = None,
            timeout_s: float | None = None) -> tuple[np.ndarray, list[int]]:
        """frames uint8 [N,C,H,W] -> (V int64 [N,K,Gh,Gw], done cycle of each frame).

        max_cycles bounds the simulation (default: spikeflow.hw.cycles.cycle_limits, from the estimated cycles per
        frame of the build's folding); timeout_s bounds its wall time. Either raises DeviceTimeoutError.
        """
        fmt = self.build.stream
        payload = fmt.pack_frames(frames)
        n = len(payload) // fmt.frame_bytes
        exe = self.compile()
        if max_cycles is None:
            max_cycles = limits_from_estimate(self.build.estimated_cycles_per_frame, n).run
        with tempfile.TemporaryDirectory() as tmp:
            fin, fout = Path(tmp) / "frames.bin", Path(tmp) / "out.bin"
            fin.write_bytes(payload)
            try:
                proc = subprocess.run([str(exe), str(fin), str(n), str(fout), str(int(max_cycles))],
                                      capture_output=True, text=True, cwd=self.build.out_dir, timeout=timeout_s)
            except subprocess.TimeoutExpired as exc:
                raise DeviceTimeoutError(f"RTL simulation of {n} frame(s) did not answer within {timeout_s:.0f} s "
                                         f"(wall clock)") from exc
            if proc.returncode == 1:
                raise DeviceTimeoutError(f"RTL simulation did not finish within {int(max_cycles):,} cycles: "
                                         f"{proc.stdout}{proc.stderr}".strip())
            if proc.returncode != 0:
                raise SpikeflowError(f"the RTL harness failed (exit {proc.returncode}): "
                                     f"{proc.stdout}{proc.stderr}".strip())
            raw = fout.read_bytes()
        stats = proc.stdout.split()
        if len(stats) >= 8 and stats[0] == "cycles" and stats[4] == "seconds":
            self.last_cycles, self.last_seconds = int(stats[1]), float(stats[5])
            self.last_cpu_seconds = float(stats[7])
        value_bytes = n * fmt.values_per_frame * fmt.value_bytes
        v = fmt.unpack_values(raw[:value_bytes])
        done = np.frombuffer(raw[value_bytes:], dtype="<i8").tolist()
        return v, done

    @staticmethod
    def timing(done_cycles: list[int]) -> RtlTiming | None:
        """Steady-state cycles per frame and first-frame latency; None with fewer than 3 back-to-back frames."""
        if len(done_cycles) < MIN_TIMING_FRAMES:
            return None
        steady = (done_cycles[-1] - done_cycles[1]) / (len(done_cycles) - 2)
        return RtlTiming(cycles_per_frame=steady, latency=int(done_cycles[0]))
