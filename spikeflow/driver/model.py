"""What the host needs to know of a build to drive its accelerator, read from the build folder only (ir/,
rtl/folding.json, build.yaml): the runtime's DeployedModel (stream format, decode parameters, clock, expected
cycles), plus the IR for the simulated devices (golden, rtlsim)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from spikeflow_runtime.decode import HeadParams
from spikeflow_runtime.model import DeployedModel

from spikeflow.errors import StepError
from spikeflow.flow.builddir import BuildDir
from spikeflow.hw.cycles import cycles_per_frame, estimate_cycles, limits_from_estimate
from spikeflow.hw.folding import load_folding, resolve_folding
from spikeflow.hw.stream import stream_format
from spikeflow.ir import FewdIFNetwork, load_network


@dataclass(frozen=True)
class DriverModel:
    """A build as the driver sees it: the runtime's model of it, the build folder and its IR."""

    build: BuildDir
    net: FewdIFNetwork
    deployed: DeployedModel

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
        if len(anchors) * (5 + len(names)) != k or h != w or gh != gw:
            raise StepError(f"{build.ir_json}: head of {k} channels on a {gh}x{gw} grid does not match "
                            f"{len(anchors)} anchors x (5 + {len(names)} classes) on a square input")
        head = HeadParams(num_classes=len(names), anchors=tuple(anchors), input_size=h, grid=gh,
                          out_scale=tuple(float(s) for s in net.head.out_scale), names=tuple(names))
        estimated = cycles_per_frame(estimate_cycles(net, folding))
        deployed = DeployedModel(name=net.name, stream=stream_format(net, folding.pixels_per_beat), head=head,
                                 clock_mhz=_clock_mhz(build), estimated_cycles_per_frame=estimated,
                                 limit_cycles_per_frame=limits_from_estimate(estimated, 1).per_frame)
        return cls(build=build, net=net, deployed=deployed)


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
