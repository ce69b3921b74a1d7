"""The registry of build steps, like FINN's builder: each step is a function `step(build, cfg)` that reads and
writes only files in the build folder. Back ends plug in by adding their steps here (module and function by name,
so that importing the registry imports no step's dependencies).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spikeflow.flow.builddir import BuildDir
    from spikeflow.flow.config import BuildConfig

StepFunction = Callable[["BuildDir", "BuildConfig"], None]


@dataclass(frozen=True)
class Input:
    """A file a step reads: the BuildDir attribute that names it, and the step that makes it."""

    attr: str
    made_by: str


@dataclass(frozen=True)
class Step:
    name: str
    module: str
    function: str
    summary: str
    inputs: tuple[Input, ...] = ()

    def load(self) -> StepFunction:
        return getattr(importlib.import_module(self.module), self.function)


_FRONTEND = "spikeflow.flow.steps.frontend"
_HARDWARE = "spikeflow.flow.steps.hardware"
_RTL = "spikeflow.backends.rtl.steps"
IR = Input("ir_json", "convert")
FRAMES = Input("frames", "frames")

STEPS: tuple[Step, ...] = (
    Step("train", _FRONTEND, "step_train", "quantization-aware training of the model config (model: train)"),
    Step("evaluate", _FRONTEND, "step_evaluate", "mAP of the checkpoint on its validation set, predictions picture"),
    Step("export", _FRONTEND, "step_export", "QONNX export checked against Brevitas (or import of a QONNX model)"),
    Step("frames", "spikeflow.flow.frames", "step_frames", "the verification frames and labels, once",
         (Input("model_info", "export"),)),
    Step("convert", "spikeflow.flow.steps.convert", "step_convert", "QONNX to the FewdIF IR",
         (Input("onnx", "export"),)),
    Step("verify", "spikeflow.flow.steps.verify", "step_verify", "golden model (count, spike) against QONNX",
         (IR, FRAMES, Input("onnx", "export"))),
    Step("fold", _HARDWARE, "step_fold", "folding.json: the folding every back end builds", (IR,)),
    Step("rtl", _RTL, "step_rtl", "generate the RTL from the IR and folding.json (the fold step's, run if missing)",
         (IR,)),
    Step("pnr", "spikeflow.backends.pnr.steps", "step_pnr", "ECP5 boards (ulx3s-85f): the self-test wrapper and the "
         "RTL through Yosys synth_ecp5, nextpnr-ecp5 at the build's clock and ecppack: the .bit, routed Fmax, "
         "resources, FPS at Fmax", (IR, Input("rtl", "rtl"))),
    Step("equiv", _RTL, "step_equiv", "formal equivalence of the neuron units' lane sums, window slices and spike "
         "counts: the logic that synthesis maps and the word arithmetic the fast harness simulates (Yosys, an "
         "algebraic check, ABC, SAT and induction, cached)",
         (Input("rtl", "rtl"),)),
    Step("estimate", _RTL, "step_estimate", "resources from Yosys, per instance out of context (cached)",
         (IR, Input("rtl", "rtl"))),
    Step("rtlsim", _RTL, "step_rtlsim", "fast Verilator harness against the golden model, cycles per frame",
         (IR, FRAMES, Input("rtl", "rtl"))),
    Step("cocotb", _RTL, "step_cocotb", "cocotb testbench with random idle and back-pressure against the golden model",
         (IR, FRAMES, Input("rtl", "rtl"))),
    Step("hls", "spikeflow.backends.hls.steps", "step_hls", "generate the HLS C++, g++ C-simulation against the golden "
         "model, Vitis HLS synthesis and IP export when vitis_hls is on PATH", (IR, FRAMES)),
    Step("hls4ml", "spikeflow.backends.hls.steps", "step_hls4ml", "peer check: the QONNX model through hls4ml's "
         "bit-accurate C model against the golden model", (IR, FRAMES, Input("onnx", "export"))),
    Step("bitstream", "spikeflow.backends.bitstream.steps", "step_bitstream", "Vivado (Zynq) or v++ (Alveo) "
         "bitstream of the RTL for the board; without the tool, the scripts it would run", (IR, Input("rtl", "rtl"))),
    Step("drive", "spikeflow.driver.step", "step_drive", "the host driver: validation frames streamed through the "
         "rtlsim back end against the golden back end, annotated frames, FPS", (IR, FRAMES, Input("rtl", "rtl"))),
    Step("deploy", "spikeflow.driver.deploy", "step_deploy", "deploy/: the numpy-only runtime, model.json, run.py and "
         "a README to copy to the board, and a replay recording of the build's frames", (IR,)),
    Step("report", _HARDWARE, "step_report", "summary of the build's reports", (IR,)),
)
_BY_NAME = {s.name: s for s in STEPS}

_DEFAULT: dict[str, tuple[str, ...]] = {
    "train": ("train", "evaluate", "export", "frames", "convert", "verify", "fold", "rtl", "equiv", "rtlsim", "report"),
    "checkpoint": ("export", "frames", "convert", "verify", "fold", "rtl", "equiv", "rtlsim", "report"),
    "qonnx": ("export", "frames", "convert", "verify", "fold", "rtl", "equiv", "rtlsim", "report"),
}


def step_names() -> tuple[str, ...]:
    return tuple(_BY_NAME)


def default_steps(source_kind: str) -> tuple[str, ...]:
    return _DEFAULT[source_kind]


def get_step(name: str) -> Step:
    from spikeflow.errors import ConfigError

    if name not in _BY_NAME:
        raise ConfigError(f"unknown step {name!r} (steps: {', '.join(_BY_NAME)})")
    return _BY_NAME[name]
