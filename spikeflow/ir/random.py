"""Random but valid FewdIF networks, for tests of every back end that reads the IR."""

from __future__ import annotations

import numpy as np

from spikeflow.ir import FewdIFConv, FewdIFHead, FewdIFMaxPool, FewdIFNetwork, Layer


def random_thresholds(rng: np.random.Generator, out_channels: int, timesteps: int, spread: int) -> np.ndarray:
    """Non-decreasing integer thresholds, with occasional equal neighbours to exercise ties."""
    start = rng.integers(-spread // 4, spread // 2 + 1, size=(out_channels, 1))
    gaps = rng.integers(0, max(spread // max(timesteps, 1), 1) + 1, size=(out_channels, timesteps - 1))
    return np.concatenate([start, start + np.cumsum(gaps, axis=1)], axis=1).astype(np.int64)


def random_network(rng: np.random.Generator, input_shape: tuple[int, int, int] = (3, 16, 16),
                   channels: tuple[int, ...] = (4, 8), act_bits: int = 2, weight_bits: int = 4,
                   kernel: int = 3, pool_after: tuple[bool, ...] | None = None, head_channels: int = 6,
                   name: str = "random", stride: int = 1, pool: tuple[int, int] = (2, 2)) -> FewdIFNetwork:
    """Convs (with optional max-pools, `pool` = kernel, stride) then a 1x1 head. Thresholds are scaled to typical
    V ranges. `stride` is the convs' stride (padding kernel // 2)."""
    timesteps = (1 << act_bits) - 1
    wmax = (1 << (weight_bits - 1)) - 1
    pool_after = pool_after or tuple(True for _ in channels)
    layers: list[Layer] = []
    shape = input_shape
    in_kind, in_max = "pixels", 255
    for i, out_ch in enumerate(channels):
        weights = rng.integers(-wmax - 1, wmax + 1, size=(out_ch, shape[0], kernel, kernel)).astype(np.int64)
        fan_in = shape[0] * kernel * kernel
        typical = int(np.sqrt(fan_in) * wmax * in_max / 2) + 1
        bias = rng.integers(-typical // 2, typical // 2 + 1, size=out_ch).astype(np.int64)
        thresholds = random_thresholds(rng, out_ch, timesteps, typical)
        conv = FewdIFConv(name=f"conv{i}", in_shape=shape, out_channels=out_ch, kernel=kernel, stride=stride,
                          padding=kernel // 2, weights=weights, bias=bias, thresholds=thresholds,
                          in_kind=in_kind, in_max=in_max, weight_bits=weight_bits, timesteps=timesteps)
        conv.acc_bits = conv.derive_acc_bits()
        layers.append(conv)
        shape = conv.out_shape
        if pool_after[i] and shape[1] >= pool[0] and shape[2] >= pool[0]:
            pool_layer = FewdIFMaxPool(name=f"pool{i}", in_shape=shape, kernel=pool[0], stride=pool[1],
                                       timesteps=timesteps)
            layers.append(pool_layer)
            shape = pool_layer.out_shape
        in_kind, in_max = "spikes", timesteps
    weights = rng.integers(-wmax - 1, wmax + 1, size=(head_channels, shape[0], 1, 1)).astype(np.int64)
    bias = rng.integers(-64, 65, size=head_channels).astype(np.int64)
    head = FewdIFHead(name="head", in_shape=shape, out_channels=head_channels, kernel=1, stride=1, padding=0,
                      weights=weights, bias=bias, out_scale=np.full(head_channels, 2.0 ** -6),
                      in_kind=in_kind, in_max=in_max, weight_bits=weight_bits)
    head.acc_bits = head.derive_acc_bits()
    layers.append(head)
    net = FewdIFNetwork(name=name, input_shape=input_shape, act_bits=act_bits, layers=layers)
    net.validate()
    return net
