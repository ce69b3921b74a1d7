"""Generate the streaming RTL of a FewdIF network: a top module from a Jinja2 template, ROM images, a file list.

The hand-written library in `rtl/` holds the building blocks; this module only computes parameters, lays
out weights/biases/thresholds in the word order the neuron unit reads them, and writes the top level.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

from spikeflow.errors import ConfigError
from spikeflow.hw.cycles import cycles_per_frame, estimate_cycles
from spikeflow.hw.folding import Folding, LayerFolding, cycles_per_window, resolve_folding, window_out_reg
from spikeflow.hw.resources import DSP_MIN_WEIGHT_WORDS, fifo_depth
from spikeflow.hw.skew import branch_fifo_depths, forks, head_merge_depths
from spikeflow.hw.sources import hardware_folder
from spikeflow.hw.stream import StreamFormat, pack_fields, stream_format
from spikeflow.ir import (
    NETWORK_INPUT,
    FewdIFConcat,
    FewdIFConv,
    FewdIFHead,
    FewdIFMaxPool,
    FewdIFNetwork,
    FewdIFUpsample,
)

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
LIB_MODULES = ("spikeflow_rom", "spikeflow_adder_tree", "spikeflow_lane_sum", "spikeflow_axis_skid",
               "spikeflow_axis_fifo", "spikeflow_axis_input", "spikeflow_window", "spikeflow_slice_select",
               "spikeflow_fire", "spikeflow_neuron", "spikeflow_head", "spikeflow_maxpool", "spikeflow_axis_output",
               "spikeflow_broadcast", "spikeflow_concat", "spikeflow_upsample")
HEADS_MODULES = ("spikeflow_head_merge",)  # only in the folder of a network with several heads
TOP = "spikeflow_top"
MEM_DIR_MACRO = "SPIKEFLOW_MEM_DIR"
RES_SHIFT_BITS = 5  # spikeflow_neuron RES_SHW: a residual shift of 0..24
NEURON_RES_BITS = 2  # spikeflow_neuron RES_BITS's default: the width of a shortcut count per channel


@dataclass
class RtlBuild:
    """What generate_rtl wrote: the top module name, every source (library + generated) and the file list."""

    name: str
    out_dir: Path
    top: str
    sources: list[Path]
    filelist: Path
    stream: StreamFormat
    folding: Folding
    estimated_cycles_per_frame: int  # the analytical model's frame interval (spikeflow.hw.cycles)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return self.stream.input_shape

    @property
    def output_shape(self) -> tuple[int, int, int]:
        return self.stream.output_shape

    @property
    def pixels_per_beat(self) -> int:
        return self.stream.pixels_per_beat

    def mem_dir_define(self) -> str:
        """Verilator argument that points the ROM images at out_dir, for simulating from another folder.

        The top reads its `.mem` images as `SPIKEFLOW_MEM_DIR` + bare file name, `SPIKEFLOW_MEM_DIR`
        defaulting to "./": simulate from out_dir, add the images to the Vivado project, or define it.
        """
        return f'-D{MEM_DIR_MACRO}="{self.out_dir.as_posix()}/"'


def _to_unsigned(values: np.ndarray, bits: int) -> np.ndarray:
    values = np.asarray(values, dtype=np.int64)
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if values.size and (values.min() < lo or values.max() > hi):
        raise ConfigError(f"value out of the signed {bits}-bit range [{lo}, {hi}]")
    return values & ((1 << bits) - 1)


def _pack_words(fields_: np.ndarray, bits: int) -> list[str]:
    """fields_ [words, n] of unsigned ints (field 0 in the low bits) -> hex words."""
    digits = max(1, (fields_.shape[1] * bits + 3) // 4)
    return [f"{pack_fields(row, bits):0{digits}x}" for row in fields_]


def _write_if_changed(path: Path, text: str) -> None:
    """Write text unless the file already holds it, so unchanged outputs keep their time stamps (and the
    Verilator builds that depend on them stay valid)."""
    if path.is_file() and path.read_text() == text:
        return
    path.write_text(text)


def _write_mem(path: Path, words: list[str], what: str) -> None:
    _write_if_changed(path, f"// {what}\n" + "\n".join(words) + "\n")


def _layer_mems(layer: FewdIFConv | FewdIFHead, f: LayerFolding, out_dir: Path) -> dict[str, Path]:
    """Write weight/bias/threshold ROM images in the order spikeflow_neuron reads them."""
    k, c, kk = layer.out_channels, layer.in_shape[0], layer.kernel
    # window element e = (i*kk + j)*C + c  (window position major, channel minor)
    w = np.asarray(layer.weights).transpose(0, 2, 3, 1).reshape(k, kk * kk * c)
    n = w.shape[1]
    nf, sf = k // f.pe, n // f.simd
    # offset binary: field = W + 2^(b-1) (unsigned), which the neuron unit decodes with one subtraction
    wu = _to_unsigned(w, layer.weight_bits) ^ (1 << (layer.weight_bits - 1))
    # word nf*SF + sf holds W[nf*PE+pe][sf*SIMD+s] at field pe*SIMD+s
    words = wu.reshape(nf, f.pe, sf, f.simd).transpose(0, 2, 1, 3).reshape(nf * sf, f.pe * f.simd)
    paths = {"weights": out_dir / f"{layer.name}_weights.mem", "bias": out_dir / f"{layer.name}_bias.mem"}
    _write_mem(paths["weights"], _pack_words(words, layer.weight_bits),
               f"{layer.name}: weights, {nf * sf} words of PE={f.pe} x SIMD={f.simd} x {layer.weight_bits} bits "
               f"(offset binary: W + {1 << (layer.weight_bits - 1)})")
    bias = _to_unsigned(layer.bias, layer.acc_bits).reshape(nf, f.pe)
    _write_mem(paths["bias"], _pack_words(bias, layer.acc_bits),
               f"{layer.name}: bias, {nf} words of PE={f.pe} x {layer.acc_bits} bits")
    if isinstance(layer, FewdIFConv):
        t = layer.thresholds.shape[1]
        thr = _to_unsigned(layer.thresholds, layer.acc_bits).reshape(nf, f.pe * t)
        paths["thresholds"] = out_dir / f"{layer.name}_thresholds.mem"
        _write_mem(paths["thresholds"], _pack_words(thr, layer.acc_bits),
                   f"{layer.name}: thresholds, {nf} words of PE={f.pe} x T={t} x {layer.acc_bits} bits")
    if isinstance(layer, FewdIFConv) and layer.has_residual:
        shifts = np.asarray(layer.residual_shift, dtype=np.int64).reshape(nf, f.pe)
        paths["res_shift"] = out_dir / f"{layer.name}_res_shift.mem"
        _write_mem(paths["res_shift"], _pack_words(shifts, RES_SHIFT_BITS),
                   f"{layer.name}: residual shifts, {nf} words of PE={f.pe} x {RES_SHIFT_BITS} bits")
    return paths


def _instances(insts: list[_Instance], fmt: StreamFormat) -> list[dict[str, Any]]:
    """Every module instance of the top with plain parameters (the stream adapters are in the template; with
    several heads the output adapters and head merges are among `insts`)."""
    adapter_in = {"module": "spikeflow_axis_input", "instance": "u_input", "layer": "input", "parameters": {
        "CHANNELS": fmt.channels, "PIXEL_BITS": fmt.pixel_bits, "PIXELS_PER_BEAT": fmt.pixels_per_beat,
        "FRAME_PIXELS": fmt.height * fmt.width, "STATUS_WIDTH": fmt.status_width}}
    adapter_out = {"module": "spikeflow_axis_output", "instance": "u_output", "layer": "output", "parameters": {
        "CHANNELS": fmt.out_channels, "VALUE_BITS": fmt.value_bits,
        "FRAME_PIXELS": fmt.out_height * fmt.out_width_px, "OUT_WIDTH": fmt.out_width}}
    if fmt.heads:
        return [adapter_in, *(i.as_dict() for i in insts)]
    return [adapter_in, *(i.as_dict() for i in insts), adapter_out]


@dataclass
class _Stream:
    name: str
    width: int
    last: bool = False  # carries a tlast (a head's values, between the output adapters and the head merge)


@dataclass
class _Instance:
    module: str
    name: str
    params: list[tuple[str, str]]
    connections: list[tuple[str, str]]  # (port, signal expression), after clk and rst
    comment: str
    layer: str = ""
    unused_wires: list[str] = field(default_factory=list)  # 1-bit wires that only collect an unused output

    def as_dict(self) -> dict[str, Any]:
        """The instance for tools that read the generated folder (instances.json): parameters as plain values,
        ROM images by file name."""
        plain: dict[str, Any] = {}
        for key, value in self.params:
            if value.lstrip("-").isdigit():
                plain[key] = int(value)
            else:
                quoted = re.findall(r'"([^"]*)"', value)
                plain[key] = quoted[-1] if quoted else value
        return {"module": self.module, "instance": self.name, "layer": self.layer, "parameters": plain}


def _axis(port: str, streams: list[str]) -> list[tuple[str, str]]:
    """The tdata/tvalid/tready connections of `port` to one stream, or to several packed (stream 0 lowest)."""
    def signal(kind: str) -> str:
        names = [f"{st}_{kind}" for st in streams]
        return names[0] if len(names) == 1 else "{" + ", ".join(reversed(names)) + "}"
    return [(f"{port}_{kind}", signal(kind)) for kind in ("tdata", "tvalid", "tready")]


def _mem_param(path: Path) -> str:
    """A ROM image parameter relative to the generated folder (see RtlBuild.mem_dir_define)."""
    return f'{{`{MEM_DIR_MACRO}, "{path.name}"}}'


def _build_view(net: FewdIFNetwork, fold: Folding, mem_dir: Path, fmt: StreamFormat,
                source: str) -> dict[str, Any]:
    """The top's streams and instances. Every tensor of the IR's DAG is one stream (a layer's output after its
    FIFO); a tensor read by several layers goes through a spikeflow_broadcast, each branch with a FIFO as deep as
    the skew between the branches (spikeflow.hw.skew); a residual conv reads its shortcut on the neuron unit's
    r_axis input, a concat joins its inputs' streams, an upsampler repeats its input's positions."""
    act = net.act_bits
    streams: list[_Stream] = [_Stream("in_pix", fmt.pixel_bits * fmt.channels)]
    widths = {NETWORK_INPUT: fmt.pixel_bits * fmt.channels}
    carrier = {NETWORK_INPUT: "in_pix"}  # tensor -> the stream that carries it
    insts: list[_Instance] = []
    fork_branches = forks(net)
    depths = branch_fifo_depths(net)
    branch_streams: dict[str, list[str]] = {}

    def new_stream(name: str, width: int) -> str:
        streams.append(_Stream(name, width))
        return name

    def add(module: str, name: str, params: dict[str, Any], inputs: list[tuple[str, list[str]]], width: int,
            comment: str, layer: str, unused: list[str] | None = None,
            extra: list[tuple[str, str]] | None = None) -> str:
        out = new_stream(f"{name}_out", width)
        connections = [c for port, sts in inputs for c in _axis(port, sts)] + _axis("m_axis", [out]) + (extra or [])
        insts.append(_Instance(module, f"u_{name}", [(k, str(v)) for k, v in params.items()], connections, comment,
                               layer, unused or []))
        return out

    def fifo(name: str, src: str, width: int, depth: int, comment: str, layer: str) -> str:
        return add("spikeflow_axis_fifo", name, {"DATA_WIDTH": width, "DEPTH": depth}, [("s_axis", [src])], width,
                   comment, layer)

    def take(tensor: str, reader: str, index: int) -> str:
        """The stream `reader` reads `tensor` from as its input `index` (a branch of a fork when it is forked)."""
        if tensor not in fork_branches:
            return carrier[tensor]
        branches = fork_branches[tensor]
        if tensor not in branch_streams:
            width = widths[tensor]
            outs = [f"{tensor}_br{i}" for i in range(len(branches))]
            for o in outs:
                new_stream(o, width)
            insts.append(_Instance("spikeflow_broadcast", f"u_{tensor}_fork", [("WIDTH", str(width)),
                                   ("N", str(len(branches)))], _axis("s_axis", [carrier[tensor]]) +
                                   _axis("m_axis", outs), f"{tensor}: fork to {len(branches)} readers",
                                   tensor))
            branch_streams[tensor] = [
                fifo(f"{tensor}_br{i}_fifo", o, width, depths[b], f"{tensor} -> {b.layer}: branch FIFO "
                     f"(skew {depths[b]})", tensor) for i, (o, b) in enumerate(zip(outs, branches, strict=True))]
        i = next(k for k, b in enumerate(branches) if b.layer == reader and b.index == index)
        return branch_streams[tensor][i]

    head_streams: dict[str, str] = {}
    for layer, inputs in net.layer_inputs():
        if isinstance(layer, FewdIFMaxPool):
            oc, _, ow = layer.out_shape
            lc, lh, lw = layer.in_shape
            out = add("spikeflow_maxpool", layer.name, {"CHANNELS": lc, "BITS": act, "IN_H": lh, "IN_W": lw,
                                                       "KERNEL": layer.kernel, "STRIDE": layer.stride},
                      [("s_axis", [take(inputs[0], layer.name, 0)])], oc * act,
                      f"{layer.name}: max-pool {layer.kernel}x{layer.kernel}/{layer.stride}", layer.name)
            carrier[layer.name] = fifo(f"{layer.name}_fifo", out, oc * act, fifo_depth(ow),
                                       f"{layer.name}: output FIFO", layer.name)
        elif isinstance(layer, FewdIFConcat):
            sts = [take(name, layer.name, i) for i, name in enumerate(inputs)]
            total = sum(widths[name] for name in inputs)
            carrier[layer.name] = add("spikeflow_concat", layer.name, {"N": len(inputs), "TOTAL_WIDTH": total},
                                      [("s_axis", sts)], total,
                                      f"{layer.name}: channel concat of {', '.join(inputs)}", layer.name)
        elif isinstance(layer, FewdIFUpsample):
            lc, lh, lw = layer.in_shape
            carrier[layer.name] = add("spikeflow_upsample", layer.name,
                                      {"PIX_W": lc * act, "IN_H": lh, "IN_W": lw, "FACTOR": layer.factor},
                                      [("s_axis", [take(inputs[0], layer.name, 0)])], lc * act,
                                      f"{layer.name}: nearest upsampling x{layer.factor}", layer.name)
        else:
            head_streams[layer.name] = _conv_instances(layer, inputs, fold[layer.name], fmt, act, mem_dir, add, fifo,
                                                       take, carrier)
        widths[layer.name] = streams[-1].width
    heads = net.heads
    if len(heads) > 1:
        streams += _merge_heads(net, fmt, [head_streams[h.name] for h in heads], insts)
    shapes = " + ".join("x".join(map(str, shape)) for shape in fmt.head_shapes)
    return {
        "source": source,
        "mem_dir_macro": MEM_DIR_MACRO,
        "name": net.name,
        "stream": fmt,
        "head_stream": head_streams[heads[0].name] if len(heads) == 1 else "",
        "out_shapes": shapes if len(heads) == 1 else f"{shapes} ({', '.join(h.name for h in heads)})",
        "streams": streams, "instances": insts,
    }


def _merge_heads(net: FewdIFNetwork, fmt: StreamFormat, head_streams: list[str],
                 insts: list[_Instance]) -> list[_Stream]:
    """Several heads: one spikeflow_axis_output per head (values as wide as the widest head's), merged into the one
    output stream by a chain of spikeflow_head_merge, head 0 first (spikeflow_runtime.stream), each head in a FIFO of
    one frame (head 0 in the first merge's); the last merge drives m_axis. Returns the streams it adds."""
    bits = fmt.value_bits
    depths = head_merge_depths(net)
    streams: list[_Stream] = []
    values: list[str] = []
    for i, (head, src) in enumerate(zip(net.heads, head_streams, strict=True)):
        k, gh, gw = head.out_shape
        out = f"output{i}"
        streams.append(_Stream(out, bits, last=True))
        values.append(out)
        insts.append(_Instance("spikeflow_axis_output", f"u_output{i}", [
            ("CHANNELS", str(k)), ("VALUE_BITS", str(head.acc_bits)), ("FRAME_PIXELS", str(gh * gw)),
            ("OUT_WIDTH", str(bits))],
            _axis("s_axis", [src]) + _axis("m_axis", [out]) + [("m_axis_tlast", f"{out}_tlast")],
            f"{head.name}: {k}x{gh}x{gw} values, head {i} of the output stream", head.name))
    merged = values[0]
    for i, head in enumerate(net.heads[1:], start=1):
        last = i == len(net.heads) - 1
        out = "m_axis" if last else f"merged{i}"  # the last merge drives the top's port
        if not last:
            streams.append(_Stream(out, bits, last=True))
        ports = [(f"m_axis_{kind}", f"{out}_{kind}") for kind in ("tdata", "tvalid", "tready", "tlast")]
        # the first merge buffers head 0 too (its input 0), so the trunk runs on while the later heads drain
        depth0 = depths[net.heads[0].name] if i == 1 else 0
        first = f"{net.heads[0].name} from a FIFO of one frame ({depth0} values)" if i == 1 else f"heads 0..{i - 1}"
        insts.append(_Instance("spikeflow_head_merge", f"u_merge{i}", [
            ("DATA_WIDTH", str(bits)), ("OUT_WIDTH", str(fmt.out_width if last else bits)),
            ("DEPTH", str(depths[head.name])), ("DEPTH0", str(depth0))],
            _axis("s_axis", [merged, values[i]]) + [("s_axis_tlast", f"{{{values[i]}_tlast, {merged}_tlast}}")]
            + ports, f"{first}, then {head.name} from a FIFO of one frame ({depths[head.name]} values)",
            head.name))
        merged = out
    return streams


def _conv_instances(layer: FewdIFConv | FewdIFHead, inputs: tuple[str, ...], f: LayerFolding, fmt: StreamFormat,
                    act: int, mem_dir: Path, add: Any, fifo: Any, take: Any, carrier: dict[str, str]) -> str:
    """A conv or head layer: its window generator, its neuron unit (with the shortcut of a residual conv) and,
    for a conv, its output FIFO. Returns the stream of the layer's output."""
    lc, lh, lw = layer.in_shape
    kk = layer.kernel
    n = lc * kk * kk
    in_bits = fmt.pixel_bits if layer.in_kind == "pixels" else act
    win = add("spikeflow_window", f"{layer.name}_win",
              {"PIX_W": lc * in_bits, "IN_H": lh, "IN_W": lw, "KERNEL": kk, "STRIDE": layer.stride,
               "PADDING": layer.padding, "OUT_REG": int(window_out_reg(layer))},
              [("s_axis", [take(inputs[0], layer.name, 0)])], n * in_bits,
              f"{layer.name}: {kk}x{kk} windows, stride {layer.stride}, padding {layer.padding}", layer.name)
    use_dsp = (layer.in_kind == "pixels" and f.time_parallel
               and (n // f.simd) * (layer.out_channels // f.pe) >= DSP_MIN_WEIGHT_WORDS)
    common = {"N_IN": n, "IN_BITS": in_bits, "IN_KIND": 0 if layer.in_kind == "pixels" else 1,
              "IN_MAX": layer.in_max, "OUT_CH": layer.out_channels, "PE": f.pe, "SIMD": f.simd,
              "TIME_PARALLEL": int(f.time_parallel), "WEIGHT_BITS": layer.weight_bits,
              "ACC_BITS": layer.acc_bits, "USE_DSP": int(use_dsp)}
    mems = _layer_mems(layer, f, mem_dir)
    desc = (f"{layer.name}: PE={f.pe} SIMD={f.simd} TIME_PARALLEL={int(f.time_parallel)}, "
            f"{cycles_per_window(layer, f)} cycles per window")
    oc, _, ow = layer.out_shape
    if isinstance(layer, FewdIFHead):
        params = dict(common, WEIGHT_FILE=_mem_param(mems["weights"]), BIAS_FILE=_mem_param(mems["bias"]))
        return add("spikeflow_head", layer.name, params, [("s_axis", [win])], oc * layer.acc_bits, desc, layer.name)
    params = dict(common, FIRE=1, THRESHOLDS=layer.thresholds.shape[1], OUT_BITS=act,
                  WEIGHT_FILE=_mem_param(mems["weights"]), BIAS_FILE=_mem_param(mems["bias"]),
                  THRESH_FILE=_mem_param(mems["thresholds"]))
    if layer.has_residual:
        params.update(RESIDUAL=1, RES_BITS=act, RES_SHIFT_FILE=_mem_param(mems["res_shift"]))
        out = add("spikeflow_neuron", layer.name, params,
                  [("s_axis", [win]), ("r_axis", [take(inputs[1], layer.name, 1)])], oc * act, desc, layer.name)
    else:
        ready = f"u_{layer.name}_r_tready"  # no shortcut: the input tied off, its ready unused
        out = add("spikeflow_neuron", layer.name, params, [("s_axis", [win])], oc * act, desc, layer.name,
                  unused=[ready], extra=[("r_axis_tdata", f"{oc * NEURON_RES_BITS}'d0"), ("r_axis_tvalid", "1'b0"),
                                         ("r_axis_tready", ready)])
    carrier[layer.name] = fifo(f"{layer.name}_fifo", out, oc * act, fifo_depth(ow), f"{layer.name}: output FIFO",
                               layer.name)
    return carrier[layer.name]


def generate_rtl(net: FewdIFNetwork, out_dir: str | Path, folding: Folding | Mapping[str, Any] | None = None,
                 pixels_per_beat: int | None = None, source: str | None = None) -> RtlBuild:
    """Write `spikeflow_top.v`, ROM images and `filelist.f` for `net` into out_dir (e.g. build/<name>/rtl).

    The folder is relocatable: `filelist.f` lists paths relative to it (use `verilator -F`), and the top
    names its ROM images relative to it (macro `SPIKEFLOW_MEM_DIR`, default "./").

    folding is a Folding (spikeflow.hw.folding, as read from folding.json), or a map from conv/head layer names to
    LayerFolding (or dicts with pe, simd, time_parallel); layers not named get default_folding's choice.
    pixels_per_beat, when given, overrides the folding's. The library modules are copied next to the top so the
    folder is self-contained.
    """
    net.validate()
    fold = resolve_folding(net, folding)
    if pixels_per_beat is not None:
        fold = resolve_folding(net, Folding(fold.layers, pixels_per_beat))
    fmt = stream_format(net, fold.pixels_per_beat)
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    view = _build_view(net, fold, out_dir, fmt, source or f"network {net.name!r}")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    top = out_dir / f"{TOP}.v"
    _write_if_changed(top, env.get_template(f"{TOP}.v.j2").render(**view))
    _write_if_changed(out_dir / "instances.json", json.dumps(_instances(view["instances"], fmt), indent=1) + "\n")
    lib_dir = out_dir / "lib"
    lib_dir.mkdir(exist_ok=True)
    library = hardware_folder("rtl")
    sources = []
    for mod in LIB_MODULES + (HEADS_MODULES if fmt.heads else ()):
        dst = lib_dir / f"{mod}.v"
        _write_if_changed(dst, (library / f"{mod}.v").read_text())
        sources.append(dst)
    sources.append(top)
    filelist = out_dir / "filelist.f"
    _write_if_changed(filelist, "".join(f"{p.relative_to(out_dir).as_posix()}\n" for p in sources))
    _write_if_changed(out_dir / "folding.json", fold.to_json())  # the folding this RTL was made with
    return RtlBuild(name=net.name, out_dir=out_dir, top=TOP, sources=sources, filelist=filelist, stream=fmt,
                    folding=fold, estimated_cycles_per_frame=cycles_per_frame(estimate_cycles(net, fold)))



def load_rtl(out_dir: str | Path, net: FewdIFNetwork) -> RtlBuild:
    """The RtlBuild of a folder generate_rtl wrote (from its filelist.f and folding.json), for simulating it
    without generating it again."""
    from spikeflow.errors import StepError
    from spikeflow.hw.folding import load_folding

    out_dir = Path(out_dir).resolve()
    filelist = out_dir / "filelist.f"
    if not filelist.is_file() or not (out_dir / f"{TOP}.v").is_file():
        raise StepError(f"{out_dir} holds no generated RTL (filelist.f, {TOP}.v): the rtl step writes it")
    fold = resolve_folding(net, load_folding(out_dir / "folding.json"), where=str(out_dir / "folding.json"))
    sources = [out_dir / line.strip() for line in filelist.read_text().splitlines() if line.strip()]
    return RtlBuild(name=net.name, out_dir=out_dir, top=TOP, sources=sources, filelist=filelist,
                    stream=stream_format(net, fold.pixels_per_beat), folding=fold,
                    estimated_cycles_per_frame=cycles_per_frame(estimate_cycles(net, fold)))
