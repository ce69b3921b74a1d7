"""The FewdIF intermediate representation: an ordered list of integer layers, saved as JSON plus .npz.

Every back end (golden model, HLS, RTL) reads this and nothing else. See docs/fewdif.md for the neuron contract.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np

from spikeflow.errors import IRError

IR_VERSION = 2  # 2: typed meta (IRMeta)
PIXEL_BITS = 8  # the network's input: unsigned 8-bit pixels ...
PIXEL_SCALE = 2.0**-8  # ... at the input quantizer's scale: pixel p stands for p * 2^-8 (exact in float32)
FLOAT32_EXACT_BITS = 24  # float32 holds every integer of up to 24 bits (its mantissa) exactly
IR_JSON = "network.json"
IR_NPZ = "network.npz"

InputKind = Literal["pixels", "spikes"]


def signed_bits(lo: int, hi: int) -> int:
    """Smallest two's-complement width that holds every integer in [lo, hi]."""
    bits = 1
    while not (-(1 << (bits - 1)) <= lo and hi <= (1 << (bits - 1)) - 1):
        bits += 1
    return bits


def accumulator_range(weights: np.ndarray, bias: np.ndarray, in_max: int) -> tuple[int, int]:
    """Worst-case [min, max] of V = bias + sum(W * x) over all channels, for inputs x in [0, in_max]."""
    w = weights.reshape(weights.shape[0], -1).astype(np.int64)
    pos = np.where(w > 0, w, 0).sum(axis=1) * in_max
    neg = np.where(w < 0, w, 0).sum(axis=1) * in_max
    b = bias.astype(np.int64)
    return int((b + neg).min()), int((b + pos).max())


class ConvGeometry:
    """Shape arithmetic shared by the firing conv and the head (both have kernel, stride, padding)."""

    in_shape: tuple[int, int, int]
    out_channels: int
    kernel: int
    stride: int
    padding: int
    in_kind: InputKind
    in_max: int

    @property
    def out_shape(self) -> tuple[int, int, int]:
        _, h, w = self.in_shape
        return (self.out_channels, conv_out(h, self.kernel, self.stride, self.padding),
                conv_out(w, self.kernel, self.stride, self.padding))

    @property
    def in_timesteps(self) -> int:
        """Timesteps over which the input arrives: 1 for direct-encoded pixels, T for spike trains."""
        return 1 if self.in_kind == "pixels" else self.in_max


@dataclass
class FewdIFConv(ConvGeometry):
    """k x k convolution of integer weights followed by FewdIF firing against per-channel thresholds."""

    name: str
    in_shape: tuple[int, int, int]  # C, H, W
    out_channels: int
    kernel: int
    stride: int
    padding: int
    weights: np.ndarray  # int [K, C, k, k]
    bias: np.ndarray  # int [K]
    thresholds: np.ndarray  # int [K, T], non-decreasing along T
    in_kind: InputKind
    in_max: int  # largest input value: 255 for pixels, T for spike counts
    weight_bits: int
    timesteps: int
    acc_bits: int = 0
    kind: str = field(default="conv", init=False)


    def derive_acc_bits(self) -> int:
        lo, hi = accumulator_range(self.weights, self.bias, self.in_max)
        lo = min(lo, int(self.thresholds.min()))
        hi = max(hi, int(self.thresholds.max()))
        return signed_bits(lo, hi)


@dataclass
class FewdIFMaxPool:
    """Max-pool of spike counts; on thermometer-ordered spike trains it is an OR per timestep."""

    name: str
    in_shape: tuple[int, int, int]
    kernel: int
    stride: int
    timesteps: int
    kind: str = field(default="maxpool", init=False)

    @property
    def out_shape(self) -> tuple[int, int, int]:
        c, h, w = self.in_shape
        return (c, conv_out(h, self.kernel, self.stride, 0), conv_out(w, self.kernel, self.stride, 0))


