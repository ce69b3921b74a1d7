"""The self-test top (rtl/spikeflow_selftest.v): its Python model, lint, cocotb against the golden model, and the
Verilator run of the top alone (spikeflow.backends.pnr.selftest.simulate_selftest)."""

from __future__ import annotations

import json
import zlib

import numpy as np
import pytest

from spikeflow.backends.pnr.selftest import (
    LINE_RE,
    clks_per_bit,
    crc_of_values,
    expected_crc,
    lfsr_bytes,
    selftest_frames,
    selftest_parameters,
    selftest_sources,
    simulate_selftest,
    uart_line,
    verilog_value,
)
from spikeflow.backends.rtl import generate_rtl
from spikeflow.errors import ConfigError
from spikeflow.golden import run_counts
from spikeflow.hw.stream import stream_format
from spikeflow.ir.random import random_network
from tests.backends.bitstream.test_shell_rtl import _lint
from tests.backends.rtl.simtools import RTL_DIR, require_verilator, run_cocotb

FRAMES = 8
SEED = 0x1234ABCD
CLK_HZ, BAUD = 1_000_000, 250_000  # 4 cycles per UART bit keep the line short in simulation


def _net():
    return random_network(np.random.default_rng(31), input_shape=(3, 12, 10), channels=(4, 6),
                          pool_after=(True, False), head_channels=5, name="selftest")


def _hw_lfsr(seed: int, count: int) -> list[int]:
    """The RTL's definition, step by step: s = (s >> 1) ^ (s[0] ? 0x80200003 : 0), byte = s[7:0] after the step."""
    out, s = [], seed
    for _ in range(count):
        s = (s >> 1) ^ (0x80200003 if s & 1 else 0)
        out.append(s & 0xFF)
    return out


def _hw_crc(values) -> int:
    """The RTL's CRC: register ^= value, 32 reflected shifts with 0xEDB88320, from 0xFFFFFFFF, final xor."""
    c = 0xFFFFFFFF
    for v in values:
        c ^= int(v) & 0xFFFFFFFF
        for _ in range(32):
            c = (c >> 1) ^ (0xEDB88320 if c & 1 else 0)
    return c ^ 0xFFFFFFFF


def test_lfsr_and_frames() -> None:
    assert lfsr_bytes(1, 6).tolist() == [0x03, 0x02, 0x01, 0x03, 0x02, 0x01]
    assert lfsr_bytes(SEED, 500).tolist() == _hw_lfsr(SEED, 500)
    net = _net()
    frames = selftest_frames(net, 3, SEED)
    assert frames.shape == (3, 3, 12, 10) and frames.dtype == np.uint8
    # stream order: HWC raster, channels interleaved, frame after frame; the same for any pixels per beat
    for ppb in (1, 2, 5):
        assert stream_format(net, ppb).pack_frames(frames) == lfsr_bytes(SEED, 3 * 360).tobytes()
    assert np.array_equal(selftest_frames(stream_format(net, 2), 3, SEED), frames)
    with pytest.raises(ConfigError, match="non-zero"):
        selftest_frames(net, 1, 0)


def test_crc_and_line() -> None:
    values = np.random.default_rng(1).integers(-(1 << 31), 1 << 31, 50)
    assert crc_of_values(values) == _hw_crc(values) == zlib.crc32(values.astype("<i4").tobytes())
    net = _net()
    v = stream_format(net).pack_values(run_counts(net, selftest_frames(net, FRAMES, SEED)))
    assert expected_crc(net, FRAMES, SEED) == _hw_crc(v.reshape(-1))
    assert uart_line(0xAB, 8, 1234, True) == "SPKF crc=000000ab frames=8 cycles=1234 pass\r\n"
    assert uart_line(0xDEADBEEF, 1, 0, False) == "SPKF crc=deadbeef frames=1 cycles=0 fail\r\n"
    assert LINE_RE.fullmatch(uart_line(7, 8, 99, True))
    assert clks_per_bit(25_000_000, 115_200) == 217 and clks_per_bit(CLK_HZ, BAUD) == 4


