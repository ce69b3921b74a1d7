"""The golden model on DAG networks: residual adds, concatenation, upsampling, forks and several heads."""

import numpy as np
import pytest

from spikeflow.errors import IRError
from spikeflow.golden import run_counts, run_counts_heads, run_spikes_heads
from spikeflow.ir import NETWORK_INPUT, FewdIFConcat, FewdIFConv, FewdIFHead, FewdIFNetwork, FewdIFUpsample
from spikeflow.ir.random import random_dag_network


@pytest.mark.parametrize("seed", range(24))
def test_spike_mode_equals_count_mode_on_random_dags(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    net = random_dag_network(rng, act_bits=int(rng.integers(1, 4)))
    frames = rng.integers(0, 256, size=(3, *net.input_shape), dtype=np.uint8)
    counts, spikes = run_counts_heads(net, frames), run_spikes_heads(net, frames)
    assert len(counts) == len(net.heads)
    for head, a, b in zip(net.heads, counts, spikes, strict=True):
        assert a.shape == (3, *head.out_shape)
        assert np.array_equal(a, b)


def _conv(name: str, inputs: tuple[str, ...], in_shape, weights, bias, thresholds, in_kind="spikes",  # noqa: ANN001
          shifts: tuple[int, ...] = ()) -> FewdIFConv:
    weights = np.asarray(weights, dtype=np.int64)
    conv = FewdIFConv(name=name, in_shape=in_shape, out_channels=weights.shape[0], kernel=weights.shape[2],
                      stride=1, padding=weights.shape[2] // 2, weights=weights, bias=np.asarray(bias, dtype=np.int64),
                      thresholds=np.asarray(thresholds, dtype=np.int64), in_kind=in_kind,
                      in_max=255 if in_kind == "pixels" else 3, weight_bits=4, timesteps=3, inputs=inputs,
                      residual_shift=shifts)
    conv.acc_bits = conv.derive_acc_bits()
    return conv


def _head(name: str, src: str, in_shape, weights) -> FewdIFHead:  # noqa: ANN001
    weights = np.asarray(weights, dtype=np.int64)
    head = FewdIFHead(name=name, in_shape=in_shape, out_channels=weights.shape[0], kernel=1, stride=1, padding=0,
                      weights=weights, bias=np.zeros(weights.shape[0], dtype=np.int64),
                      out_scale=np.ones(weights.shape[0]), in_kind="spikes", in_max=3, weight_bits=4, inputs=(src,))
    head.acc_bits = head.derive_acc_bits()
    return head


def test_the_semantics_by_hand() -> None:
    """Counts n = clip(pixel // 64, 0, 3) from the first conv; a residual conv with zero weights and shifts (0, 2)
    gives V = b + n << r, fired against thresholds 1, 2, 3 ... then an upsample and a concat with the counts,
    read out by identity heads. Checked against numpy written out here."""
    shape = (1, 2, 2)
    # stem: 1x1, weight 1, thresholds 64, 128, 192 -> n = pixel // 64 (0..3)
    stem = _conv("stem", (NETWORK_INPUT,), shape, [[[[1]]]], [0], [[64, 128, 192]], in_kind="pixels")
    # widen to two channels that both copy n: weights 1, thresholds 1, 2, 3
    wide = _conv("wide", ("stem",), shape, [[[[1]]], [[[1]]]], [0, 0], [[1, 2, 3], [1, 2, 3]])
    # residual: zero weights, bias (0, -1), shortcut `wide` shifted by (0, 2); thresholds 1, 2, 3 and 4, 8, 12
    res = _conv("res", ("wide", "wide"), (2, 2, 2), np.zeros((2, 2, 1, 1)), [0, -1], [[1, 2, 3], [4, 8, 12]],
                shifts=(0, 2))
    up = FewdIFUpsample(name="up", in_shape=(2, 2, 2), timesteps=3, inputs=("res",))
    small = _head("coarse", "res", (2, 2, 2), np.eye(2).reshape(2, 2, 1, 1))
    wide4 = _conv("wide4", ("stem",), shape, [[[[1]]]], [0], [[1, 2, 3]])
    up4 = FewdIFUpsample(name="up4", in_shape=(1, 2, 2), timesteps=3, inputs=("wide4",))
    cat = FewdIFConcat(name="cat", in_shapes=((2, 4, 4), (1, 4, 4)), timesteps=3, inputs=("up", "up4"))
    fine = _head("fine", "cat", (3, 4, 4), np.eye(3).reshape(3, 3, 1, 1))
    net = FewdIFNetwork(name="by-hand", input_shape=shape, act_bits=2,
                        layers=[stem, wide, res, small, up, wide4, up4, cat, fine])
    net.validate()
    assert not net.is_chain
    frames = np.array([[[[0, 70], [130, 255]]], [[[63, 64], [191, 192]]]], dtype=np.uint8)
    n = (frames[:, 0] // 64).astype(np.int64)  # [N, 2, 2]
    v0 = n << 0  # channel 0: b = 0, shift 0
    v1 = -1 + (n << 2)  # channel 1: b = -1, shift 2
    c0 = (v0[..., None] >= np.array([1, 2, 3])).sum(-1)
    c1 = (v1[..., None] >= np.array([4, 8, 12])).sum(-1)
    coarse = np.stack([c0, c1], axis=1)
    fine_expect = np.concatenate([coarse.repeat(2, 2).repeat(2, 3), n[:, None].repeat(2, 2).repeat(2, 3)], axis=1)
    got_coarse, got_fine = run_counts_heads(net, frames)
    assert np.array_equal(got_coarse, coarse)
    assert np.array_equal(got_fine, fine_expect)
    for a, b in zip(run_spikes_heads(net, frames), (coarse, fine_expect), strict=True):
        assert np.array_equal(a, b)
    with pytest.raises(IRError, match="has 2 heads \\(coarse, fine\\)"):
        run_counts(net, frames)


def test_the_shortcut_reaches_the_output() -> None:
    """On random residual DAGs, a larger shortcut weight changes the heads: the add is not dropped."""
    changed = 0
    for seed in range(12):
        rng = np.random.default_rng(seed)
        net = random_dag_network(rng)
        res = [layer for layer in net.layers if isinstance(layer, FewdIFConv) and layer.has_residual]
        if not res:
            continue
        frames = rng.integers(0, 256, size=(4, *net.input_shape), dtype=np.uint8)
        before = run_counts_heads(net, frames)
        for layer in res:
            layer.residual_shift = tuple(r + 3 for r in layer.residual_shift)
            layer.acc_bits = layer.derive_acc_bits()
        after = run_counts_heads(net, frames)
        changed += any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    assert changed >= 3
