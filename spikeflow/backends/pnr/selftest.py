"""The self-test top (rtl/spikeflow_selftest.v) seen from Python: its generated frames, the CRC it must find, its
UART line, its parameters for a build, and a Verilator run of it (the fast harness for a top without streams).

The definitions (LFSR, CRC-32, line) are in the header of rtl/spikeflow_selftest.v; this module is bit-exact
with them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spikeflow.backends.rtl.generator import RtlBuild
from spikeflow.backends.rtl.tools import HARNESS_ARITH, HARNESS_LAYOUT, verilator_env
from spikeflow.errors import ConfigError, DeviceTimeoutError, SpikeflowError
from spikeflow.golden import run_counts
from spikeflow.hw.sources import hardware_folder
from spikeflow.hw.stream import OUT_WIDTH, StreamFormat, stream_format
from spikeflow.ir import FewdIFNetwork

TOP = "spikeflow_selftest"
SOURCES = ("spikeflow_uart_tx.v", "spikeflow_selftest.v")  # in rtl/, after the build's sources
LFSR_MASK = 0x80200003  # x^32 + x^22 + x^2 + x + 1, Galois form shifting right
DEFAULT_FRAMES = 8
DEFAULT_SEED = 1
DEFAULT_CLK_HZ = 25_000_000
DEFAULT_BAUD = 115_200
LINE_RE = re.compile(r"SPKF crc=([0-9a-f]{8}) frames=(\d+) cycles=(\d+) (pass|fail)\r\n")


def lfsr_bytes(seed: int, count: int) -> np.ndarray:
    """`count` bytes of the self-test LFSR from `seed`: each the low byte of the state after one step."""
    if not 0 < seed < 1 << 32:
        raise ConfigError(f"self-test seed {seed:#x} must be a non-zero 32-bit value")
    out = bytearray(count)
    s = seed
    for i in range(count):
        s = (s >> 1) ^ LFSR_MASK if s & 1 else s >> 1
        out[i] = s & 0xFF
    return np.frombuffer(bytes(out), dtype=np.uint8)


def _input_shape(net_or_format: FewdIFNetwork | StreamFormat | RtlBuild) -> tuple[int, int, int]:
    if isinstance(net_or_format, RtlBuild):
        return net_or_format.input_shape
    return tuple(net_or_format.input_shape)


def selftest_frames(net_or_format: FewdIFNetwork | StreamFormat | RtlBuild, frames: int = DEFAULT_FRAMES,
                    seed: int = DEFAULT_SEED) -> np.ndarray:
    """The `frames` frames the self-test top generates from `seed`, uint8 [N, C, H, W] (independent of the pixels
    per beat: the LFSR steps once per pixel byte, in stream order)."""
    if frames < 1:
        raise ConfigError(f"the self-test needs at least one frame, got frames={frames}")
    c, h, w = _input_shape(net_or_format)
    data = lfsr_bytes(seed, frames * h * w * c)
    return data.reshape(frames, h, w, c).transpose(0, 3, 1, 2)


def crc_of_values(values: np.ndarray) -> int:
    """CRC-32 (zlib.crc32) of output values in stream order, each a 32-bit little-endian two's complement word."""
    v = np.asarray(values, dtype=np.int64).reshape(-1)
    if v.size and (v.min() < -(1 << 31) or v.max() >= 1 << 31):
        raise ConfigError("an output value does not fit the 32-bit output stream")
    return zlib.crc32(v.astype(f"<i{OUT_WIDTH // 8}").tobytes())  # the output stream's little-endian words


def expected_crc(net: FewdIFNetwork, frames: int = DEFAULT_FRAMES, seed: int = DEFAULT_SEED) -> int:
    """The CRC the self-test top must find: the golden model's outputs for its frames, packed in stream order."""
    fmt = stream_format(net)
    v = run_counts(net, selftest_frames(net, frames, seed))
    return crc_of_values(fmt.pack_values(v))


def uart_line(crc: int, frames: int, cycles: int, ok: bool) -> str:
    """The line the self-test top prints on its UART."""
    return f"SPKF crc={crc & 0xFFFFFFFF:08x} frames={frames} cycles={cycles} {'pass' if ok else 'fail'}\r\n"