def test_parameters() -> None:
    net = _net()
    params = selftest_parameters(net, stream_format(net, 2), frames=FRAMES, seed=SEED)
    assert params == {"FRAMES": FRAMES, "SEED": SEED, "EXPECTED_CRC": expected_crc(net, FRAMES, SEED),
                      "CLK_HZ": 25_000_000, "BAUD": 115_200, "IN_WIDTH": 48, "BEATS_PER_FRAME": 60}
    assert verilog_value("EXPECTED_CRC", 0xCC88E1A8) == "32'hcc88e1a8" and verilog_value("FRAMES", 8) == "8"
    other = random_network(np.random.default_rng(1), input_shape=(3, 8, 8), channels=(4,), pool_after=(False,),
                           head_channels=5, name="other")
    with pytest.raises(ConfigError, match="not network"):
        selftest_parameters(net, stream_format(other))


def test_uart_lint() -> None:
    _lint([str(RTL_DIR / "spikeflow_uart_tx.v"), "--top-module", "spikeflow_uart_tx"])
    _lint([str(RTL_DIR / "spikeflow_uart_tx.v"), "--top-module", "spikeflow_uart_tx", "-GCLKS_PER_BIT=1"])


@pytest.mark.parametrize("ppb", [1, 2])
def test_selftest_lint(tmp_path, ppb) -> None:
    net = _net()
    build = generate_rtl(net, tmp_path / "rtl", pixels_per_beat=ppb)
    params = selftest_parameters(net, build.stream, frames=FRAMES, seed=SEED)
    _lint(["-F", str(build.filelist), *map(str, selftest_sources(build)[-2:]), "--top-module", "spikeflow_selftest",
           *(f"-G{k}={verilog_value(k, v)}" for k, v in params.items())])


@pytest.mark.parametrize("case", ["pass", "fail"])
def test_selftest_cocotb(tmp_path, case) -> None:
    """8 generated frames: the inputs equal selftest_frames, the outputs the golden model, the CRC expected_crc, the
    UART line uart_line; led_pass with the right EXPECTED_CRC, led_fail with a wrong one; rst restarts the run."""
    net = _net()
    ir_dir = tmp_path / "ir"
    net.save(ir_dir)
    ppb = 1 if case == "pass" else 2
    build = generate_rtl(net, tmp_path / "rtl", pixels_per_beat=ppb)
    params = selftest_parameters(net, build.stream, frames=FRAMES, seed=SEED, clk_hz=CLK_HZ, baud=BAUD)
    if case == "fail":
        params["EXPECTED_CRC"] ^= 1 << 7
    report = tmp_path / "report.json"
    env = {"SPIKEFLOW_TB_NET": str(ir_dir), "SPIKEFLOW_TB_FRAMES": str(FRAMES), "SPIKEFLOW_TB_SEED": str(SEED),
           "SPIKEFLOW_TB_EXPECTED_CRC": str(params["EXPECTED_CRC"]),
           "SPIKEFLOW_TB_CLKS_PER_BIT": str(clks_per_bit(CLK_HZ, BAUD)), "SPIKEFLOW_TB_PPB": str(ppb),
           "SPIKEFLOW_TB_REPORT": str(report)}
    run_cocotb(selftest_sources(build), "spikeflow_selftest", "tb_selftest", tmp_path / "sim",
               parameters={k: verilog_value(k, v) for k, v in params.items()}, extra_env=env,
               build_args=[build.mem_dir_define()], public_depth=2)
    result = json.loads(report.read_text())
    assert result["line"].endswith(f"{case}\r\n") and result["frames"] == FRAMES


def test_selftest_harness(tmp_path) -> None:
    """The top alone under Verilator's C++ main (the fast harness's word arithmetic): the same line as the model."""
    require_verilator()
    net = _net()
    build = generate_rtl(net, tmp_path / "rtl", pixels_per_beat=2)
    params = selftest_parameters(net, build.stream, frames=FRAMES, seed=SEED, clk_hz=CLK_HZ, baud=BAUD)
    run = simulate_selftest(build, params, tmp_path / "harness", max_cycles=200_000)
    fields = run.fields
    assert run.line == uart_line(params["EXPECTED_CRC"], FRAMES, fields["cycles"], True)
    assert run.led_pass and not run.led_fail and fields["cycles"] > 0
