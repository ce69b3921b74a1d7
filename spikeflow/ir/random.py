"""Random but valid FewdIF networks, for tests of every back end that reads the IR."""

from __future__ import annotations

import numpy as np

from spikeflow.ir import (
    NETWORK_INPUT,
    FewdIFConcat,
    FewdIFConv,
    FewdIFHead,
    FewdIFMaxPool,
    FewdIFNetwork,
    FewdIFUpsample,
    Layer,
)


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


class _DagBuilder:
    """Appends random layers to a DAG under construction, tracking each tensor's shape."""

    def __init__(self, rng: np.random.Generator, input_shape: tuple[int, int, int], act_bits: int,
                 weight_bits: int) -> None:
        self.rng, self.act_bits, self.weight_bits = rng, act_bits, weight_bits
        self.timesteps = (1 << act_bits) - 1
        self.layers: list[Layer] = []
        self.shapes: dict[str, tuple[int, int, int]] = {NETWORK_INPUT: input_shape}

    def _name(self, kind: str) -> str:
        return f"{kind}{len(self.layers)}"

    def conv(self, src: str, out_ch: int, kernel: int = 3, shortcut: str | None = None) -> str:
        rng, shape = self.rng, self.shapes[src]
        wmax = (1 << (self.weight_bits - 1)) - 1
        in_kind, in_max = ("pixels", 255) if src == NETWORK_INPUT else ("spikes", self.timesteps)
        weights = rng.integers(-wmax - 1, wmax + 1, size=(out_ch, shape[0], kernel, kernel)).astype(np.int64)
        typical = int(np.sqrt(shape[0] * kernel * kernel) * wmax * in_max / 2) + 1
        bias = rng.integers(-typical // 2, typical // 2 + 1, size=out_ch).astype(np.int64)
        shifts = tuple(int(r) for r in rng.integers(0, 3, size=out_ch)) if shortcut else ()
        conv = FewdIFConv(name=self._name("conv"), in_shape=shape, out_channels=out_ch, kernel=kernel, stride=1,
                          padding=kernel // 2, weights=weights, bias=bias,
                          thresholds=random_thresholds(rng, out_ch, self.timesteps, typical), in_kind=in_kind,
                          in_max=in_max, weight_bits=self.weight_bits, timesteps=self.timesteps,
                          inputs=(src, shortcut) if shortcut else (src,), residual_shift=shifts)
        conv.acc_bits = conv.derive_acc_bits()
        return self._add(conv)

    def pool(self, src: str) -> str:
        return self._add(FewdIFMaxPool(name=self._name("pool"), in_shape=self.shapes[src], kernel=2, stride=2,
                                       timesteps=self.timesteps, inputs=(src,)))

    def upsample(self, src: str) -> str:
        return self._add(FewdIFUpsample(name=self._name("up"), in_shape=self.shapes[src], timesteps=self.timesteps,
                                        inputs=(src,)))

    def concat(self, *srcs: str) -> str:
        return self._add(FewdIFConcat(name=self._name("cat"), in_shapes=tuple(self.shapes[s] for s in srcs),
                                      timesteps=self.timesteps, inputs=srcs))

    def head(self, src: str, out_ch: int) -> str:
        shape = self.shapes[src]
        wmax = (1 << (self.weight_bits - 1)) - 1
        weights = self.rng.integers(-wmax - 1, wmax + 1, size=(out_ch, shape[0], 1, 1)).astype(np.int64)
        head = FewdIFHead(name=self._name("head"), in_shape=shape, out_channels=out_ch, kernel=1, stride=1,
                          padding=0, weights=weights, bias=self.rng.integers(-64, 65, size=out_ch).astype(np.int64),
                          out_scale=np.full(out_ch, 2.0 ** -6), in_kind="spikes", in_max=self.timesteps,
                          weight_bits=self.weight_bits, inputs=(src,))
        head.acc_bits = head.derive_acc_bits()
        return self._add(head)

    def _add(self, layer: Layer) -> str:
        self.layers.append(layer)
        self.shapes[layer.name] = layer.out_shape
        return layer.name


def _finer(b: _DagBuilder, rng: np.random.Generator, deep: str, fine: str) -> str:
    """The finer scale: the deep features upsampled and joined with the fine ones, then a conv."""
    up = b.upsample(b.conv(deep, int(rng.integers(2, 5)), kernel=1))
    joined = b.concat(up, fine) if rng.random() < 0.5 else b.concat(fine, up)
    return b.conv(joined, int(rng.integers(2, 6)))


def random_dag_network(rng: np.random.Generator, input_shape: tuple[int, int, int] = (3, 16, 16),
                       act_bits: int = 2, weight_bits: int = 4, name: str = "random-dag",
                       two_heads: bool | None = None) -> FewdIFNetwork:
    """A random YOLOv3-tiny-like DAG: a stem conv and pool, one to three blocks (residual ones add their input
    back, the shortcut forking from the main path), then a deeper stage whose head is the coarse output and,
    at random, a second, finer head on its upsampled features concatenated with the earlier ones. Input H and W
    must be multiples of 4. `two_heads`: whether the finer head is there (None: at random); with one head, the
    upsampled deep features still join the fine ones at random, into the one head."""
    b = _DagBuilder(rng, input_shape, act_bits, weight_bits)
    x = b.pool(b.conv(NETWORK_INPUT, int(rng.integers(3, 7))))
    for _ in range(int(rng.integers(1, 4))):
        channels = b.shapes[x][0]
        if rng.random() < 0.7:  # residual block: conv, conv + shortcut (the block's input, a fork)
            mid = b.conv(x, int(rng.integers(2, 7)), kernel=int(rng.choice([1, 3])))
            x = b.conv(mid, channels, kernel=3, shortcut=x)
        else:
            x = b.conv(x, int(rng.integers(2, 7)), kernel=int(rng.choice([1, 3])))
    fine = x
    deep = b.conv(b.pool(fine), int(rng.integers(3, 8)))
    if two_heads is False and rng.random() < 0.5:
        b.head(_finer(b, rng, deep, fine), int(rng.integers(2, 7)))  # one head, on the joined scales
    else:
        b.head(deep, int(rng.integers(2, 7)))
        if two_heads or (two_heads is None and rng.random() < 0.7):
            b.head(_finer(b, rng, deep, fine), int(rng.integers(2, 7)))
    net = FewdIFNetwork(name=name, input_shape=input_shape, act_bits=act_bits, layers=b.layers)
    net.validate()
    return net