@dataclass
class FewdIFHead(ConvGeometry):
    """Final convolution that integrates but does not fire; its membrane V is the network output."""

    name: str
    in_shape: tuple[int, int, int]
    out_channels: int
    kernel: int
    stride: int
    padding: int
    weights: np.ndarray  # int [K, C, k, k]
    bias: np.ndarray  # int [K]
    out_scale: np.ndarray  # float64 [K]: output = V * out_scale
    in_kind: InputKind
    in_max: int
    weight_bits: int
    acc_bits: int = 0
    kind: str = field(default="head", init=False)


    def derive_acc_bits(self) -> int:
        return signed_bits(*accumulator_range(self.weights, self.bias, self.in_max))


Layer = FewdIFConv | FewdIFMaxPool | FewdIFHead
_ARRAYS = {"conv": ("weights", "bias", "thresholds"), "maxpool": (), "head": ("weights", "bias", "out_scale")}
_TYPES: dict[str, type] = {"conv": FewdIFConv, "maxpool": FewdIFMaxPool, "head": FewdIFHead}


def conv_out(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


@dataclass(frozen=True)
class IRMeta:
    """What the IR records beside its layers: the input quantizer, the scales, and what the head means."""

    input_scale: float = PIXEL_SCALE  # a pixel p stands for p * input_scale
    power_of_two_scales: bool = True  # every scale a power of two: QONNX's float execution can be exact
    names: tuple[str, ...] = ()  # class names of the detector (empty when unknown)
    anchors: tuple[tuple[float, float], ...] = ()  # head anchors (w, h) in input pixels (empty when unknown)

    def as_dict(self) -> dict[str, Any]:
        return {"input_scale": self.input_scale, "power_of_two_scales": self.power_of_two_scales,
                "names": list(self.names), "anchors": [list(a) for a in self.anchors]}

    @classmethod
    def from_dict(cls, doc: dict[str, Any], where: str) -> IRMeta:
        known = {f.name for f in fields(cls)}
        unknown = set(doc) - known
        if unknown:
            raise IRError(f"{where}: unknown meta key {sorted(unknown)[0]!r} (known: {', '.join(sorted(known))})")
        missing = known - set(doc)
        if missing:
            raise IRError(f"{where}: meta lacks {sorted(missing)[0]!r}; convert the model again")
        return cls(input_scale=float(doc["input_scale"]), power_of_two_scales=bool(doc["power_of_two_scales"]),
                   names=tuple(str(n) for n in doc["names"]),
                   anchors=tuple((float(w), float(h)) for w, h in doc["anchors"]))


@dataclass
class FewdIFNetwork:
    """A whole spiking detector: 8-bit pixels in, integer head membrane out."""

    name: str
    input_shape: tuple[int, int, int]
    act_bits: int
    layers: list[Layer]
    meta: IRMeta = field(default_factory=IRMeta)

    @property
    def timesteps(self) -> int:
        return (1 << self.act_bits) - 1

    @property
    def head(self) -> FewdIFHead:
        last = self.layers[-1]
        if not isinstance(last, FewdIFHead):
            raise IRError(f"network {self.name!r}: last layer {last.name!r} is not a head")
        return last

    @property
    def output_shape(self) -> tuple[int, int, int]:
        return self.layers[-1].out_shape

    @property
    def max_acc_bits(self) -> int:
        return max((layer.acc_bits for layer in self.layers if isinstance(layer, FewdIFConv | FewdIFHead)),
                   default=0)

    @property
    def float32_exact(self) -> bool:
        """Whether QONNX's float32 execution computes this network exactly: power-of-two scales, and every
        accumulator within float32's 24-bit mantissa. Otherwise differences at rounding boundaries are
        expected and the near-tie check classifies them."""
        return self.meta.power_of_two_scales and self.max_acc_bits <= FLOAT32_EXACT_BITS

    def validate(self) -> None:
        """Check shapes chain, thresholds are sorted and widths are consistent; raise IRError otherwise."""
        shape = tuple(self.input_shape)
        for i, layer in enumerate(self.layers):
            where = f"network {self.name!r}, layer {i} ({layer.name})"
            if tuple(layer.in_shape) != shape:
                raise IRError(f"{where}: input shape {layer.in_shape} does not match previous output {shape}")
            if isinstance(layer, FewdIFConv | FewdIFHead):
                k = layer.kernel
                if layer.weights.shape != (layer.out_channels, shape[0], k, k):
                    raise IRError(f"{where}: weights shape {layer.weights.shape} is not "
                                  f"{(layer.out_channels, shape[0], k, k)}")
                if layer.bias.shape != (layer.out_channels,):
                    raise IRError(f"{where}: bias shape {layer.bias.shape}")
                if layer.acc_bits < layer.derive_acc_bits():
                    raise IRError(f"{where}: acc_bits {layer.acc_bits} < worst case {layer.derive_acc_bits()}")
                if layer.in_kind == "spikes" and layer.in_max != self.timesteps:
                    raise IRError(f"{where}: spike input max {layer.in_max} != T={self.timesteps}")
            if isinstance(layer, FewdIFConv):
                if layer.thresholds.shape != (layer.out_channels, self.timesteps):
                    raise IRError(f"{where}: thresholds shape {layer.thresholds.shape}, "
                                  f"expected {(layer.out_channels, self.timesteps)}")
                if np.any(np.diff(layer.thresholds, axis=1) < 0):
                    raise IRError(f"{where}: thresholds are not non-decreasing")
            if isinstance(layer, FewdIFHead) and i != len(self.layers) - 1:
                raise IRError(f"{where}: a head must be the last layer")
            shape = layer.out_shape
        self.head  # noqa: B018 - raises when the last layer is not a head

    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        layers = []
        for i, layer in enumerate(self.layers):
            entry: dict[str, Any] = {}
            for f in fields(layer):
                key, value = f.name, getattr(layer, f.name)
                if key in _ARRAYS[layer.kind]:
                    arrays[f"{i}.{key}"] = value
                else:
                    entry[key] = list(value) if isinstance(value, tuple) else value
            layers.append(entry)
        doc = {"ir_version": IR_VERSION, "name": self.name, "input_shape": list(self.input_shape),
               "act_bits": self.act_bits, "timesteps": self.timesteps, "layers": layers,
               "meta": self.meta.as_dict()}
        (directory / IR_JSON).write_text(json.dumps(doc, indent=2) + "\n")
        np.savez_compressed(directory / IR_NPZ, **arrays)
        return directory / IR_JSON


def load_network(path: str | Path) -> FewdIFNetwork:
    """Load an IR from a directory (or its network.json); raise IRError naming the file when it is unusable."""
    path = Path(path)
    json_path = path / IR_JSON if path.is_dir() else path
    npz_path = json_path.with_name(IR_NPZ)
    if not json_path.is_file() or not npz_path.is_file():
        raise IRError(f"no FewdIF IR at {path}: expected {IR_JSON} and {IR_NPZ} "
                      f"(run 'spikeflow convert MODEL.onnx --out DIR' first)")
    try:
        doc = json.loads(json_path.read_text())
    except json.JSONDecodeError as exc:
        raise IRError(f"{json_path}: not valid JSON ({exc})") from exc
    if doc.get("ir_version") != IR_VERSION:
        raise IRError(f"{json_path}: IR version {doc.get('ir_version')!r}, this spikeflow reads {IR_VERSION}")
    with np.load(npz_path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    layers: list[Layer] = []
    for i, entry in enumerate(doc["layers"]):
        entry = dict(entry)
        kind = entry.pop("kind", None)
        if kind not in _TYPES:
            raise IRError(f"{json_path}: layer {i} has unknown kind {kind!r}")
        for key in _ARRAYS[kind]:
            entry[key] = arrays[f"{i}.{key}"]
        entry["in_shape"] = tuple(entry["in_shape"])
        layers.append(_TYPES[kind](**entry))
    net = FewdIFNetwork(name=doc["name"], input_shape=tuple(doc["input_shape"]), act_bits=doc["act_bits"],
                        layers=layers, meta=IRMeta.from_dict(doc.get("meta", {}), str(json_path)))
    net.validate()
    return net
