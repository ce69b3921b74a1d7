"""The FewdIF intermediate representation: integer layers in topological order, saved as JSON plus .npz.

Every back end (golden model, HLS, RTL) reads this and nothing else. See docs/fewdif.md for the neuron contract.
From IR version 3 the layers form a DAG of named tensors: each layer names its inputs (`inputs`; empty means the
previous layer, or the network input for the first), so residual adds, concatenations, upsampling, forks and
several heads can be expressed; a chain stays a chain, and version-2 folders load as chains.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np

from spikeflow.errors import IRError

IR_VERSION = 3  # 2: typed meta (IRMeta); 3: a DAG of named tensors (layer inputs, residual, concat, upsample)
READABLE_IR_VERSIONS = (2, 3)  # version 2 has no `inputs`: every layer reads the previous one
NETWORK_INPUT = "input"  # the tensor name of the network's input frame
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


def accumulator_range(weights: np.ndarray, bias: np.ndarray, in_max: int,
                      residual_max: np.ndarray | None = None) -> tuple[int, int]:
    """Worst-case [min, max] of V = bias + sum(W * x) (+ a residual in [0, residual_max[k]]) over all channels, for
    inputs x in [0, in_max]."""
    w = weights.reshape(weights.shape[0], -1).astype(np.int64)
    pos = np.where(w > 0, w, 0).sum(axis=1) * in_max
    neg = np.where(w < 0, w, 0).sum(axis=1) * in_max
    b = bias.astype(np.int64)
    if residual_max is not None:
        pos = pos + np.asarray(residual_max, dtype=np.int64)
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
    inputs: tuple[str, ...] = ()  # (x,) or (x, shortcut); empty: the previous layer
    residual_shift: tuple[int, ...] = ()  # per channel r[k] >= 0: V += shortcut << r[k] (empty: no residual)
    kind: str = field(default="conv", init=False)

    @property
    def has_residual(self) -> bool:
        return len(self.residual_shift) > 0

    def residual_max(self) -> np.ndarray | None:
        """Per channel, the largest value the shortcut adds to V (T << r[k]), or None without a shortcut."""
        if not self.has_residual:
            return None
        return np.left_shift(np.int64(self.timesteps), np.asarray(self.residual_shift, dtype=np.int64))

    def derive_acc_bits(self) -> int:
        lo, hi = accumulator_range(self.weights, self.bias, self.in_max, self.residual_max())
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
    inputs: tuple[str, ...] = ()  # (x,); empty: the previous layer
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
    inputs: tuple[str, ...] = ()  # (x,); empty: the previous layer
    kind: str = field(default="head", init=False)


    def derive_acc_bits(self) -> int:
        return signed_bits(*accumulator_range(self.weights, self.bias, self.in_max))


@dataclass
class FewdIFConcat:
    """Channel concatenation of spike counts (inputs at one activation scale: see docs/fewdif.md)."""

    name: str
    in_shapes: tuple[tuple[int, int, int], ...]  # one per input, the same H, W
    timesteps: int
    inputs: tuple[str, ...] = ()  # two or more tensors
    kind: str = field(default="concat", init=False)

    @property
    def in_shape(self) -> tuple[int, int, int]:
        """The first input's shape (the grid every input shares)."""
        return self.in_shapes[0]

    @property
    def out_shape(self) -> tuple[int, int, int]:
        _, h, w = self.in_shapes[0]
        return (sum(c for c, _, _ in self.in_shapes), h, w)


@dataclass
class FewdIFUpsample:
    """Nearest-neighbour upsampling of spike counts by an integer factor (each count repeated on a block)."""

    name: str
    in_shape: tuple[int, int, int]
    timesteps: int
    factor: int = 2
    inputs: tuple[str, ...] = ()  # (x,); empty: the previous layer
    kind: str = field(default="upsample", init=False)

    @property
    def out_shape(self) -> tuple[int, int, int]:
        c, h, w = self.in_shape
        return (c, h * self.factor, w * self.factor)


Layer = FewdIFConv | FewdIFMaxPool | FewdIFHead | FewdIFConcat | FewdIFUpsample
_ARRAYS = {"conv": ("weights", "bias", "thresholds"), "maxpool": (), "head": ("weights", "bias", "out_scale"),
           "concat": (), "upsample": ()}
