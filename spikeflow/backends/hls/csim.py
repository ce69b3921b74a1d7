"""C simulation of a generated HLS design with g++: the testbench and the top compiled once per design (cached
in the build's hls/csim/), then frames through it.

The arbitrary-precision types (ap_int.h) and hls::stream (hls_stream.h) are Xilinx's C models as the hls4ml
wheel ships them, included from the installed package (never copied); ap_axi_sdata.h, which the wheel lacks, is
spikeflow's stand-in in hls/csim/.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from spikeflow.backends.hls.generator import HlsBuild
from spikeflow.errors import SpikeflowError, ToolMissingError
from spikeflow.hw.stream import StreamFormat

CXX_FLAGS = ("-std=c++14", "-O2")
EXE_NAME = "spikeflow_csim"


def ap_types_folder() -> Path:
    """The folder of ap_int.h and hls_stream.h inside the installed hls4ml package."""
    spec = importlib.util.find_spec("hls4ml")
    if spec is None or not spec.origin:
        raise ToolMissingError("hls4ml is not installed: its wheel ships the ap_types headers that the HLS "
                               "C-simulation compiles with (pip install -r requirements.txt)")
    folder = Path(spec.origin).parent / "templates" / "vivado" / "ap_types"
    if not (folder / "ap_int.h").is_file() or not (folder / "hls_stream.h").is_file():
        raise ToolMissingError(f"{folder} lacks ap_int.h or hls_stream.h: reinstall hls4ml==1.3.0")
    return folder


def find_cxx() -> Path:
    found = shutil.which("g++")
    if not found:
        raise ToolMissingError("g++ not found: the HLS C-simulation needs a C++14 compiler "
                               "(Debian: apt-get install g++)")
    return Path(found)


class HlsCsim:
    """Compile (once, cached) and run the C testbench of `build`."""

    def __init__(self, build: HlsBuild):
        self.build = build
        self.dir = build.out_dir / "csim"
        self.exe = self.dir / EXE_NAME
        self.last_seconds = 0.0  # wall time spent in the top function over the last run's frames
        self.last_cpu_seconds = 0.0  # CPU time of the same (differs from wall time on a busy machine)
        self.last_compile_seconds = 0.0  # 0 when the cached executable was reused

    def command(self) -> list[str]:
        includes = [ap_types_folder(), *self.build.csim_include_dirs, *self.build.include_dirs, self.build.out_dir]
        return [str(find_cxx()), *CXX_FLAGS, *[f"-I{d}" for d in includes],
                str(self.build.out_dir / "spikeflow_top.cpp"), str(self.build.testbench), "-o", str(self.exe)]

    def compile(self) -> Path:
        inputs = [*self.build.sources, self.build.testbench, *self._stand_ins()]
        if self.exe.is_file() and all(self.exe.stat().st_mtime > p.stat().st_mtime for p in inputs):
            self.last_compile_seconds = 0.0
            return self.exe
        self.dir.mkdir(parents=True, exist_ok=True)
        started = time.time()
        proc = subprocess.run(self.command(), capture_output=True, text=True)
        if proc.returncode != 0:
            raise SpikeflowError(f"g++ failed on the HLS design in {self.build.out_dir}:\n{proc.stderr[-4000:]}")
        self.last_compile_seconds = time.time() - started
        return self.exe

    def _stand_ins(self) -> list[Path]:
        return [p for d in self.build.csim_include_dirs for p in d.glob("*.h")]

    def run(self, frames: np.ndarray) -> np.ndarray:
        """uint8 frames [N,C,H,W] -> head V int64 [N,K,Gh,Gw] of a single-head network; the top function's time is
        in last_seconds (wall) and last_cpu_seconds."""
        if len(self.build.heads) > 1:
            raise SpikeflowError(f"{self.build.name} has {len(self.build.heads)} heads: use run_heads")
        return self.run_heads(frames)[0]

    def run_heads(self, frames: np.ndarray) -> list[np.ndarray]:
        """uint8 frames [N,C,H,W] -> every head's V int64 [N,K,Gh,Gw], in net.heads order (one output port each);
        the top function's time is in last_seconds (wall) and last_cpu_seconds."""
        fmt = self.build.stream
        payload = fmt.pack_frames(frames)
        n = len(payload) // fmt.frame_bytes
        exe = self.compile()
        with tempfile.TemporaryDirectory() as tmp:
            fin, fout = Path(tmp) / "frames.bin", Path(tmp) / "values.bin"
            fin.write_bytes(payload)
            proc = subprocess.run([str(exe), str(fin), str(n), str(fout)], capture_output=True, text=True)
            if proc.returncode != 0:
                raise SpikeflowError(f"HLS C-simulation of {self.build.out_dir} failed (exit {proc.returncode}): "
                                     f"{(proc.stdout + proc.stderr).strip()[-2000:]}")
            raw = fout.read_bytes()
        stats = proc.stdout.split()
        if len(stats) >= 6 and stats[0] == "frames" and stats[2] == "seconds" and stats[4] == "cpu_seconds":
            self.last_seconds, self.last_cpu_seconds = float(stats[3]), float(stats[5])
        return split_heads(self.build.heads, raw, n)


def split_heads(heads: list[StreamFormat], raw: bytes, frames: int) -> list[np.ndarray]:
    """The testbench's output file (per frame, each head's values in port order) -> each head's V."""
    sizes = [h.output_frame_bytes for h in heads]
    per_frame = np.frombuffer(raw, dtype=np.uint8).reshape(frames, sum(sizes))
    starts = np.cumsum([0, *sizes])
    return [h.unpack_values(np.ascontiguousarray(per_frame[:, a:b]).tobytes())
            for h, a, b in zip(heads, starts[:-1], starts[1:], strict=True)]
