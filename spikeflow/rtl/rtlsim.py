"""Fast cycle-accurate simulation of a generated spikeflow_top with a Verilator C++ harness.

RtlSim(build).run(frames) feeds frames back-to-back as fast as the input accepts them (output always ready)
and returns the head V per frame plus the cycle at which each frame's last output value left.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spikeflow.errors import FrameError, SpikeflowError
from spikeflow.rtl.generator import RtlBuild
from spikeflow.rtl.tools import verilator_env

HARNESS = Path(__file__).resolve().parents[2] / "sim" / "harness" / "spikeflow_harness.cpp"


@dataclass
class RtlTiming:
    cycles_per_frame: float  # steady state, from frames 1..N-1 done cycles
    latency: int  # cycles from reset release to the first frame's last output


class RtlSim:
    """Compile (once, cached in build.out_dir/harness) and run the Verilator harness of `build`."""

    def __init__(self, build: RtlBuild, jobs: int = 2):
        self.build = build
        self.jobs = jobs
        self.obj_dir = build.out_dir / "harness"
        self.exe = self.obj_dir / "spikeflow_harness"
        self.last_cycles = 0  # simulated cycles of the last run
        self.last_seconds = 0.0  # wall time of the last run's simulation loop (without file I/O)
        self.last_cpu_seconds = 0.0  # CPU time of that loop (differs from wall time on a busy machine)

    def compile(self) -> Path:
        sources = [*self.build.sources, HARNESS]
        if self.exe.is_file() and all(self.exe.stat().st_mtime > s.stat().st_mtime for s in sources):
            return self.exe
        cmd = ["verilator", "--cc", "--exe", "--build", "-O3", "--x-assign", "fast", "--x-initial", "fast",
               "--noassert", "-Wno-fatal", "--output-split", "0", "-j", str(self.jobs),
               "--top-module", self.build.top, "-Mdir", str(self.obj_dir), "-o", self.exe.name,
               "-CFLAGS", "-O3", *[str(s) for s in self.build.sources], str(HARNESS)]
        proc = subprocess.run(cmd, env=verilator_env(), capture_output=True, text=True)
        if proc.returncode != 0:
            raise SpikeflowError(f"verilator harness build failed in {self.obj_dir}:\n{proc.stderr[-4000:]}")
        return self.exe

    def run(self, frames: np.ndarray) -> tuple[np.ndarray, list[int]]:
        """frames uint8 [N,C,H,W] -> (V int64 [N,K,Gh,Gw], done cycle of each frame)."""
        frames = np.asarray(frames)
        if frames.ndim != 4 or tuple(frames.shape[1:]) != tuple(self.build.input_shape) or frames.dtype != np.uint8:
            raise FrameError(f"RtlSim takes uint8 frames [N, {', '.join(map(str, self.build.input_shape))}], "
                             f"got {frames.dtype} {list(frames.shape)}")
        exe = self.compile()
        n, c, h, w = frames.shape
        k, gh, gw = self.build.output_shape
        ppb = self.build.pixels_per_beat
        values = k * gh * gw
        with tempfile.TemporaryDirectory() as tmp:
            fin, fout = Path(tmp) / "frames.bin", Path(tmp) / "out.bin"
            fin.write_bytes(np.ascontiguousarray(frames.transpose(0, 2, 3, 1)).tobytes())
            proc = subprocess.run([str(exe), str(fin), str(n), str(c * ppb), str(h * w // ppb), str(values),
                                   str(fout)], capture_output=True, text=True, cwd=self.build.out_dir)
            if proc.returncode != 0:
                raise SpikeflowError(f"RTL simulation did not finish: {proc.stdout}{proc.stderr}")
            raw = fout.read_bytes()
        stats = proc.stdout.split()
        if len(stats) >= 8 and stats[0] == "cycles" and stats[4] == "seconds":
            self.last_cycles, self.last_seconds = int(stats[1]), float(stats[5])
            self.last_cpu_seconds = float(stats[7])
        out = np.frombuffer(raw[:4 * n * values], dtype="<i4").astype(np.int64)
        done = np.frombuffer(raw[4 * n * values:], dtype="<i8").tolist()
        return out.reshape(n, gh, gw, k).transpose(0, 3, 1, 2), done

    @staticmethod
    def timing(done_cycles: list[int]) -> RtlTiming:
        """Steady-state cycles per frame (needs >= 3 back-to-back frames) and first-frame latency."""
        if len(done_cycles) < 3:
            raise ValueError("timing needs at least 3 frames")
        steady = (done_cycles[-1] - done_cycles[1]) / (len(done_cycles) - 2)
        return RtlTiming(cycles_per_frame=steady, latency=int(done_cycles[0]))
