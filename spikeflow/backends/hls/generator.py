"""Generate the Vitis HLS C++ of a FewdIF network: a top function, its layer configs, constant arrays, a C++
testbench and the Vitis HLS script, from Jinja2 templates over the header library in `hls/`.

The generated code is only config structs and one library call per layer; the library holds the logic.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

from spikeflow.hw.boards import DEFAULT_BOARD, Board
from spikeflow.hw.folding import Folding, passes, resolve_folding
from spikeflow.hw.sources import hardware_folder
from spikeflow.hw.stream import StreamFormat, stream_format
from spikeflow.ir import FewdIFConv, FewdIFHead, FewdIFMaxPool, FewdIFNetwork

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
TOP = "spikeflow_top"
LIBRARY_HEADERS = ("common.h", "axis.h", "window.h", "neuron.h", "conv.h", "maxpool.h", "head.h")
CSIM_STAND_INS = ("ap_axi_sdata.h",)  # headers Vitis HLS ships and the hls4ml wheel does not (g++ C-sim only)
GENERATED = {  # template -> file written into the build's hls/ folder
    "spikeflow_top.h.j2": "spikeflow_top.h",
    "spikeflow_params.h.j2": "spikeflow_params.h",
    "spikeflow_top.cpp.j2": "spikeflow_top.cpp",
    "spikeflow_tb.cpp.j2": "spikeflow_tb.cpp",
    "run_hls.tcl.j2": "run_hls.tcl",
}
MAX_FIFO_DEPTH = 1024
COSIM_FRAMES = 2  # frames the Vitis HLS script co-simulates (RTL simulation of the whole network is slow)


@dataclass(frozen=True)
class HlsTarget:
    """What Vitis HLS synthesises for: the part and the clock."""

    part: str
    clock_mhz: float

    @classmethod
    def of(cls, board: Board, clock_mhz: float | None = None) -> HlsTarget:
        return cls(board.spec.part, clock_mhz if clock_mhz is not None else board.spec.clock_mhz)

    @property
    def period_ns(self) -> float:
        return 1000.0 / self.clock_mhz


@dataclass
class HlsBuild:
    """What generate_hls wrote: the folder, the C++ sources, the testbench and the Vitis HLS script."""

    name: str
    out_dir: Path
    top: str
    sources: list[Path]
    testbench: Path
    script: Path
    include_dirs: list[Path]
    csim_include_dirs: list[Path]
    stream: StreamFormat
    folding: Folding
    target: HlsTarget

    @property
    def frames_file(self) -> Path:
        """The input stream payload the Vitis HLS script's csim and cosim read (written by the hls step)."""
        return self.out_dir / "frames.bin"


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
class _View:
    source: str
    name: str
    top: str
    stream: StreamFormat
    target: HlsTarget
    configs: list[_Config] = field(default_factory=list)
    streams: list[_Stream] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    arrays: list[_Array] = field(default_factory=list)
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


