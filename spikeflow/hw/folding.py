"""Folding: how much of each FewdIF layer the hardware computes per cycle, at the IR level.

Every back end (RTL today, HLS next) reads the same `folding.json`:

    {"pixels_per_beat": 1,
     "layers": {"conv0": {"pe": 4, "simd": 27, "time_parallel": true}, ...}}

`pe` output channels and `simd` window elements are computed per cycle; with `time_parallel` all input timesteps
(spike counts, or the 8 bit planes of a pixel) are taken at once, else one per pass. `pixels_per_beat` is the
input stream's width in pixels.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from spikeflow.errors import ConfigError
from spikeflow.ir import FewdIFConv, FewdIFHead, FewdIFMaxPool, FewdIFNetwork

FOLDING_VERSION = 1
PIXEL_PLANES = 8  # bit planes of an 8-bit pixel: the passes of a time-serial first layer


@dataclass(frozen=True)
class LayerFolding:
    """Per-layer parallelism: PE output channels and SIMD window elements per cycle, timesteps at once."""

    pe: int
    simd: int
    time_parallel: bool = True


@dataclass
class Folding:
    """The folding of a whole network: one LayerFolding per conv/head layer, and the input beat width."""

    layers: dict[str, LayerFolding] = field(default_factory=dict)
    pixels_per_beat: int = 1

    def __getitem__(self, name: str) -> LayerFolding:
        return self.layers[name]

    def as_dict(self) -> dict[str, Any]:
        return {"folding_version": FOLDING_VERSION, "pixels_per_beat": self.pixels_per_beat,
                "layers": {name: asdict(f) for name, f in self.layers.items()}}

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2) + "\n"

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json())
        return path


ConvLike = FewdIFConv | FewdIFHead


def window_elems(layer: ConvLike) -> int:
    return layer.in_shape[0] * layer.kernel * layer.kernel


def passes(layer: ConvLike, f: LayerFolding) -> int:
    """Passes over a window: 1 time-parallel, else one per input timestep (or pixel bit plane)."""
    if f.time_parallel:
        return 1
    return PIXEL_PLANES if layer.in_kind == "pixels" else layer.in_max


def cycles_per_window(layer: ConvLike, f: LayerFolding) -> int:
    """Cycles the neuron unit spends on one output window."""
    return (layer.out_channels // f.pe) * (window_elems(layer) // f.simd) * passes(layer, f)


def window_out_reg(layer: ConvLike) -> bool:
    """Whether the layer's window generator copies each finished window to an output register (OUT_REG=1 of
    rtl/spikeflow_window.v), so that its walk overlaps the neuron's work on the window: strided layers, where
    most positions of the walk make no window."""
    return layer.stride > 1


def conv_cycles(layer: ConvLike, f: LayerFolding) -> int:
    """Cycles per frame of a conv/head stage on its own (input always valid, output always ready), as the RTL
    runs it: the window generator walks the padded raster one position per cycle, and the walk stalls while the
    neuron works on a window (`cycles_per_window` cycles, the last issue freeing the window).

    Without an output register (stride 1) the walk waits out each window: raster + windows * (cpw - 1). With one
    (`window_out_reg`: strided layers) the walk goes on while the neuron works on the copied window and stalls
    only when it reaches the next window before the neuron is done: a window reached after `gap` positions
    without one stalls max(0, cpw - 1 - gap) cycles. The gaps are S - 1 within an output row, the rest of the
    row, the S - 1 rows without windows and the K - 1 filling columns between rows, and the rows after the last
    output row and the K - 1 filling rows of the next frame (frames follow back to back) between frames.
    """
    _, h, w = layer.in_shape
    k, s, p = layer.kernel, layer.stride, layer.padding
    hp, wp = h + 2 * p, w + 2 * p
    _, oh, ow = layer.out_shape
    cpw = cycles_per_window(layer, f)
    if not window_out_reg(layer):
        return hp * wp + oh * ow * (cpw - 1)
    last_col, last_row = k - 1 + (ow - 1) * s, k - 1 + (oh - 1) * s
    row_gap = (wp - 1 - last_col) + (s - 1) * wp + (k - 1)
    frame_gap = (wp - 1 - last_col) + (hp - 1 - last_row) * wp + (k - 1) * wp + (k - 1)

    def stall(gap: int) -> int:
        return max(0, cpw - 1 - gap)

    return hp * wp + oh * (ow - 1) * stall(s - 1) + (oh - 1) * stall(row_gap) + stall(frame_gap)


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def longest_walk(net: FewdIFNetwork) -> int:
    """Cycles per frame that no folding goes below: the input at one pixel per cycle, and each stage's walk over
    its (padded) input raster at one position per cycle. A padded first conv walks more positions than the
    frame has pixels, so this is the input pixel rate that the default folding can keep."""
    _, h, w = net.input_shape
    walks = [h * w]
    for layer in net.layers:
        if isinstance(layer, ConvLike | FewdIFMaxPool):
            _, lh, lw = layer.in_shape
            p = layer.padding if isinstance(layer, ConvLike) else 0
            walks.append((lh + 2 * p) * (lw + 2 * p))
        else:  # concat, upsample: one output position per cycle
            _, oh, ow = layer.out_shape
            walks.append(oh * ow)
    return max(walks)


def default_folding(net: FewdIFNetwork, pixels_per_beat: int = 1) -> Folding:
    """Least parallelism that keeps every layer at the input pixel rate (one pixel per cycle): no layer's
    estimated cycles per frame (conv_cycles) above `longest_walk`.

    A layer with P output positions per frame may spend H*W/P cycles per window; PE is lowered first, then
    SIMD, with all timesteps in parallel. A layer that this leaves over the longest walk (a strided layer: its
    walk overlaps only part of the window work) gets the folding with the fewest lanes (PE * SIMD) that is not.
    """
    _, h, w = net.input_shape
    bound = longest_walk(net)
    out: dict[str, LayerFolding] = {}
    for layer in net.layers:
        if not isinstance(layer, ConvLike):
            continue
        _, oh, ow = layer.out_shape
        budget = max(1, (h * w) // (oh * ow))
        k, n = layer.out_channels, window_elems(layer)
        pe = min(d for d in _divisors(k) if k // d <= budget)
        nf = k // pe
        simd = min(d for d in _divisors(n) if nf * (n // d) <= budget)
        f = LayerFolding(pe=pe, simd=simd, time_parallel=True)
        if conv_cycles(layer, f) > bound:
            options = [LayerFolding(a, b, time_parallel=True) for a in _divisors(k) for b in _divisors(n)]
            f = min((g for g in options if conv_cycles(layer, g) <= bound), key=lambda g: (g.pe * g.simd, g.pe))
        out[layer.name] = f
    return Folding(out, pixels_per_beat)


def resolve_folding(net: FewdIFNetwork, folding: Folding | Mapping[str, Any] | None,
                    where: str = "folding") -> Folding:
    """Complete `folding` with default_folding's choice for layers it does not name, and check it against the
    network: known layers, PE dividing the channels, SIMD dividing the window, pixels per beat dividing the frame.

    `folding` may be a Folding, a mapping of layer name to LayerFolding or dict, or None.
    """
    if isinstance(folding, Folding):
        given, ppb = dict(folding.layers), folding.pixels_per_beat
    else:
        given, ppb = dict(folding or {}), 1
    resolved = default_folding(net, ppb)
    names = set(resolved.layers)
    for name, value in given.items():
        if name not in names:
            raise ConfigError(f"{where}: network {net.name!r} has no conv/head layer {name!r} "
                              f"(layers: {', '.join(sorted(names))})")
        if isinstance(value, Mapping):
            value = _layer_from_dict(value, f"{where}: {name}")
        resolved.layers[name] = value
    _, h, w = net.input_shape
    if ppb < 1 or (h * w) % ppb:
        raise ConfigError(f"{where}: pixels_per_beat={ppb} must divide the {h * w} pixels of a frame")
    for layer in net.layers:
        if not isinstance(layer, ConvLike):
            continue
        f = resolved.layers[layer.name]
        n = window_elems(layer)
        if f.pe < 1 or layer.out_channels % f.pe:
            raise ConfigError(f"{where}: {layer.name}: pe={f.pe} does not divide {layer.out_channels} channels")
        if f.simd < 1 or n % f.simd:
            raise ConfigError(f"{where}: {layer.name}: simd={f.simd} does not divide the {n}-element window")
    return resolved


def _layer_from_dict(doc: Mapping[str, Any], where: str) -> LayerFolding:
    known = {"pe", "simd", "time_parallel"}
    unknown = set(doc) - known
    if unknown:
        raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]!r} (known: {', '.join(sorted(known))})")
    try:
        return LayerFolding(pe=int(doc["pe"]), simd=int(doc["simd"]),
                            time_parallel=bool(doc.get("time_parallel", True)))
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: needs integer 'pe' and 'simd' ({exc})") from exc


def load_folding(path: str | Path) -> Folding:
    """Read a folding.json (format in this module's docstring); a ConfigError names the file and the key."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"folding file not found: {path}")
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("layers", {}), dict):
        raise ConfigError(f"{path}: expected an object with 'layers' (a map from layer name to pe, simd, "
                          f"time_parallel)")
    unknown = set(doc) - {"folding_version", "pixels_per_beat", "layers"}
    if unknown:
        raise ConfigError(f"{path}: unknown key {sorted(unknown)[0]!r}")
    layers = {name: _layer_from_dict(v if isinstance(v, dict) else {}, f"{path}: {name}")
              for name, v in doc.get("layers", {}).items()}
    return Folding(layers, int(doc.get("pixels_per_beat", 1)))


def random_folding(net: FewdIFNetwork, rng: Any, pixels_per_beat: int = 1) -> Folding:
    """A legal folding drawn at random (PE and SIMD among the divisors, timesteps in parallel or not): for tests
    and sweeps that must hold at any folding. `rng` is a numpy Generator."""
    out: dict[str, LayerFolding] = {}
    for layer in net.layers:
        if isinstance(layer, ConvLike):
            pe = int(rng.choice(_divisors(layer.out_channels)))
            simd = int(rng.choice(_divisors(window_elems(layer))))
            out[layer.name] = LayerFolding(pe=pe, simd=simd, time_parallel=bool(rng.random() < 0.7))
    return Folding(out, pixels_per_beat)
