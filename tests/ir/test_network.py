import json

import numpy as np
import pytest

from spikeflow.errors import IRError
from spikeflow.golden import run_counts
from spikeflow.ir import accumulator_range, load_network, signed_bits
from spikeflow.ir.random import random_network


def test_save_load_round_trip(tmp_path) -> None:
    rng = np.random.default_rng(3)
    net = random_network(rng)
    net.save(tmp_path)
    back = load_network(tmp_path)
    frames = rng.integers(0, 256, size=(3, *net.input_shape), dtype=np.uint8)
    assert np.array_equal(run_counts(net, frames), run_counts(back, frames))
    assert [layer.kind for layer in back.layers] == [layer.kind for layer in net.layers]


def test_wrong_version_and_missing_files(tmp_path) -> None:
    with pytest.raises(IRError, match="no FewdIF IR"):
        load_network(tmp_path)
    net = random_network(np.random.default_rng(0))
    path = net.save(tmp_path)
    doc = json.loads(path.read_text())
    doc["ir_version"] = 99
    path.write_text(json.dumps(doc))
    with pytest.raises(IRError, match="version 99"):
        load_network(tmp_path)


@pytest.mark.parametrize("weight_bits", [2, 4, 8])
@pytest.mark.parametrize("in_max", [1, 3, 7, 255])
def test_accumulator_width_holds_extremes(weight_bits: int, in_max: int) -> None:
    """All-max inputs with all-max or all-min weights must fit the derived width."""
    wmax, wmin = (1 << (weight_bits - 1)) - 1, -(1 << (weight_bits - 1))
    for w in (wmax, wmin):
        weights = np.full((2, 16, 3, 3), w)
        bias = np.array([wmin * 100, wmax * 100])
        lo, hi = accumulator_range(weights, bias, in_max)
        bits = signed_bits(lo, hi)
        extreme = 16 * 9 * w * in_max
        for b in bias:
            assert -(1 << (bits - 1)) <= extreme + b <= (1 << (bits - 1)) - 1
        assert not (-(1 << (bits - 2)) <= lo and hi <= (1 << (bits - 2)) - 1)  # and is the smallest


def test_signed_bits() -> None:
    assert signed_bits(-1, 0) == 1
    assert signed_bits(-128, 127) == 8
    assert signed_bits(0, 128) == 9
    assert signed_bits(-129, 0) == 9
