"""What the host needs to know of a build to drive its accelerator: the IR, the stream format, the head's meaning
and the clock. Read from the build folder only (ir/, rtl/folding.json, build.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from spikeflow.detect.head import HeadSpec
from spikeflow.errors import StepError
from spikeflow.flow.builddir import BuildDir
from spikeflow.hw.cycles import CycleLimits, cycles_per_frame, estimate_cycles, limits_from_estimate
from spikeflow.hw.folding import load_folding, resolve_folding
from spikeflow.hw.stream import StreamFormat
from spikeflow.ir import FewdIFNetwork, load_network


@dataclass(frozen=True)
class DriverModel:
    """A build as the driver sees it."""

    build: BuildDir
    net: FewdIFNetwork
    stream: StreamFormat
    head: HeadSpec
    names: tuple[str, ...]
    clock_mhz: float
    estimated_cycles_per_frame: int

    @classmethod
    def of(cls, build_dir: str | Path) -> DriverModel:
        build = BuildDir(Path(build_dir))
        if not build.ir_json.is_file():
            raise StepError(f"{build.ir_json} is missing: '{build.root}' is not a build folder with an IR (run "
                            f"'make demo' or 'spikeflow build {build.root} --config BUILD.yaml' first)")
        net = load_network(build.ir)
        folding_file = build.rtl / "folding.json" if (build.rtl / "folding.json").is_file() else build.folding
        folding = resolve_folding(net, load_folding(folding_file) if folding_file.is_file() else None,
                                  where=str(folding_file))
        k, gh, gw = net.output_shape
        _, h, w = net.input_shape
        anchors = net.meta.anchors or _default_anchors(h)
        num_classes = k // len(anchors) - 5
        names = net.meta.names or tuple(f"class{i}" for i in range(num_classes))
        head = HeadSpec(num_classes=len(names), anchors=anchors, input_size=h, grid=gh)
        if head.channels != k or h != w or gh != gw:
            raise StepError(f"{build.ir_json}: head of {k} channels on a {gh}x{gw} grid does not match "
                            f"{len(anchors)} anchors x (5 + {len(names)} classes) on a square input")
        return cls(build=build, net=net, stream=StreamFormat.of(net, folding.pixels_per_beat), head=head,
                   names=tuple(names), clock_mhz=_clock_mhz(build),
                   estimated_cycles_per_frame=cycles_per_frame(estimate_cycles(net, folding)))

    @property
    def input_size(self) -> int:
        return self.stream.height

    def cycle_limits(self, frames: int) -> CycleLimits:
        """How many cycles `frames` back-to-back frames may take before the device is declared stuck."""
        return limits_from_estimate(self.estimated_cycles_per_frame, frames)


def _default_anchors(size: int) -> tuple[tuple[float, float], ...]:
    from spikeflow.detect.head import default_anchors

    return default_anchors(size)


def _clock_mhz(build: BuildDir) -> float:
    """The build's clock (build.yaml: clock_mhz, else the board's); the default board's without a build.yaml."""
    from spikeflow.hw.boards import DEFAULT_BOARD

    if build.config.is_file():
        from spikeflow.flow.config import load_build_config

        return float(load_build_config(build.config).clock)
    return float(DEFAULT_BOARD.spec.clock_mhz)
