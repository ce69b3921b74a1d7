"""The stream contract is defined once (spikeflow.hw.stream) and the generated top and C++ harness agree with it."""

import re
from pathlib import Path

import numpy as np
import pytest

from spikeflow.backends.rtl import generate_rtl
from spikeflow.backends.rtl.rtlsim import render_harness
from spikeflow.errors import FrameError
from spikeflow.hw.stream import pack_fields, stream_format, unpack_fields
from spikeflow.ir.random import random_network

PACKAGE = Path(__file__).resolve().parents[2]


def _net():
    return random_network(np.random.default_rng(3), input_shape=(3, 12, 10), channels=(4, 6),
                          pool_after=(True, False), head_channels=5, name="stream")


def test_frames_round_trip_in_raster_order() -> None:
    fmt = stream_format(_net(), pixels_per_beat=2)
    frames = np.random.default_rng(0).integers(0, 256, size=(2, 3, 12, 10), dtype=np.uint8)
    payload = fmt.pack_frames(frames)
    assert len(payload) == 2 * fmt.frame_bytes == 2 * 12 * 10 * 3
    assert payload[:3] == bytes(frames[0, :, 0, 0]) and payload[3:6] == bytes(frames[0, :, 0, 1])
    assert np.array_equal(fmt.unpack_frames(payload), frames)
    with pytest.raises(FrameError, match="uint8 frames"):
        fmt.pack_frames(frames.astype(np.int16))


def test_values_round_trip_channel_fastest() -> None:
    fmt = stream_format(_net())
    v = np.random.default_rng(1).integers(-1000, 1000, size=(2, *fmt.output_shape))
    values = fmt.pack_values(v)
    assert values.shape == (2, fmt.values_per_frame)
    assert list(values[0, :5]) == list(v[0, :, 0, 0])  # position (0, 0), every channel, then position (0, 1)
    payload = values.astype("<i4").tobytes()
    assert np.array_equal(fmt.unpack_values(payload), v)
    assert pack_fields([3, 1, 2], 2) == 0b10_01_11
    assert list(unpack_fields(0b10_01_11, 2, 3)) == [3, 1, 2]
    assert list(unpack_fields(0b11, 2, 1, signed=True)) == [-1]


@pytest.mark.parametrize("ppb", [1, 2])
def test_top_and_harness_take_their_widths_from_the_stream_format(tmp_path, ppb) -> None:
    net = _net()
    build = generate_rtl(net, tmp_path / "rtl", pixels_per_beat=ppb)
    fmt = stream_format(net, ppb)
    top = (build.out_dir / "spikeflow_top.v").read_text()

    def param(name: str) -> int:
        return int(re.search(rf"parameter {name} = (\d+)", top).group(1))

    assert param("IN_WIDTH") == fmt.in_width == 8 * 3 * ppb
    assert param("OUT_WIDTH") == fmt.out_width
    assert param("PIXEL_BITS") == fmt.pixel_bits
    assert param("STATUS_WIDTH") == fmt.status_width
    assert f".VALUE_BITS({fmt.value_bits})" in top and f".PIXELS_PER_BEAT({ppb})" in top
    harness = render_harness(build, tmp_path / "h.cpp").read_text()

    def const(name: str) -> int:
        return int(re.search(rf"constexpr \w+ {name} = (\d+);", harness).group(1))

    assert const("IN_WIDTH") == fmt.in_width and const("BEAT_BYTES") == fmt.beat_bytes
    assert const("BEATS_PER_FRAME") == fmt.beats_per_frame == 120 // ppb
    assert const("VALUES_PER_FRAME") == fmt.values_per_frame and const("OUT_WIDTH") == fmt.out_width
    assert f"using VALUE_T = int{fmt.out_width}_t;" in harness


def test_packing_arithmetic_is_written_once() -> None:
    """The frame layout (raster order, channels interleaved, to bytes), the output order (row-major, channel
    fastest) and the 32-bit beats are written in the runtime's stream.py only (the flow and sim import it)."""
    lines = [(p.relative_to(PACKAGE).as_posix(), line) for folder in ("spikeflow", "sim", "runtime")
             for p in (PACKAGE / folder).rglob("*.py") for line in p.read_text().splitlines()]
    frame_layout = {name for name, line in lines if "def pack_frames" in line or "def unpack_frames" in line}
    output_order = {name for name, line in lines
                    if "gh, gw, k" in line and ("transpose(" in line or "reshape(" in line)}
    int32_beats = {name for name, line in lines if '"<i4"' in line or "'<i4'" in line}
    assert frame_layout == {"runtime/spikeflow_runtime/stream.py"}
    assert output_order == {"runtime/spikeflow_runtime/stream.py"}
    assert int32_beats == set()


