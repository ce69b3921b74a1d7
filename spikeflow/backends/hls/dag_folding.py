"""The folding of a DAG network for the HLS back end, while spikeflow.hw.folding (the fold step) takes chains only.

A chain is resolved by spikeflow.hw.folding.resolve_folding as before. For a DAG, the given per-layer foldings are
checked the same way (known conv/head layers, PE dividing the output channels, SIMD dividing the window, pixels
per beat dividing the frame), and a layer not named gets the pixel-rate rule of default_folding without its
refinement for strided layers: with P output positions per frame the layer may spend H*W/P cycles per window,
PE is lowered first, then SIMD, all timesteps in parallel.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from spikeflow.errors import ConfigError
from spikeflow.hw.folding import Folding, LayerFolding, _layer_from_dict, resolve_folding, window_elems
from spikeflow.ir import FewdIFConv, FewdIFHead, FewdIFNetwork


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def pixel_rate_folding(layer: FewdIFConv | FewdIFHead, frame_pixels: int) -> LayerFolding:
    """Least PE, then SIMD, that keeps the layer within frame_pixels / output positions cycles per window."""
    _, oh, ow = layer.out_shape
    budget = max(1, frame_pixels // (oh * ow))
    k, n = layer.out_channels, window_elems(layer)
    pe = min(d for d in _divisors(k) if k // d <= budget)
    simd = min(d for d in _divisors(n) if (k // pe) * (n // d) <= budget)
    return LayerFolding(pe=pe, simd=simd, time_parallel=True)


def resolve_hls_folding(net: FewdIFNetwork, folding: Folding | Mapping[str, Any] | None,
                        where: str = "folding") -> Folding:
    """`folding` completed and checked against `net` (a chain through resolve_folding; a DAG as the module says)."""
    if net.is_chain:
        return resolve_folding(net, folding, where)
    given, ppb = (dict(folding.layers), folding.pixels_per_beat) if isinstance(folding, Folding) \
        else (dict(folding or {}), 1)
    _, h, w = net.input_shape
    convs = {layer.name: layer for layer in net.layers if isinstance(layer, FewdIFConv | FewdIFHead)}
    unknown = sorted(set(given) - set(convs))
    if unknown:
        raise ConfigError(f"{where}: network {net.name!r} has no conv/head layer {unknown[0]!r} "
                          f"(layers: {', '.join(sorted(convs))})")
    if ppb < 1 or (h * w) % ppb:
        raise ConfigError(f"{where}: pixels_per_beat={ppb} must divide the {h * w} pixels of a frame")
    layers = {}
    for name, layer in convs.items():
        f = given.get(name) or pixel_rate_folding(layer, h * w)
        if isinstance(f, Mapping):
            f = _layer_from_dict(f, f"{where}: {name}")
        if f.pe < 1 or layer.out_channels % f.pe:
            raise ConfigError(f"{where}: {name}: pe={f.pe} does not divide {layer.out_channels} channels")
        if f.simd < 1 or window_elems(layer) % f.simd:
            raise ConfigError(f"{where}: {name}: simd={f.simd} does not divide the {window_elems(layer)}-element "
                              f"window")
        layers[name] = f
    return Folding(layers, ppb)
