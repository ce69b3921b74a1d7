"""Branches of a DAG network in the HLS design: who reads each tensor (a tensor read more than once is forked
into one stream per reader), and how deep a branch stream must be to cover the skew between branches.

The skew bound: where branches of a fork meet again (a residual add, a concat), the join reads both position by
position, so while the longer branch is filling its line buffers, the fork keeps writing the shorter branch's
stream. A layer holds back `lookahead` rows of its main input before it emits its first output row (a KxK conv
with padding P and stride S: K - 1 - P + S - 1 rows; a pool likewise with P = 0; an upsample, a concat, and the
shortcut input of a residual add: none). Along a path from the forked tensor X, each layer's lookahead is
counted in rows of X (a layer on a grid downsampled 2x holds back 2 rows of X per row of its input), and the
path's lookahead is their sum. Every stream out of X's fork gets room for the largest path lookahead from X,
plus one row, in positions of X (rows times X's width), rounded up to a power of two and at most one frame of X
(the skew cannot exceed a frame). This bounds the skew at any join the branches reach.
"""

from __future__ import annotations

import math
from functools import cache

from spikeflow.ir import NETWORK_INPUT, FewdIFConv, FewdIFHead, FewdIFMaxPool, FewdIFNetwork, Layer

Reader = tuple[str, int]  # (layer name, input slot): one read of a tensor


def readers(net: FewdIFNetwork) -> dict[str, list[Reader]]:
    """Each tensor (the network input, every layer but the heads) with its reads, in IR order."""
    out: dict[str, list[Reader]] = {NETWORK_INPUT: []}
    for layer, inputs in net.layer_inputs():
        for slot, name in enumerate(inputs):
            out[name].append((layer.name, slot))
        if not isinstance(layer, FewdIFHead):
            out[layer.name] = []
    return out


def lookahead_rows(layer: Layer, slot: int) -> int:
    """Rows of its input `slot` that a layer holds back before its first output row (see the module's text)."""
    if slot > 0:  # a residual add's shortcut and a concat's later inputs are read position by position
        return 0
    if isinstance(layer, FewdIFConv | FewdIFHead):
        return max(0, layer.kernel - 1 - layer.padding + layer.stride - 1)
    if isinstance(layer, FewdIFMaxPool):
        return layer.kernel - 1 + layer.stride - 1
    return 0  # concat, upsample


def _pow2_at_least(n: int) -> int:
    return 1 << max(1, math.ceil(math.log2(max(n, 2))))


def branch_depths(net: FewdIFNetwork) -> dict[str, int]:
    """The FIFO depth of every stream out of the fork of each tensor read more than once (the bound in the
    module's text), by tensor name."""
    layers = {layer.name: layer for layer in net.layers}
    reads = readers(net)
    shapes = {NETWORK_INPUT: tuple(net.input_shape), **{layer.name: tuple(layer.out_shape) for layer in net.layers}}

    @cache
    def path_rows(tensor: str) -> float:
        """Largest lookahead of a path from `tensor` to a head, in rows of `tensor`."""
        best = 0.0
        for name, slot in reads.get(tensor, []):
            layer = layers[name]
            after = 0.0 if isinstance(layer, FewdIFHead) else path_rows(name) * shapes[tensor][1] / shapes[name][1]
            best = max(best, lookahead_rows(layer, slot) + after)
        return best

    depths = {}
    for tensor, tensor_reads in reads.items():
        if len(tensor_reads) > 1:
            _, h, w = shapes[tensor]
            rows = math.ceil(path_rows(tensor)) + 1
            depths[tensor] = min(_pow2_at_least(rows * w), _pow2_at_least(h * w))
    return depths
