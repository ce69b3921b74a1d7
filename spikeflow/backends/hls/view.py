"""What the HLS templates show of a network (the view): the stage configs, the streams between stages, one
library call per stage, the constant arrays and the output ports, filled layer by layer over the IR's DAG."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from spikeflow.hw.folding import Folding, passes
from spikeflow.hw.skew import Branch, branch_fifo_depths, forks
from spikeflow.hw.stream import StreamFormat
from spikeflow.ir import (
    NETWORK_INPUT,
    FewdIFConcat,
    FewdIFConv,
    FewdIFHead,
    FewdIFMaxPool,
    FewdIFNetwork,
    FewdIFUpsample,
)

if TYPE_CHECKING:
    from spikeflow.backends.hls.generator import HlsTarget

MAX_FIFO_DEPTH = 1024
COSIM_FRAMES = 2  # frames the Vitis HLS script co-simulates (RTL simulation of the whole network is slow)


@dataclass
class _Field:
    name: str
    value: str
    comment: str


@dataclass
class _Config:
    name: str
    comment: str
    fields: list[_Field]


@dataclass
class _Stream:
    name: str
    type: str
    depth: int


@dataclass
class _Array:
    decl: str
    values: str
    comment: str


@dataclass
class TopView:
    """What the templates show: a network's stages, streams, calls, arrays and ports."""

    source: str
    name: str
    top: str
    stream: StreamFormat
    target: HlsTarget
    configs: list[_Config] = field(default_factory=list)
    streams: list[_Stream] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    arrays: list[_Array] = field(default_factory=list)
    outputs: list[_Output] = field(default_factory=list)
    extra_headers: list[str] = field(default_factory=list)  # the DAG's library headers, included when used
    cosim_frames: int = COSIM_FRAMES


def c_name(name: str) -> str:
    """A C identifier for a layer name."""
    ident = re.sub(r"\W", "_", name)
    return ident if ident and not ident[0].isdigit() else f"layer_{ident}"


def _fifo_depth(row_positions: int) -> int:
    """Two output rows of the producer, rounded up to a power of two, 2 .. MAX_FIFO_DEPTH (as the RTL's rule)."""
    depth = 2
    while depth < 2 * row_positions:
        depth *= 2
    return min(depth, MAX_FIFO_DEPTH)


def _c_array(values: np.ndarray) -> str:
    """Nested C initialiser of an integer array."""
    values = np.asarray(values, dtype=np.int64)
    if values.ndim == 1:
        return "{" + ", ".join(map(str, values.tolist())) + "}"
    return "{\n" + ",\n".join("    " + _c_array(row) for row in values) + "}"


def _pixel_type(bits: int, count: int, signed: bool = False) -> str:
    return f"spikeflow::vec<ap_{'int' if signed else 'uint'}<{bits}>, {count}>"


def _neuron_fields(layer: FewdIFConv | FewdIFHead, fold: Folding, in_bits: int) -> list[_Field]:
    f = fold[layer.name]
    c, h, w = layer.in_shape
    k, oh, ow = layer.out_shape
    return [
        _Field("in_channels", str(c), ""), _Field("in_height", str(h), ""), _Field("in_width", str(w), ""),
        _Field("kernel", str(layer.kernel), ""), _Field("stride", str(layer.stride), ""),
        _Field("padding", str(layer.padding), "zero padding"),
        _Field("out_channels", str(k), ""), _Field("out_height", str(oh), ""), _Field("out_width", str(ow), ""),
        _Field("in_bits", str(in_bits), "bits of one input value (pixel or spike count)"),
        _Field("in_max", str(layer.in_max), "largest input value: 255 for pixels, T for spike counts"),
        _Field("in_pixels", "true" if layer.in_kind == "pixels" else "false", "direct-encoded pixels in"),
        _Field("weight_bits", str(layer.weight_bits), ""),
        _Field("acc_bits", str(layer.acc_bits), "V is computed modulo 2^acc_bits"),
        _Field("pe", str(f.pe), "output channels per cycle"),
        _Field("simd", str(f.simd), "window elements per cycle"),
        _Field("time_parallel", "true" if f.time_parallel else "false",
               f"all input timesteps at once, else {passes(layer, replace(f, time_parallel=False))} passes"),
    ]