def test_bus_words_fast_path_equals_the_plain_padding() -> None:
    """pack_frames_bus_into's one-pass 3-byte -> 4-byte words equals padding beat by beat, into a given buffer."""
    from spikeflow_runtime.stream import StreamFormat

    fmt = StreamFormat(3, 8, 6, 1, 21, 2, 2, 20)
    frames = np.random.default_rng(2).integers(0, 256, size=(3, 8, 6, 3), dtype=np.uint8)
    buf = np.full(3 * fmt.bus_frame_bytes + 5, 9, np.uint8)
    fmt.pack_frames_bus_into(frames, buf)
    words = buf[:3 * fmt.bus_frame_bytes].reshape(-1, 4)
    assert np.array_equal(words[:, :3], frames.reshape(-1, 3)) and not words[:, 3].any()
    assert (buf[3 * fmt.bus_frame_bytes:] == 9).all()
    chw = np.ascontiguousarray(frames.transpose(0, 3, 1, 2))
    assert fmt.pack_frames_bus(chw) == buf[:3 * fmt.bus_frame_bytes].tobytes()
    assert np.array_equal(fmt.unpack_frames_bus(buf[:3 * fmt.bus_frame_bytes]), chw)


def test_bus_words_pad_the_input_beat() -> None:
    from spikeflow.errors import ConfigError
    from spikeflow.hw.stream import bus_width

    assert [bus_width(b) for b in (8, 24, 32, 48, 96, 1024)] == [32, 32, 32, 64, 128, 1024]
    with pytest.raises(ConfigError, match="widest AXI bus"):
        bus_width(1025)
    fmt = stream_format(_net(), pixels_per_beat=2)
    assert (fmt.in_width, fmt.bus_in_width, fmt.bus_in_bytes, fmt.bus_out_width) == (48, 64, 8, 32)
    frames = np.random.default_rng(1).integers(0, 256, size=(2, 3, 12, 10), dtype=np.uint8)
    words = np.frombuffer(fmt.pack_frames_bus(frames), dtype=np.uint8).reshape(-1, 8)
    assert len(words) == 2 * fmt.beats_per_frame and not words[:, 6:].any()
    assert words[:, :6].tobytes() == fmt.pack_frames(frames)


@pytest.mark.parametrize("ppb", [1, 2])
def test_hls_top_and_testbench_take_their_widths_from_the_stream_format(tmp_path, ppb) -> None:
    from spikeflow.backends.hls import generate_hls
    from spikeflow.hw.folding import Folding

    net = _net()
    build = generate_hls(net, tmp_path / "hls", folding=Folding({}, ppb))
    fmt = stream_format(net, ppb)
    header = (build.out_dir / "spikeflow_top.h").read_text()

    def const(text: str, name: str) -> int:
        return int(re.search(rf"static const int {name} = (\d+);", text).group(1))

    def field(struct: str, name: str) -> int:
        body = re.search(rf"struct {struct} {{(.*?)}};", header, re.S).group(1)
        return const(body, name)

    assert const(header, "IN_WIDTH") == fmt.in_width == 8 * 3 * ppb
    assert const(header, "OUT_WIDTH") == fmt.out_width
    assert const(header, "BEATS_PER_FRAME") == fmt.beats_per_frame == 120 // ppb
    assert const(header, "VALUES_PER_FRAME") == fmt.values_per_frame
    assert field("input_config", "in_width") == fmt.in_width and field("input_config", "pixels_per_beat") == ppb
    assert field("input_config", "pixel_bits") == fmt.pixel_bits and field("input_config", "channels") == fmt.channels
    assert field("output_config", "value_bits") == fmt.value_bits and field("output_config", "out_width") == 32
    assert field("output_config", "positions") * field("output_config", "channels") == fmt.values_per_frame
    testbench = build.testbench.read_text()
    assert const(testbench, "BEAT_BYTES") == fmt.beat_bytes
    assert f"typedef int{fmt.out_width}_t value_t;" in testbench
