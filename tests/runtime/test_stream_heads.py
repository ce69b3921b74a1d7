"""The stream contract with several heads: one output stream, per frame the heads' values one head after the other
(IR head order), each head row-major with channel fastest; split and pack round-trip, and the single-head format
and its dictionary unchanged (model.json files written before still load)."""

from __future__ import annotations

import numpy as np
import pytest
from spikeflow_runtime.errors import ConfigError, FrameError
from spikeflow_runtime.stream import StreamFormat, values_from_payload

from spikeflow.hw.stream import stream_format
from spikeflow.ir.random import random_dag_network

TWO = StreamFormat(3, 16, 16, 1, 5, 4, 4, 12, heads=((5, 4, 4), (6, 8, 8)))


def _heads(fmt: StreamFormat, n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(-(1 << 11), 1 << 11, size=(n, *shape)) for shape in fmt.head_shapes]


def test_two_heads_split_and_pack_round_trip() -> None:
    assert TWO.head_shapes == ((5, 4, 4), (6, 8, 8))
    assert TWO.values_per_frame == 5 * 16 + 6 * 64 == sum(TWO.head_values)
    v = _heads(TWO, 3)
    values = TWO.pack_values(v)
    assert values.shape == (3, TWO.values_per_frame)
    # frame 1: head 0's values (row-major, channel fastest), then head 1's
    assert values[1, :80].tolist() == v[0][1].transpose(1, 2, 0).reshape(-1).tolist()
    assert values[1, 80:].tolist() == v[1][1].transpose(1, 2, 0).reshape(-1).tolist()
    payload = values.astype(TWO.value_dtype).tobytes()
    assert len(payload) == 3 * TWO.output_frame_bytes
    for got in (TWO.unpack_heads(payload), TWO.unpack_heads(values_from_payload(payload))):
        assert [g.shape for g in got] == [h.shape for h in v]
        assert all(np.array_equal(g, h) for g, h in zip(got, v, strict=True))
    views = TWO.stream_heads(np.frombuffer(payload, TWO.value_dtype))
    assert all(np.array_equal(s.transpose(0, 3, 1, 2), h) for s, h in zip(views, v, strict=True))


def test_two_heads_refuse_the_single_head_calls_and_bad_values() -> None:
    with pytest.raises(ConfigError, match="2 heads: use head_shapes"):
        TWO.output_shape  # noqa: B018
    with pytest.raises(ConfigError, match="2 heads"):
        TWO.unpack_values(np.zeros(TWO.values_per_frame))
    with pytest.raises(FrameError, match="2 head"):
        TWO.pack_values(_heads(TWO, 1)[0])
    with pytest.raises(FrameError, match="whole number"):
        TWO.unpack_heads(np.zeros(TWO.values_per_frame + 1))
    with pytest.raises(ConfigError, match="head 0"):
        StreamFormat(3, 16, 16, 1, 5, 4, 4, 12, heads=((6, 8, 8), (5, 4, 4)))


def test_the_dictionary_round_trips_and_a_single_head_keeps_its_old_one() -> None:
    doc = TWO.as_dict()
    assert doc["heads"] == [[5, 4, 4], [6, 8, 8]] and doc["values_per_frame"] == 464
    assert StreamFormat.from_dict(doc) == TWO
    one = StreamFormat(3, 16, 16, 1, 5, 4, 4, 12)
    old = one.as_dict()
    assert "heads" not in old  # what model.json held before several heads
    assert StreamFormat.from_dict(old) == one
    assert StreamFormat(3, 16, 16, 1, 5, 4, 4, 12, heads=((5, 4, 4),)) == one  # one head: the old fields alone
    v = _heads(one, 2)[0]
    assert np.array_equal(one.unpack_values(one.pack_values(v)), v)
    assert np.array_equal(one.unpack_heads(one.pack_values(v))[0], v)


def test_stream_format_of_a_two_head_network() -> None:
    net = random_dag_network(np.random.default_rng(0), two_heads=True)
    fmt = stream_format(net)
    assert fmt.head_shapes == tuple(net.output_shapes)
    assert fmt.value_bits == max(h.acc_bits for h in net.heads)
    assert fmt.values_per_frame == sum(k * h * w for k, h, w in net.output_shapes)
