"""Walking a FewdIF network's DAG in IR (topological) order: shared by the count and the spike modes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from spikeflow.ir import NETWORK_INPUT, FewdIFHead, FewdIFNetwork, Layer


def last_reads(net: FewdIFNetwork) -> dict[str, int]:
    """For each tensor, the index of the last layer that reads it (a tensor may be freed after that layer)."""
    last: dict[str, int] = {}
    for i, (_, inputs) in enumerate(net.layer_inputs()):
        for name in inputs:
            last[name] = i
    return last


def walk(net: FewdIFNetwork, network_input: np.ndarray,
         step: Callable[[Layer, list[np.ndarray]], np.ndarray]) -> dict[str, np.ndarray]:
    """Evaluate every layer once, in IR order: `step(layer, inputs)` gets the tensors the layer names and returns
    its output. Tensors are freed after their last reader. Returns the heads' outputs by head name."""
    last = last_reads(net)
    tensors: dict[str, np.ndarray] = {NETWORK_INPUT: network_input}
    heads: dict[str, np.ndarray] = {}
    for i, (layer, inputs) in enumerate(net.layer_inputs()):
        y = step(layer, [tensors[name] for name in inputs])
        for name in set(inputs):  # a tensor read twice (x + x) is freed once
            if last[name] == i:
                del tensors[name]
        if isinstance(layer, FewdIFHead):
            heads[layer.name] = y
        else:
            tensors[layer.name] = y
    return heads
