"""The layout of a build folder build/<name>/: one place that names every file a step reads or writes.

    build.yaml        the build config as run (BuildConfig, paths absolute)
    train/            the train step's run folder (model.pt), when the model source is a model config
    model.onnx        the QONNX model (export step)
    model_info.json   what export knew of the model: class names, anchors, input size, dataset (ModelInfo)
    ir/               the FewdIF IR (convert step): network.json + network.npz
    frames.npz        the verification frames and their labels (frames step; format in spikeflow.flow.frames)
    folding.json      the folding every back end builds (fold step; format in spikeflow.hw.folding)
    rtl/              generated Verilog, ROM images, file list, compiled harness (rtl, rtlsim steps)
    hls/              generated Vitis HLS C++, testbench, script, compiled C-simulation (hls step)
    cocotb/           the cocotb network run (cocotb step)
    bitstream/BOARD/  Vivado and v++ scripts, file list, constraints, logs and outputs (bitstream step)
    deploy/BOARD/     what to copy to the board or host: bitstream, .hwh or .xclbin, IR metadata, driver config
    report/           JSON reports and charts (keys in REPORTS.md)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BuildDir:
    root: Path

    @classmethod
    def of(cls, path: str | Path) -> BuildDir:
        return cls(Path(path))

    @property
    def name(self) -> str:
        return self.root.resolve().name

    @property
    def config(self) -> Path:
        return self.root / "build.yaml"

    @property
    def train(self) -> Path:
        return self.root / "train"

    @property
    def checkpoint(self) -> Path:
        """The checkpoint the train step writes."""
        return self.train / "model.pt"

    @property
    def onnx(self) -> Path:
        return self.root / "model.onnx"

    @property
    def model_info(self) -> Path:
        return self.root / "model_info.json"

    @property
    def ir(self) -> Path:
        return self.root / "ir"

    @property
    def ir_json(self) -> Path:
        return self.ir / "network.json"

    @property
    def frames(self) -> Path:
        return self.root / "frames.npz"

    @property
    def folding(self) -> Path:
        return self.root / "folding.json"

    @property
    def rtl(self) -> Path:
        return self.root / "rtl"

    @property
    def bitstream(self) -> Path:
        """The bitstream step's work folders, one per board (bitstream/<board>/)."""
        return self.root / "bitstream"

    @property
    def deploy(self) -> Path:
        """What to copy to a board, one folder per board (deploy/<board>/), with its manifest."""
        return self.root / "deploy"

    @property
    def hls(self) -> Path:
        return self.root / "hls"

    @property
    def report(self) -> Path:
        return self.root / "report"

    def relative(self, path: Path) -> str:
        """`path` as shown to the user: relative to the build folder's parent when inside it."""
        try:
            return str(path.resolve().relative_to(self.root.resolve().parent))
        except ValueError:
            return str(path)
