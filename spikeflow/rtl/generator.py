"""Generate the streaming RTL of a FewdIF network: a top module from a Jinja2 template, ROM images, a file list.

The hand-written library in `rtl/` holds the building blocks; this module only computes parameters, lays
out weights/biases/thresholds in the word order the neuron unit reads them, and writes the top level.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

from spikeflow.errors import ConfigError
from spikeflow.ir import FewdIFConv, FewdIFHead, FewdIFMaxPool, FewdIFNetwork

LIB_DIR = Path(__file__).resolve().parents[2] / "rtl"
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
LIB_MODULES = ("spikeflow_rom", "spikeflow_axis_fifo", "spikeflow_axis_input", "spikeflow_window",
               "spikeflow_neuron", "spikeflow_head", "spikeflow_maxpool", "spikeflow_axis_output")
OUT_WIDTH = 32
TOP = "spikeflow_top"
MEM_DIR_MACRO = "SPIKEFLOW_MEM_DIR"


@dataclass(frozen=True)
class LayerFolding:
    """Per-layer parallelism: PE output channels and SIMD window elements per cycle, timesteps at once."""

    pe: int
    simd: int
    time_parallel: bool = True


@dataclass
class RtlBuild:
    """What generate_rtl wrote: the top module name, every source (library + generated) and the file list."""

    name: str
    out_dir: Path
    top: str
    sources: list[Path]
    filelist: Path
    input_shape: tuple[int, int, int]
    output_shape: tuple[int, int, int]
    pixels_per_beat: int
    folding: dict[str, LayerFolding] = field(default_factory=dict)
    cycles_per_window: dict[str, int] = field(default_factory=dict)

    def mem_dir_define(self) -> str:
        """Verilator argument that points the ROM images at out_dir, for simulating from another folder.

        The top reads its `.mem` images as `SPIKEFLOW_MEM_DIR` + bare file name, `SPIKEFLOW_MEM_DIR`
        defaulting to "./": simulate from out_dir, add the images to the Vivado project, or define it.
        """
        return f'-D{MEM_DIR_MACRO}="{self.out_dir.as_posix()}/"'


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def _window_elems(layer: FewdIFConv | FewdIFHead) -> int:
    return layer.in_shape[0] * layer.kernel * layer.kernel


def _planes(layer: FewdIFConv | FewdIFHead) -> int:
    return 8 if layer.in_kind == "pixels" else layer.in_max


def default_folding(net: FewdIFNetwork) -> dict[str, LayerFolding]:
    """Least parallelism that keeps every layer at the input pixel rate (one pixel per cycle).

    A layer with P output positions per frame may spend H*W/P cycles per window; PE is lowered first, then
    SIMD, with all timesteps in parallel.
    """
    _, h, w = net.input_shape
    out: dict[str, LayerFolding] = {}
    for layer in net.layers:
        if isinstance(layer, FewdIFMaxPool):
            continue
        _, oh, ow = layer.out_shape
        budget = max(1, (h * w) // (oh * ow))
        k, n = layer.out_channels, _window_elems(layer)
        pe = min(d for d in _divisors(k) if k // d <= budget)
        nf = k // pe
        simd = min(d for d in _divisors(n) if nf * (n // d) <= budget)
        out[layer.name] = LayerFolding(pe=pe, simd=simd, time_parallel=True)
    return out


def _resolve_folding(net: FewdIFNetwork, folding: Mapping[str, Any] | None) -> dict[str, LayerFolding]:
    resolved = default_folding(net)
    names = set(resolved)
    for name, value in (folding or {}).items():
        if name not in names:
            raise ConfigError(f"folding: network {net.name!r} has no conv/head layer {name!r} "
                              f"(layers: {', '.join(sorted(names))})")
        if isinstance(value, Mapping):
            value = LayerFolding(**value)
        resolved[name] = value
    for layer in net.layers:
        if isinstance(layer, FewdIFMaxPool):
            continue
        f = resolved[layer.name]
        n = _window_elems(layer)
        if f.pe < 1 or layer.out_channels % f.pe:
            raise ConfigError(f"folding of {layer.name}: pe={f.pe} does not divide {layer.out_channels} channels")
        if f.simd < 1 or n % f.simd:
            raise ConfigError(f"folding of {layer.name}: simd={f.simd} does not divide the {n}-element window")
    return resolved


def _to_unsigned(values: np.ndarray, bits: int) -> np.ndarray:
    values = np.asarray(values, dtype=np.int64)
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if values.size and (values.min() < lo or values.max() > hi):
        raise ConfigError(f"value out of the signed {bits}-bit range [{lo}, {hi}]")
    return values & ((1 << bits) - 1)


def _pack_words(fields_: np.ndarray, bits: int) -> list[str]:
    """fields_ [words, n] of unsigned ints (field 0 in the low bits) -> hex words."""
    digits = max(1, (fields_.shape[1] * bits + 3) // 4)
    words = []
    for row in fields_:
        value = 0
        for i, f in enumerate(row.tolist()):
            value |= int(f) << (i * bits)
        words.append(f"{value:0{digits}x}")
    return words


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
    return paths


def _fifo_depth(width: int) -> int:
    depth = 4
    while depth < 2 * width:
        depth *= 2
    return min(depth, 1024)


@dataclass
class _Stream:
    name: str
    width: int


@dataclass
class _Instance:
    module: str
    name: str
    params: list[tuple[str, str]]
    s: str
    m: str
    comment: str


def _mem_param(path: Path) -> str:
    """A ROM image parameter relative to the generated folder (see RtlBuild.mem_dir_define)."""
    return f'{{`{MEM_DIR_MACRO}, "{path.name}"}}'


def _build_view(net: FewdIFNetwork, fold: dict[str, LayerFolding], mem_dir: Path, ppb: int,
                source: str) -> dict[str, Any]:
    c, h, w = net.input_shape
    act = net.act_bits
    streams: list[_Stream] = [_Stream("in_pix", 8 * c)]
    insts: list[_Instance] = []
    cycles: dict[str, int] = {}
    pix_bits = 8

    def add(module: str, name: str, params: dict[str, Any], width: int, comment: str) -> None:
        out = _Stream(f"{name}_out", width)
        insts.append(_Instance(module, f"u_{name}", [(k, str(v)) for k, v in params.items()],
                               streams[-1].name, out.name, comment))
        streams.append(out)

    for layer in net.layers:
        lc, lh, lw = layer.in_shape
        if isinstance(layer, FewdIFMaxPool):
            oc, oh, ow = layer.out_shape
            add("spikeflow_maxpool", layer.name, {"CHANNELS": lc, "BITS": act, "IN_H": lh, "IN_W": lw,
                                                  "KERNEL": layer.kernel, "STRIDE": layer.stride},
                oc * act, f"{layer.name}: max-pool {layer.kernel}x{layer.kernel}/{layer.stride}")
            add("spikeflow_axis_fifo", f"{layer.name}_fifo",
                {"DATA_WIDTH": oc * act, "DEPTH": _fifo_depth(ow)}, oc * act, f"{layer.name}: output FIFO")
            continue
        f = fold[layer.name]
        kk = layer.kernel
        n = lc * kk * kk
        in_bits = 8 if layer.in_kind == "pixels" else pix_bits
        add("spikeflow_window", f"{layer.name}_win",
            {"PIX_W": lc * in_bits, "IN_H": lh, "IN_W": lw, "KERNEL": kk, "STRIDE": layer.stride,
             "PADDING": layer.padding}, n * in_bits,
            f"{layer.name}: {kk}x{kk} windows, stride {layer.stride}, padding {layer.padding}")
        common = {"N_IN": n, "IN_BITS": in_bits, "IN_KIND": 0 if layer.in_kind == "pixels" else 1,
                  "IN_MAX": layer.in_max, "OUT_CH": layer.out_channels, "PE": f.pe, "SIMD": f.simd,
                  "TIME_PARALLEL": int(f.time_parallel), "WEIGHT_BITS": layer.weight_bits,
                  "ACC_BITS": layer.acc_bits}
        mems = _layer_mems(layer, f, mem_dir)
        passes = 1 if f.time_parallel else _planes(layer)
        cycles[layer.name] = (layer.out_channels // f.pe) * (n // f.simd) * passes
        desc = (f"{layer.name}: PE={f.pe} SIMD={f.simd} TIME_PARALLEL={int(f.time_parallel)}, "
                f"{cycles[layer.name]} cycles per window")
        oc, oh, ow = layer.out_shape
        if isinstance(layer, FewdIFConv):
            params = dict(common, FIRE=1, THRESHOLDS=layer.thresholds.shape[1], OUT_BITS=act,
                          WEIGHT_FILE=_mem_param(mems["weights"]), BIAS_FILE=_mem_param(mems["bias"]),
                          THRESH_FILE=_mem_param(mems["thresholds"]))
            add("spikeflow_neuron", layer.name, params, oc * act, desc)
            add("spikeflow_axis_fifo", f"{layer.name}_fifo",
                {"DATA_WIDTH": oc * act, "DEPTH": _fifo_depth(ow)}, oc * act, f"{layer.name}: output FIFO")
            pix_bits = act
        else:
            params = dict(common, WEIGHT_FILE=_mem_param(mems["weights"]), BIAS_FILE=_mem_param(mems["bias"]))
            add("spikeflow_head", layer.name, params, oc * layer.acc_bits, desc)
    head = net.head
    gk, gh, gw = head.out_shape
    if head.acc_bits > OUT_WIDTH:
        raise ConfigError(f"head {head.name}: acc_bits {head.acc_bits} exceeds the {OUT_WIDTH}-bit output")
    return {
        "source": source,
        "mem_dir_macro": MEM_DIR_MACRO,
        "name": net.name,
        "channels": c, "height": h, "width": w, "pixels_per_beat": ppb,
        "out_channels": gk, "out_height": gh, "out_width_px": gw, "out_width": OUT_WIDTH,
        "head_bits": head.acc_bits, "head_stream": streams[-1].name,
        "streams": streams, "instances": insts, "cycles": cycles,
    }


def generate_rtl(net: FewdIFNetwork, out_dir: str | Path, folding: Mapping[str, Any] | None = None,
                 pixels_per_beat: int = 1, source: str | None = None) -> RtlBuild:
    """Write `spikeflow_top.v`, ROM images and `filelist.f` for `net` into out_dir (e.g. build/<name>/rtl).

    The folder is relocatable: `filelist.f` lists paths relative to it (use `verilator -F`), and the top
    names its ROM images relative to it (macro `SPIKEFLOW_MEM_DIR`, default "./").

    folding maps conv/head layer names to LayerFolding (or dicts with pe, simd, time_parallel); layers not
    named get default_folding's choice. The library modules are copied next to the top so the folder is
    self-contained.
    """
    net.validate()
    c, h, w = net.input_shape
    if pixels_per_beat < 1 or (h * w) % pixels_per_beat:
        raise ConfigError(f"pixels_per_beat={pixels_per_beat} must divide the {h * w} pixels of a frame")
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    fold = _resolve_folding(net, folding)
    view = _build_view(net, fold, out_dir, pixels_per_beat, source or f"network {net.name!r}")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    top = out_dir / f"{TOP}.v"
    _write_if_changed(top, env.get_template(f"{TOP}.v.j2").render(**view))
    lib_dir = out_dir / "lib"
    lib_dir.mkdir(exist_ok=True)
    sources = []
    for mod in LIB_MODULES:
        dst = lib_dir / f"{mod}.v"
        _write_if_changed(dst, (LIB_DIR / f"{mod}.v").read_text())
        sources.append(dst)
    sources.append(top)
    filelist = out_dir / "filelist.f"
    _write_if_changed(filelist, "".join(f"{p.relative_to(out_dir).as_posix()}\n" for p in sources))
    _write_if_changed(out_dir / "folding.txt", "".join(f"{k}: {asdict(v)}\n" for k, v in fold.items()))
    return RtlBuild(name=net.name, out_dir=out_dir, top=TOP, sources=sources, filelist=filelist,
                    input_shape=tuple(net.input_shape), output_shape=tuple(net.output_shape),
                    pixels_per_beat=pixels_per_beat, folding=fold, cycles_per_window=view["cycles"])
