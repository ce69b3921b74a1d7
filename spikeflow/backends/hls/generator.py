"""Generate the Vitis HLS C++ of a FewdIF network: a top function, its layer configs, constant arrays, a C++
testbench and the Vitis HLS script, from Jinja2 templates over the header library in `hls/`.

The generated code is only config structs and one library call per layer; the library holds the logic. What the
templates show is computed in view.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from spikeflow.backends.hls.view import TopView, build_view
from spikeflow.hw.boards import DEFAULT_BOARD, Board
from spikeflow.hw.folding import Folding, resolve_folding
from spikeflow.hw.sources import hardware_folder
from spikeflow.hw.stream import StreamFormat, stream_format
from spikeflow.ir import PIXEL_BITS, FewdIFNetwork

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
TOP = "spikeflow_top"
LIBRARY_HEADERS = ("common.h", "axis.h", "window.h", "neuron.h", "conv.h", "maxpool.h", "head.h", "fork.h",
                   "concat.h", "upsample.h")
CSIM_STAND_INS = ("ap_axi_sdata.h",)  # headers Vitis HLS ships and the hls4ml wheel does not (g++ C-sim only)
GENERATED = {  # template -> file written into the build's hls/ folder
    "spikeflow_top.h.j2": "spikeflow_top.h",
    "spikeflow_params.h.j2": "spikeflow_params.h",
    "spikeflow_top.cpp.j2": "spikeflow_top.cpp",
    "spikeflow_tb.cpp.j2": "spikeflow_tb.cpp",
    "run_hls.tcl.j2": "run_hls.tcl",
}


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
    """What generate_hls wrote: the folder, the C++ sources, the testbench and the Vitis HLS script. `stream` is
    the input's format and the first head's output; `heads` has every head's output format."""

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
    heads: list[StreamFormat] = field(default_factory=list)  # one output port per head, in net.heads order

    @property
    def frames_file(self) -> Path:
        """The input stream payload the Vitis HLS script's csim and cosim read (written by the hls step)."""
        return self.out_dir / "frames.bin"


def head_formats(net: FewdIFNetwork, pixels_per_beat: int) -> list[StreamFormat]:
    """The stream format of each head's output port (the input's fields are the same in all), in net.heads
    order. One head: stream_format's; spikeflow.hw.stream takes one head, so several heads' are built here."""
    if len(net.heads) == 1:
        return [stream_format(net, pixels_per_beat)]
    c, h, w = net.input_shape
    return [StreamFormat(c, h, w, pixels_per_beat, *head.out_shape, head.acc_bits, pixel_bits=PIXEL_BITS)
            for head in net.heads]


def _write_if_changed(path: Path, text: str) -> None:
    """Write unless unchanged, so that the cached C-simulation build of an unchanged design stays valid."""
    if path.is_file() and path.read_text() == text:
        return
    path.write_text(text)


def generate_hls(net: FewdIFNetwork, out_dir: str | Path, folding: Folding | Mapping[str, Any] | None = None,
                 target: HlsTarget | None = None, source: str | None = None) -> HlsBuild:
    """Write the HLS sources of `net` (a chain or a DAG: forks, residual adds, concats, upsampling, several heads)
    into out_dir (e.g. build/<name>/hls), with the header library copied to `include/` so that the folder is
    self-contained for Vitis HLS.

    folding as for the RTL (folding.json's Folding, or a map of layer name to pe/simd/time_parallel); target
    defaults to the default board's part and clock.
    """
    net.validate()
    fold = resolve_folding(net, folding)
    heads = head_formats(net, fold.pixels_per_beat)
    target = target or HlsTarget.of(DEFAULT_BOARD)
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    view = build_view(net, fold, heads, TopView(source=source or f"network {net.name!r}", name=net.name, top=TOP,
                                                stream=heads[0], target=target))
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
                    include_dirs=[include], csim_include_dirs=[csim], stream=heads[0], folding=fold, target=target,
                    heads=heads)
