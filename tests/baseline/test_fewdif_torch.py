import numpy as np
import pytest
import torch

from spikeflow.baseline.fewdif_torch import FewdIFTorch
from spikeflow.errors import IRError
from spikeflow.golden import run_counts
from spikeflow.golden.ops import conv2d_int, magnitude_bound, maxpool_int
from spikeflow.ir.random import random_network


@pytest.mark.parametrize(("seed", "act_bits", "kernel", "weight_bits"),
                         [(0, 2, 3, 4), (1, 1, 3, 4), (2, 3, 3, 4), (3, 2, 5, 12)])  # last: float64 layers
def test_fewdif_torch_equals_run_counts(seed: int, act_bits: int, kernel: int, weight_bits: int) -> None:
    rng = np.random.default_rng(seed)
    net = random_network(rng, input_shape=(3, 20, 20), channels=(4, 6, 8), pool_after=(True, False, True),
                         act_bits=act_bits, kernel=kernel, weight_bits=weight_bits)
    frames = rng.integers(0, 256, size=(7, *net.input_shape), dtype=np.uint8)
    model = FewdIFTorch(net)
    expected = run_counts(net, frames)
    got = model.run(frames, batch=3)
    assert got.dtype == np.int64
    assert np.array_equal(got, expected)
    if weight_bits == 12:
        assert model.w0.dtype == torch.float64


def _naive_conv(x, w, b, stride, padding):
    x = np.pad(x.astype(np.int64), ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n, _, h, wd = x.shape
    k = w.shape[-1]
    ho, wo = (h - k) // stride + 1, (wd - k) // stride + 1
    out = np.zeros((n, w.shape[0], ho, wo), np.int64)
    for i in range(ho):
        for j in range(wo):
            patch = x[:, :, i * stride:i * stride + k, j * stride:j * stride + k]
            out[:, :, i, j] = np.einsum("nchw,kchw->nk", patch, w.astype(np.int64))
    return out + b.astype(np.int64)[None, :, None, None]


@pytest.mark.parametrize(("stride", "padding", "wmax"), [(1, 1, 7), (2, 0, 7), (2, 1, 1 << 20), (1, 0, 3)])
def test_golden_conv_is_exact(stride: int, padding: int, wmax: int) -> None:
    rng = np.random.default_rng(stride * 10 + padding)
    x = rng.integers(0, 256, size=(2, 5, 9, 11))
    w = rng.integers(-wmax - 1, wmax + 1, size=(6, 5, 3, 3))
    b = rng.integers(-1000, 1000, size=6)
    got = conv2d_int(x, w, b, stride, padding, magnitude_bound(w, b, 255))
    assert np.array_equal(got, _naive_conv(x, w, b, stride, padding))


@pytest.mark.parametrize(("kernel", "stride"), [(2, 2), (3, 2), (3, 1)])
def test_golden_maxpool(kernel: int, stride: int) -> None:
    x = np.random.default_rng(kernel).integers(0, 4, size=(2, 3, 9, 8))
    got = maxpool_int(x, kernel, stride)
    ho, wo = (9 - kernel) // stride + 1, (8 - kernel) // stride + 1
    ref = np.array([[[[x[n, c, i * stride:i * stride + kernel, j * stride:j * stride + kernel].max()
                       for j in range(wo)] for i in range(ho)] for c in range(3)] for n in range(2)])
    assert np.array_equal(got, ref)


@pytest.mark.parametrize("seed", range(6))
def test_fewdif_torch_runs_random_dags_like_the_golden_model(seed: int) -> None:
    """Residual adds, forks, concats, upsamplers and (odd seeds) two heads, every head equal to the golden model."""
    from spikeflow.golden.count import run_counts_heads
    from spikeflow.ir.random import random_dag_network

    rng = np.random.default_rng(seed)
    net = random_dag_network(rng, input_shape=(3, 16, 16), two_heads=seed % 2 == 1)
    frames = rng.integers(0, 256, size=(5, *net.input_shape), dtype=np.uint8)
    model = FewdIFTorch(net)
    got, expected = model.run_heads(frames, batch=2), run_counts_heads(net, frames)
    assert len(got) == len(expected) == len(net.heads)
    assert all(np.array_equal(g, e) for g, e in zip(got, expected, strict=True))
    if len(net.heads) == 1:
        assert np.array_equal(model.run(frames), expected[0])
    else:
        with pytest.raises(IRError, match="has 2 heads"):
            model.run(frames)


def test_the_random_dags_have_residual_adds_concats_and_two_heads() -> None:
    from spikeflow.ir import FewdIFConcat, FewdIFConv, FewdIFUpsample
    from spikeflow.ir.random import random_dag_network

    nets = [random_dag_network(np.random.default_rng(s), input_shape=(3, 16, 16), two_heads=s % 2 == 1)
            for s in range(6)]
    kinds = {type(layer) for net in nets for layer in net.layers}
    assert {FewdIFConcat, FewdIFUpsample} <= kinds and max(len(n.heads) for n in nets) == 2
    assert any(isinstance(layer, FewdIFConv) and layer.has_residual for n in nets for layer in n.layers)