def _weight_rows(layer: FewdIFConv | FewdIFHead, fold: Folding) -> np.ndarray:
    """weights[nf*SF + sf][pe*SIMD + s] = W[nf*PE + pe][sf*SIMD + s], window element e = (i*K + j)*C + c."""
    f = fold[layer.name]
    k, c, kk = layer.out_channels, layer.in_shape[0], layer.kernel
    w = np.asarray(layer.weights).transpose(0, 2, 3, 1).reshape(k, kk * kk * c)
    nf, sf = k // f.pe, w.shape[1] // f.simd
    return w.reshape(nf, f.pe, sf, f.simd).transpose(0, 2, 1, 3).reshape(nf * sf, f.pe * f.simd)


@dataclass
class _Output:
    """One output port: a head's values, one per beat."""

    port: str  # m_axis for one head, m_axis_<i> (i in net.heads order) for several
    config: str
    values_name: str  # the C constant of its values per frame
    head: str
    stream: StreamFormat
    offset: int  # where its values start in a frame of the testbench's output file


def build_view(net: FewdIFNetwork, fold: Folding, heads: list[StreamFormat], view: TopView) -> TopView:
    """`view` (its name, source, top, input format and target set) filled with `net`'s stages; heads: each output
    port's stream format, in net.heads order."""
    return _ViewBuilder(net, fold, heads, view).build()


