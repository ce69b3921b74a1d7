"""Branch FIFO depths of a DAG network: the skew between the branches of a fork, from the streams' position
dependencies, so that no fork stalls a branch that a join waits for (a deadlock).

Every stream carries one frame's positions in raster order. For each layer and input, `needs` gives for each
output position the last input position (raster index) it reads: a k x k window at stride s with padding p reads
input rows up to y*s - p + k - 1 and columns up to x*s - p + k - 1; a shortcut, a concat input and the head of a
chain read the same position; an upsampler by f reads (y // f, x // f). Composed along the paths from a fork, this
gives, for every tensor downstream, the fork positions that each of the fork's branches must have consumed for the
tensor's position q. Where branches meet (a residual conv, a concat), a branch e that needs fewer fork positions
for q than another branch e' must buffer the difference: the fork hands every item to all branches together, so
while e' is still collecting what q needs, e's FIFO holds what e' has taken and e has not. The depth of e's FIFO
is the largest difference over q plus a margin (`SKEW_MARGIN_ROWS` rows of the fork's tensor and a few items) for
what the RTL's window generators read ahead of the arithmetic, rounded up to a power of two.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikeflow.ir import NETWORK_INPUT, FewdIFConcat, FewdIFConv, FewdIFHead, FewdIFMaxPool, FewdIFNetwork, Layer

SKEW_MARGIN_ROWS = 1  # rows of the fork's tensor added to the computed skew: the window generators' read-ahead
SKEW_MARGIN_ITEMS = 8  # and items: pipeline registers between a fork and a join


@dataclass(frozen=True)
class Branch:
    """One consumer of a forked tensor: `layer` reads `tensor` as its input number `index`."""

    tensor: str
    layer: str
    index: int


def window_needs(in_hw: tuple[int, int], out_hw: tuple[int, int], kernel: int, stride: int,
                 padding: int) -> np.ndarray:
    """For each output position of a k x k window walk, the raster index of the last input position it reads."""
    (h, w), (oh, ow) = in_hw, out_hw
    rows = np.minimum(np.arange(oh) * stride - padding + kernel - 1, h - 1)
    cols = np.minimum(np.arange(ow) * stride - padding + kernel - 1, w - 1)
    return (rows[:, None] * w + cols[None, :]).reshape(-1)


def layer_needs(layer: Layer, index: int) -> np.ndarray:
    """For each output position of `layer`, the last position of its input `index` that it reads."""
    _, oh, ow = layer.out_shape
    if isinstance(layer, FewdIFConv | FewdIFHead | FewdIFMaxPool):
        if index == 1:  # a residual conv's shortcut: the output position itself
            return np.arange(oh * ow)
        _, h, w = layer.in_shape
        padding = 0 if isinstance(layer, FewdIFMaxPool) else layer.padding
        return window_needs((h, w), (oh, ow), layer.kernel, layer.stride, padding)
    if isinstance(layer, FewdIFConcat):
        return np.arange(oh * ow)
    _, _, w = layer.in_shape  # upsample
    f = layer.factor
    return ((np.arange(oh)[:, None] // f) * w + np.arange(ow)[None, :] // f).reshape(-1)


def forks(net: FewdIFNetwork) -> dict[str, list[Branch]]:
    """Tensors read by more than one layer input, with their branches in IR order."""
    readers: dict[str, list[Branch]] = {}
    for layer, inputs in net.layer_inputs():
        for i, name in enumerate(inputs):
            readers.setdefault(name, []).append(Branch(name, layer.name, i))
    return {t: b for t, b in readers.items() if len(b) > 1}


def _demand(net: FewdIFNetwork, branch: Branch) -> dict[str, np.ndarray]:
    """For every tensor downstream of `branch`, per position, the last fork position read through it."""
    demand: dict[str, np.ndarray] = {}
    for layer, inputs in net.layer_inputs():
        parts = []
        for i, name in enumerate(inputs):
            if layer.name == branch.layer and i == branch.index:
                parts.append(layer_needs(layer, i))
            elif name in demand and name != branch.tensor:
                parts.append(demand[name][layer_needs(layer, i)])
        if parts:
            demand[layer.name] = np.maximum.reduce(parts)
    return demand


def _power_of_two(n: int) -> int:
    depth = 2
    while depth < n:
        depth *= 2
    return depth


def branch_fifo_depths(net: FewdIFNetwork) -> dict[Branch, int]:
    """The FIFO depth (a power of two >= 2) of every branch of every fork of `net` (see the module's docstring)."""
    shapes = {NETWORK_INPUT: net.input_shape, **{layer.name: layer.out_shape for layer in net.layers}}
    depths: dict[Branch, int] = {}
    for tensor, branches in forks(net).items():
        demands = [_demand(net, b) for b in branches]
        margin = SKEW_MARGIN_ROWS * shapes[tensor][2] + SKEW_MARGIN_ITEMS
        for b, mine in zip(branches, demands, strict=True):
            skew = 0
            for other in demands:
                if other is mine:
                    continue
                for name, theirs in other.items():
                    if name in mine:
                        skew = max(skew, int((theirs - mine[name]).max()))
            depths[b] = _power_of_two(skew + 1 + margin)
    return depths


def head_merge_depths(net: FewdIFNetwork) -> dict[str, int]:
    """The FIFO depth of every head in the RTL's head merge (rtl/spikeflow_head_merge.v) of a network with several
    heads (none with one head): one whole frame of that head's values (K x Gh x Gw). The merged output stream carries
    head 0's frame first; a later head's values of the same frame must all fit while head 0 is still streaming, since
    head 0's last values may need the shared trunk's last positions, which the fork hands out only once every branch
    has taken what comes before (the module's header gives the argument). One value less can deadlock
    (tests/backends/rtl/test_rtl_heads.py). Head 0's FIFO (the first merge's input 0) lets the trunk run on into head
    0's next frame while the merge drains the later heads, so a frame takes the slowest stage, as hw.cycles says."""
    if len(net.heads) < 2:
        return {}
    return {head.name: int(np.prod(head.out_shape)) for head in net.heads}