def clks_per_bit(clk_hz: int, baud: int) -> int:
    """Clock cycles per UART bit, as the top rounds them (to the nearest)."""
    return (clk_hz + baud // 2) // baud


def selftest_parameters(net: FewdIFNetwork, stream: StreamFormat, frames: int = DEFAULT_FRAMES,
                        seed: int = DEFAULT_SEED, clk_hz: int = DEFAULT_CLK_HZ,
                        baud: int = DEFAULT_BAUD) -> dict[str, int]:
    """The parameters of spikeflow_selftest for a build (`stream`: the build's stream format, RtlBuild.stream), to
    set with Yosys chparam or Verilator -G. SEED and EXPECTED_CRC are unsigned 32-bit (see verilog_value)."""
    if tuple(stream.input_shape) != tuple(net.input_shape):
        raise ConfigError(f"the stream format's input {stream.input_shape} is not network {net.name}'s "
                          f"{net.input_shape}")
    if clks_per_bit(clk_hz, baud) < 1:
        raise ConfigError(f"a {clk_hz} Hz clock cannot send {baud} baud")
    return {"FRAMES": int(frames), "SEED": int(seed), "EXPECTED_CRC": expected_crc(net, frames, seed),
            "CLK_HZ": int(clk_hz), "BAUD": int(baud), "IN_WIDTH": stream.in_width,
            "BEATS_PER_FRAME": stream.beats_per_frame}


def verilog_value(name: str, value: int) -> str:
    """A parameter value as a Verilog literal: SEED and EXPECTED_CRC as 32'h..., the rest decimal."""
    return f"32'h{value & 0xFFFFFFFF:08x}" if name in ("SEED", "EXPECTED_CRC") else str(int(value))


def selftest_sources(build: RtlBuild) -> list[Path]:
    """The build's sources followed by the self-test top's."""
    rtl = hardware_folder("rtl")
    return [*build.sources, *(rtl / name for name in SOURCES)]


@dataclass(frozen=True)
class SelftestRun:
    """What a simulated self-test run printed and showed."""

    line: str  # the UART line as decoded from uart_tx
    sim_cycles: int  # clock cycles simulated until led_busy fell
    led_pass: bool
    led_fail: bool

    @property
    def fields(self) -> dict[str, object]:
        """crc, frames, cycles and ok parsed from the line (SpikeflowError if it is not a self-test line)."""
        m = LINE_RE.fullmatch(self.line)
        if not m:
            raise SpikeflowError(f"the self-test printed {self.line!r}, not a SPKF line")
        return {"crc": int(m[1], 16), "frames": int(m[2]), "cycles": int(m[3]), "ok": m[4] == "pass"}


def simulate_selftest(build: RtlBuild, parameters: dict[str, int], work_dir: Path, max_cycles: int = 10_000_000,
                      jobs: int = 2) -> SelftestRun:
    """Build spikeflow_selftest over `build` with Verilator (the C++ main sim/selftest/spikeflow_selftest_main.cpp,
    the fast harness's word arithmetic) and run it until its line is out."""
    work_dir = Path(work_dir)
    obj_dir = work_dir / "obj"
    exe = obj_dir / "spikeflow_selftest_sim"
    main = hardware_folder("sim") / "selftest" / "spikeflow_selftest_main.cpp"
    flags = ["--cc", "--exe", "--build", "-O2", "--x-assign", "fast", "--x-initial", "fast", "--noassert",
             "-Wno-fatal", *HARNESS_LAYOUT, *HARNESS_ARITH, "--top-module", TOP, "-CFLAGS", "-O2",
             *(f"-G{k}={verilog_value(k, v)}" for k, v in parameters.items())]
    if obj_dir.exists():
        shutil.rmtree(obj_dir)
    obj_dir.mkdir(parents=True)
    cmd = ["verilator", *flags, "-j", str(jobs), "-Mdir", str(obj_dir), "-o", exe.name,
           *map(str, selftest_sources(build)), str(main)]
    proc = subprocess.run(cmd, env=verilator_env(), capture_output=True, text=True)
    if proc.returncode != 0:
        raise SpikeflowError(f"verilator build of {TOP} failed in {obj_dir}:\n{proc.stderr[-4000:]}")
    cpb = clks_per_bit(parameters.get("CLK_HZ", DEFAULT_CLK_HZ), parameters.get("BAUD", DEFAULT_BAUD))
    run = subprocess.run([str(exe), str(cpb), str(int(max_cycles))], capture_output=True, cwd=build.out_dir)
    out = run.stdout.decode("latin-1")
    head, _, stats = out.rpartition("sim_cycles ")
    if run.returncode == 1:
        raise DeviceTimeoutError(f"the self-test did not finish within {max_cycles:,} cycles: {out!r}")
    if run.returncode != 0 or not stats:
        raise SpikeflowError(f"the self-test simulation failed (exit {run.returncode}): {out!r} "
                             f"{run.stderr.decode('latin-1')}")
    parts = stats.split()
    return SelftestRun(line=head, sim_cycles=int(parts[0]), led_pass=parts[2] == "1", led_fail=parts[4] == "1")