class _ViewBuilder:
    """Fills a TopView layer by layer over the IR's DAG: every tensor has one producer stream, forked into one
    stream per read when it is read more than once (spikeflow.hw.skew sizes the branch FIFOs)."""

    def __init__(self, net: FewdIFNetwork, fold: Folding, heads: list[StreamFormat], view: TopView):
        self.net, self.fold, self.view = net, fold, view
        self.forks = forks(net)
        self.depths = branch_fifo_depths(net)
        self.single: dict[str, _Stream] = {}  # a tensor read once -> its stream
        self.branch: dict[Branch, _Stream] = {}  # a read of a forked tensor -> its stream out of the fork
        self.head_streams: list[_Stream] = []
        self.heads = heads

    def use(self, header: str) -> None:
        if header not in self.view.extra_headers:
            self.view.extra_headers.append(header)

    def stream(self, name: str, type_: str, depth: int) -> _Stream:
        s = _Stream(name, type_, depth)
        self.view.streams.append(s)
        return s

    def build(self) -> TopView:
        net, view, fmt = self.net, self.view, self.heads[0]
        view.configs.append(_Config("input_config", "s_axis: beats to pixels (spikeflow/hw/stream.py)", [
            _Field("channels", str(fmt.channels), ""), _Field("pixel_bits", str(fmt.pixel_bits), ""),
            _Field("pixels_per_beat", str(fmt.pixels_per_beat), ""),
            _Field("beats_per_frame", str(fmt.beats_per_frame), ""),
            _Field("in_width", str(fmt.in_width), "s_axis TDATA bits")]))
        pixels = self.stream("in_pixels", _pixel_type(fmt.pixel_bits, fmt.channels), _fifo_depth(fmt.width))
        view.calls.append(f"spikeflow::axis_input<input_config>(s_axis, {pixels.name});")
        self.route(NETWORK_INPUT, pixels, fmt.pixel_bits, net.input_shape)
        for layer, inputs in net.layer_inputs():
            ins = [self.branch.get(Branch(name, layer.name, slot)) or self.single[name]
                   for slot, name in enumerate(inputs)]
            if isinstance(layer, FewdIFMaxPool):
                out = self.maxpool(layer, ins[0])
            elif isinstance(layer, FewdIFConcat):
                out = self.concat(layer, ins)
            elif isinstance(layer, FewdIFUpsample):
                out = self.upsample(layer, ins[0])
            else:
                out = self.neuron(layer, ins)
            if isinstance(layer, FewdIFHead):
                self.head_streams.append(out)
            else:
                self.route(layer.name, out, self.net.act_bits, layer.out_shape)
        self.outputs()
        return view

    def route(self, tensor: str, source: _Stream, bits: int, shape: tuple[int, int, int]) -> None:
        """Connect the tensor's stream to its reads: directly when read once, else through a cascade of forks whose
        output streams are as deep as spikeflow.hw.skew sizes each branch's FIFO."""
        branches = self.forks.get(tensor)
        if not branches:
            self.single[tensor] = source
            return
        c, h, w = shape
        base = source.name.removesuffix("_out")
        cfg = f"{c_name(base)}_fork_config"
        depths = [self.depths[b] for b in branches]
        self.use("fork.h")
        self.view.configs.append(_Config(cfg, f"{tensor}: fork to {len(branches)} readers "
                                              f"({', '.join(b.layer for b in branches)}); branch FIFOs of "
                                              f"{', '.join(map(str, depths))} (spikeflow/hw/skew.py)", [
            _Field("channels", str(c), ""), _Field("bits", str(bits), ""), _Field("positions", str(h * w), "")]))
        names = [b.layer for b in branches]
        targets = [self.stream(f"{base}_to_{c_name(b.layer)}" + (f"_{b.index}" if names.count(b.layer) > 1 else ""),
                               source.type, depth) for b, depth in zip(branches, depths, strict=True)]
        current = source
        for i, target in enumerate(targets[:-1]):
            last = i == len(targets) - 2
            rest = targets[-1] if last else self.stream(f"{base}_fork{i}", source.type, max(depths[i + 1:]))
            self.view.calls.append(f"spikeflow::fewdif_fork<{cfg}>({current.name}, {target.name}, {rest.name});")
            current = rest
        self.branch.update(zip(branches, targets, strict=True))

    def maxpool(self, layer: FewdIFMaxPool, source: _Stream) -> _Stream:
        name = c_name(layer.name)
        c, h, w = layer.in_shape
        _, oh, ow = layer.out_shape
        cfg = f"{name}_config"
        self.view.configs.append(_Config(cfg, f"{layer.name}: max-pool {layer.kernel}x{layer.kernel}/{layer.stride}", [
            _Field("channels", str(c), ""), _Field("in_height", str(h), ""), _Field("in_width", str(w), ""),
            _Field("kernel", str(layer.kernel), ""), _Field("stride", str(layer.stride), ""),
            _Field("out_height", str(oh), ""), _Field("out_width", str(ow), ""),
            _Field("bits", str(self.net.act_bits), "bits of a spike count")]))
        out = self.stream(f"{name}_out", _pixel_type(self.net.act_bits, c), _fifo_depth(ow))
        self.view.calls.append(f"spikeflow::fewdif_maxpool<{cfg}>({source.name}, {out.name});")
        return out

    def concat(self, layer: FewdIFConcat, sources: list[_Stream]) -> _Stream:
        """A cascade of two-input concats, in input order: ((a, b), c), ..."""
        name, bits = c_name(layer.name), self.net.act_bits
        self.use("concat.h")
        _, h, w = layer.out_shape
        current, channels = sources[0], layer.in_shapes[0][0]
        for i, (source, shape) in enumerate(zip(sources[1:], layer.in_shapes[1:], strict=True)):
            last = i == len(sources) - 2
            cfg = f"{name}_config" if last else f"{name}_{i}_config"
            self.view.configs.append(_Config(cfg, f"{layer.name}: concat of {channels} + {shape[0]} channels", [
                _Field("channels_a", str(channels), ""), _Field("channels_b", str(shape[0]), ""),
                _Field("positions", str(h * w), ""), _Field("bits", str(bits), "bits of a spike count")]))
            channels += shape[0]
            out = self.stream(f"{name}_out" if last else f"{name}_{i}_out", _pixel_type(bits, channels),
                              _fifo_depth(w))
            self.view.calls.append(f"spikeflow::fewdif_concat<{cfg}>({current.name}, {source.name}, {out.name});")
            current = out
        return current

    def upsample(self, layer: FewdIFUpsample, source: _Stream) -> _Stream:
        name = c_name(layer.name)
        c, h, w = layer.in_shape
        cfg = f"{name}_config"
        self.use("upsample.h")
        self.view.configs.append(_Config(cfg, f"{layer.name}: nearest upsampling x{layer.factor}", [
            _Field("channels", str(c), ""), _Field("in_height", str(h), ""), _Field("in_width", str(w), ""),
            _Field("factor", str(layer.factor), ""), _Field("bits", str(self.net.act_bits), "bits of a spike count")]))
        out = self.stream(f"{name}_out", _pixel_type(self.net.act_bits, c), _fifo_depth(layer.out_shape[2]))
        self.view.calls.append(f"spikeflow::fewdif_upsample<{cfg}>({source.name}, {out.name});")
        return out

    def neuron(self, layer: FewdIFConv | FewdIFHead, sources: list[_Stream]) -> _Stream:
        """A conv (with its shortcut when it has one) or a head: its window generator, then the neuron unit."""
        view, net, fold = self.view, self.net, self.fold
        name = c_name(layer.name)
        in_bits = self.heads[0].pixel_bits if layer.in_kind == "pixels" else net.act_bits
        f = fold[layer.name]
        cfg = f"{name}_config"
        fields = _neuron_fields(layer, fold, in_bits)
        k, oh, ow = layer.out_shape
        window = self.stream(f"{name}_windows", _pixel_type(in_bits, layer.in_shape[0] * layer.kernel ** 2), 2)
        view.calls.append(f"spikeflow::conv_window<{cfg}>({sources[0].name}, {window.name});")
        weight_t = f"spikeflow::rom_int<{layer.weight_bits}>::type"
        acc_t = f"spikeflow::rom_int<{layer.acc_bits}>::type"
        rows = _weight_rows(layer, fold)
        view.arrays.append(_Array(f"{weight_t} {name}_weights[{rows.shape[0]}][{rows.shape[1]}]", _c_array(rows),
                                  f"{layer.name}: weights[nf*SF + sf][pe*SIMD + s], PE={f.pe} SIMD={f.simd}"))
        view.arrays.append(_Array(f"{acc_t} {name}_bias[{k}]", _c_array(layer.bias), f"{layer.name}: bias"))
        if isinstance(layer, FewdIFConv):
            t = layer.thresholds.shape[1]
            fields += [_Field("timesteps", str(t), "thresholds per channel"),
                       _Field("out_bits", str(net.act_bits), "bits of a spike count")]
            view.arrays.append(_Array(f"{acc_t} {name}_thresholds[{k}][{t}]", _c_array(layer.thresholds),
                                      f"{layer.name}: thresholds, non-decreasing"))
            out = _Stream(f"{name}_out", _pixel_type(net.act_bits, k), _fifo_depth(ow))
            args = f"{window.name}, {out.name}, {name}_weights, {name}_bias, {name}_thresholds"
            what = "FewdIF conv"
            if layer.has_residual:
                shift_t = "spikeflow::rom_int<spikeflow::residual_shift_bits>::type"
                view.arrays.append(_Array(f"{shift_t} {name}_shifts[{k}]", _c_array(np.asarray(layer.residual_shift)),
                                          f"{layer.name}: residual shifts r[k], V += shortcut << r[k]"))
                args = (f"{window.name}, {sources[1].name}, {out.name}, {name}_weights, {name}_bias, "
                        f"{name}_thresholds, {name}_shifts")
                what = f"FewdIF conv + shortcut {layer.inputs[1]!r}"
            view.calls.append(f"spikeflow::fewdif_conv{'_residual' if layer.has_residual else ''}<{cfg}>({args});")
        else:
            out = _Stream(f"{name}_out", _pixel_type(layer.acc_bits, k, signed=True), 2)
            view.calls.append(f"spikeflow::fewdif_head<{cfg}>({window.name}, {out.name}, {name}_weights, "
                              f"{name}_bias);")
            what = "head"
        view.configs.append(_Config(cfg, f"{layer.name}: {what} {layer.kernel}x{layer.kernel}/{layer.stride}, "
                                         f"PE={f.pe} SIMD={f.simd}", fields))
        view.streams.append(out)
        return out

    def outputs(self) -> None:
        """One axis_output per head, in net.heads order: m_axis for one head, m_axis_<i> for several."""
        several = len(self.heads) > 1
        offset = 0
        for i, (head, fmt, source) in enumerate(zip(self.net.heads, self.heads, self.head_streams, strict=True)):
            port = f"m_axis_{i}" if several else "m_axis"
            cfg = f"output{i}_config" if several else "output_config"
            comment = f"{port}: head values to beats (spikeflow/hw/stream.py)" + (f", head {head.name!r}"
                                                                                    if several else "")
            self.view.configs.append(_Config(cfg, comment, [
                _Field("channels", str(fmt.out_channels), ""),
                _Field("positions", str(fmt.out_height * fmt.out_width_px), ""),
                _Field("value_bits", str(fmt.value_bits), "the head's acc_bits"),
                _Field("out_width", str(fmt.out_width), f"{port} TDATA bits")]))
            self.view.calls.append(f"spikeflow::axis_output<{cfg}>({source.name}, {port});")
            self.view.outputs.append(_Output(port, cfg, f"VALUES_PER_FRAME_{i}" if several else "VALUES_PER_FRAME",
                                             head.name, fmt, offset))
            offset += fmt.values_per_frame