_TYPES: dict[str, type] = {"conv": FewdIFConv, "maxpool": FewdIFMaxPool, "head": FewdIFHead,
                           "concat": FewdIFConcat, "upsample": FewdIFUpsample}


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

    def layer_inputs(self) -> list[tuple[Layer, tuple[str, ...]]]:
        """Each layer with the tensors it reads, `inputs` resolved: empty means the previous layer's output (the
        network input for the first layer)."""
        out = []
        prev = NETWORK_INPUT
        for layer in self.layers:
            out.append((layer, tuple(layer.inputs) or (prev,)))
            prev = layer.name
        return out

    @property
    def heads(self) -> list[FewdIFHead]:
        """The output layers, in IR order."""
        return [layer for layer in self.layers if isinstance(layer, FewdIFHead)]

    @property
    def head(self) -> FewdIFHead:
        """The one head of a single-head network (IRError for several: use `heads`)."""
        heads = self.heads
        if len(heads) != 1 or heads[0] is not self.layers[-1]:
            last = self.layers[-1] if self.layers else None
            if len(heads) > 1:
                raise IRError(f"network {self.name!r} has {len(heads)} heads ({', '.join(h.name for h in heads)}): "
                              f"this stage takes a network with one head")
            raise IRError(f"network {self.name!r}: last layer {getattr(last, 'name', None)!r} is not a head")
        return heads[0]

    @property
    def output_shape(self) -> tuple[int, int, int]:
        return self.head.out_shape

    @property
    def output_shapes(self) -> list[tuple[int, int, int]]:
        return [h.out_shape for h in self.heads]

    @property
    def chain_problem(self) -> str | None:
        """Why this network is not a plain chain (None when it is): the first layer that reads anything but the
        previous layer's output alone, adds a shortcut, joins or upsamples, or a head that is not last."""
        for i, (layer, inputs) in enumerate(self.layer_inputs()):
            prev = self.layers[i - 1].name if i else NETWORK_INPUT
            if isinstance(layer, FewdIFConv) and layer.has_residual:
                return f"layer {layer.name!r} adds the shortcut {inputs[-1]!r} (a residual)"
            if isinstance(layer, FewdIFConcat | FewdIFUpsample):
                return f"layer {layer.name!r} is a {layer.kind}"
            if inputs != (prev,):
                return f"layer {layer.name!r} reads {', '.join(inputs)}, not the previous layer {prev!r}"
            if isinstance(layer, FewdIFHead) and i != len(self.layers) - 1:
                return f"head {layer.name!r} is not the last layer"
        return None

    @property
    def is_chain(self) -> bool:
        return self.chain_problem is None

    def require_chain(self, stage: str) -> None:
        """Raise IRError when `stage` (which implements chains only) is given a DAG network."""
        why = self.chain_problem
        if why is not None:
            raise IRError(f"{stage} takes a chain of layers; network {self.name!r} is not one: {why}. The golden "
                          f"model runs such networks; this stage does not yet")

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
        """Check that the layers form a DAG in topological order whose shapes agree, that every output but the
        heads' is read, that thresholds are sorted and widths are consistent; raise IRError otherwise."""
        shapes: dict[str, tuple[int, int, int]] = {NETWORK_INPUT: tuple(self.input_shape)}
        kinds: dict[str, str] = {NETWORK_INPUT: "pixels"}
        unread: dict[str, str] = {}
        if not self.layers:
            raise IRError(f"network {self.name!r} has no layers")
        for i, (layer, inputs) in enumerate(self.layer_inputs()):
            where = f"network {self.name!r}, layer {i} ({layer.name})"
            if layer.name in shapes:
                raise IRError(f"{where}: the name {layer.name!r} is used twice (or is the network input's)")
            for name in inputs:
                if name not in shapes:
                    raise IRError(f"{where}: input {name!r} is not the network input or an earlier layer")
                if kinds[name] == "output":
                    raise IRError(f"{where}: reads head {name!r}, but a head does not fire: no layer may read it")
                unread.pop(name, None)
            expect = 2 if isinstance(layer, FewdIFConv) and layer.has_residual else 1
            if isinstance(layer, FewdIFConcat):
                if len(inputs) < 2:
                    raise IRError(f"{where}: a concat needs two or more inputs, not {len(inputs)}")
                if [shapes[n] for n in inputs] != [tuple(s) for s in layer.in_shapes]:
                    raise IRError(f"{where}: input shapes {[shapes[n] for n in inputs]} do not match in_shapes "
                                  f"{[tuple(s) for s in layer.in_shapes]}")
                if len({s[1:] for s in layer.in_shapes}) != 1:
                    raise IRError(f"{where}: concat inputs must share one grid, not {list(layer.in_shapes)}")
                if any(kinds[n] != "spikes" for n in inputs):
                    raise IRError(f"{where}: a concat joins spike counts, not the input pixels")
            elif len(inputs) != expect:
                raise IRError(f"{where}: {len(inputs)} inputs ({', '.join(inputs)}), expected {expect}")
            elif tuple(layer.in_shape) != shapes[inputs[0]]:
                raise IRError(f"{where}: input shape {tuple(layer.in_shape)} does not match {inputs[0]!r}'s output "
                              f"{shapes[inputs[0]]}")
            if isinstance(layer, FewdIFConv) and layer.has_residual:
                if len(layer.residual_shift) != layer.out_channels:
                    raise IRError(f"{where}: residual_shift has {len(layer.residual_shift)} entries, not one per "
                                  f"output channel ({layer.out_channels})")
                if any(not 0 <= r <= 24 for r in layer.residual_shift):
                    raise IRError(f"{where}: residual shifts must be 0..24, not {list(layer.residual_shift)}")
                if shapes[inputs[1]] != layer.out_shape or kinds[inputs[1]] != "spikes":
                    raise IRError(f"{where}: the shortcut {inputs[1]!r} ({kinds[inputs[1]]} "
                                  f"{shapes[inputs[1]]}) must be spike counts of the conv's output shape "
                                  f"{layer.out_shape}")
            if isinstance(layer, FewdIFConv | FewdIFHead):
                self._validate_conv(layer, where, kinds[inputs[0]])
            if isinstance(layer, FewdIFMaxPool | FewdIFUpsample) and kinds[inputs[0]] != "spikes":
                raise IRError(f"{where}: a {layer.kind} takes spike counts, not the input pixels")
            if isinstance(layer, FewdIFUpsample) and layer.factor < 1:
                raise IRError(f"{where}: upsampling factor {layer.factor} must be >= 1")
            shapes[layer.name] = layer.out_shape
            kinds[layer.name] = "output" if isinstance(layer, FewdIFHead) else "spikes"
            if isinstance(layer, FewdIFHead):
                continue
            unread[layer.name] = layer.kind
        if unread:
            name = next(iter(unread))
            raise IRError(f"network {self.name!r}: the output of {unread[name]} {name!r} is read by no layer "
                          f"(every branch must end in a head)")
        if not self.heads:
            raise IRError(f"network {self.name!r}: no head (the last layer of a branch integrates without firing)")

    def _validate_conv(self, layer: FewdIFConv | FewdIFHead, where: str, input_kind: str) -> None:
        shape = tuple(layer.in_shape)
        k = layer.kernel
        if layer.weights.shape != (layer.out_channels, shape[0], k, k):
            raise IRError(f"{where}: weights shape {layer.weights.shape} is not "
                          f"{(layer.out_channels, shape[0], k, k)}")
        if layer.bias.shape != (layer.out_channels,):
            raise IRError(f"{where}: bias shape {layer.bias.shape}")
        if layer.acc_bits < layer.derive_acc_bits():
            raise IRError(f"{where}: acc_bits {layer.acc_bits} < worst case {layer.derive_acc_bits()}")
        if input_kind == "spikes" and layer.in_kind != "spikes":
            raise IRError(f"{where}: in_kind {layer.in_kind!r}, but its input carries spike counts")
        if layer.in_kind == "spikes" and layer.in_max != self.timesteps:
            raise IRError(f"{where}: spike input max {layer.in_max} != T={self.timesteps}")
        if isinstance(layer, FewdIFConv):
            if layer.thresholds.shape != (layer.out_channels, self.timesteps):
                raise IRError(f"{where}: thresholds shape {layer.thresholds.shape}, "
                              f"expected {(layer.out_channels, self.timesteps)}")
            if np.any(np.diff(layer.thresholds, axis=1) < 0):
                raise IRError(f"{where}: thresholds are not non-decreasing")

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
                elif isinstance(value, tuple):
                    entry[key] = [list(v) if isinstance(v, tuple) else v for v in value]
                else:
                    entry[key] = value
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
    if doc.get("ir_version") not in READABLE_IR_VERSIONS:
        raise IRError(f"{json_path}: IR version {doc.get('ir_version')!r}, this spikeflow reads versions "
                      f"{', '.join(map(str, READABLE_IR_VERSIONS))}; convert the model again")
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
        for key in ("in_shape", "inputs", "residual_shift"):
            if key in entry:
                entry[key] = tuple(entry[key])
        if "in_shapes" in entry:
            entry["in_shapes"] = tuple(tuple(s) for s in entry["in_shapes"])
        known = {f.name for f in fields(_TYPES[kind]) if f.init}
        unknown = set(entry) - known
        if unknown:
            raise IRError(f"{json_path}: layer {i} ({kind}) has unknown key {sorted(unknown)[0]!r}")
        try:
            layers.append(_TYPES[kind](**entry))
        except TypeError as exc:
            raise IRError(f"{json_path}: layer {i} ({kind}) is incomplete: {exc}") from exc
    net = FewdIFNetwork(name=doc["name"], input_shape=tuple(doc["input_shape"]), act_bits=doc["act_bits"],
                        layers=layers, meta=IRMeta.from_dict(doc.get("meta", {}), str(json_path)))
    net.validate()
    return net