def _build_view(net: FewdIFNetwork, fold: Folding, fmt: StreamFormat, target: HlsTarget, source: str) -> _View:
    view = _View(source=source, name=net.name, top=TOP, stream=fmt, target=target)
    view.configs.append(_Config("input_config", "s_axis: beats to pixels (spikeflow/hw/stream.py)", [
        _Field("channels", str(fmt.channels), ""), _Field("pixel_bits", str(fmt.pixel_bits), ""),
        _Field("pixels_per_beat", str(fmt.pixels_per_beat), ""),
        _Field("beats_per_frame", str(fmt.beats_per_frame), ""),
        _Field("in_width", str(fmt.in_width), "s_axis TDATA bits")]))
    current = _Stream("in_pixels", _pixel_type(fmt.pixel_bits, fmt.channels), _fifo_depth(fmt.width))
    view.streams.append(current)
    view.calls.append(f"spikeflow::axis_input<input_config>(s_axis, {current.name});")
    in_bits = fmt.pixel_bits
    for layer in net.layers:
        name = c_name(layer.name)
        if isinstance(layer, FewdIFMaxPool):
            c, h, w = layer.in_shape
            _, oh, ow = layer.out_shape
            cfg = f"{name}_config"
            view.configs.append(_Config(cfg, f"{layer.name}: max-pool {layer.kernel}x{layer.kernel}/{layer.stride}", [
                _Field("channels", str(c), ""), _Field("in_height", str(h), ""), _Field("in_width", str(w), ""),
                _Field("kernel", str(layer.kernel), ""), _Field("stride", str(layer.stride), ""),
                _Field("out_height", str(oh), ""), _Field("out_width", str(ow), ""),
                _Field("bits", str(net.act_bits), "bits of a spike count")]))
            out = _Stream(f"{name}_out", _pixel_type(net.act_bits, c), _fifo_depth(ow))
            view.streams.append(out)
            view.calls.append(f"spikeflow::fewdif_maxpool<{cfg}>({current.name}, {out.name});")
            current = out
            continue
        f = fold[layer.name]
        cfg = f"{name}_config"
        fields = _neuron_fields(layer, fold, in_bits)
        k, oh, ow = layer.out_shape
        window = _Stream(f"{name}_windows", _pixel_type(in_bits, layer.in_shape[0] * layer.kernel ** 2), 2)
        view.streams.append(window)
        view.calls.append(f"spikeflow::conv_window<{cfg}>({current.name}, {window.name});")
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
            view.calls.append(f"spikeflow::fewdif_conv<{cfg}>({window.name}, {out.name}, {name}_weights, "
                              f"{name}_bias, {name}_thresholds);")
            in_bits = net.act_bits
            what = "FewdIF conv"
        else:
            out = _Stream(f"{name}_out", _pixel_type(layer.acc_bits, k, signed=True), 2)
            view.calls.append(f"spikeflow::fewdif_head<{cfg}>({window.name}, {out.name}, {name}_weights, "
                              f"{name}_bias);")
            what = "head"
        view.configs.append(_Config(cfg, f"{layer.name}: {what} {layer.kernel}x{layer.kernel}/{layer.stride}, "
                                         f"PE={f.pe} SIMD={f.simd}", fields))
        view.streams.append(out)
        current = out
    view.configs.append(_Config("output_config", "m_axis: head values to beats (spikeflow/hw/stream.py)", [
        _Field("channels", str(fmt.out_channels), ""),
        _Field("positions", str(fmt.out_height * fmt.out_width_px), ""),
        _Field("value_bits", str(fmt.value_bits), "the head's acc_bits"),
        _Field("out_width", str(fmt.out_width), "m_axis TDATA bits")]))
    view.calls.append(f"spikeflow::axis_output<output_config>({current.name}, m_axis);")
    return view


def _write_if_changed(path: Path, text: str) -> None:
    """Write unless unchanged, so that the cached C-simulation build of an unchanged design stays valid."""
    if path.is_file() and path.read_text() == text:
        return
    path.write_text(text)


def generate_hls(net: FewdIFNetwork, out_dir: str | Path, folding: Folding | Mapping[str, Any] | None = None,
                 target: HlsTarget | None = None, source: str | None = None) -> HlsBuild:
    """Write the HLS sources of `net` into out_dir (e.g. build/<name>/hls), with the header library copied to
    `include/` so that the folder is self-contained for Vitis HLS.

    folding as for the RTL (folding.json's Folding, or a map of layer name to pe/simd/time_parallel); target
    defaults to the default board's part and clock.
    """
    net.require_chain("the HLS back end")
    net.validate()
    fold = resolve_folding(net, folding)
    fmt = stream_format(net, fold.pixels_per_beat)
    target = target or HlsTarget.of(DEFAULT_BOARD)
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    view = _build_view(net, fold, fmt, target, source or f"network {net.name!r}")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    for template, name in GENERATED.items():
        _write_if_changed(out_dir / name, env.get_template(template).render(view=view))
    library = hardware_folder("hls")
    include = out_dir / "include"
    (include / "spikeflow").mkdir(parents=True, exist_ok=True)
    for header in LIBRARY_HEADERS:
        _write_if_changed(include / "spikeflow" / header, (library / "include" / "spikeflow" / header).read_text())
    csim = out_dir / "csim_include"
    csim.mkdir(exist_ok=True)
    for header in CSIM_STAND_INS:
        _write_if_changed(csim / header, (library / "csim" / header).read_text())
    _write_if_changed(out_dir / "folding.json", fold.to_json())
    return HlsBuild(name=net.name, out_dir=out_dir, top=TOP,
                    sources=[out_dir / "spikeflow_top.cpp", out_dir / "spikeflow_top.h",
                             out_dir / "spikeflow_params.h",
                             *[include / "spikeflow" / h for h in LIBRARY_HEADERS]],
                    testbench=out_dir / "spikeflow_tb.cpp", script=out_dir / "run_hls.tcl",
                    include_dirs=[include], csim_include_dirs=[csim], stream=fmt, folding=fold, target=target)
