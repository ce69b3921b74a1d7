"""What the host needs to know of a build to drive its accelerator, read from the build folder only (ir/,
rtl/folding.json, build.yaml): the runtime's DeployedModel (stream format, decode parameters, clock, expected
cycles), plus the IR for the simulated devices (golden, rtlsim)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from spikeflow_runtime.decode import HeadParams, anchors_per_head
from spikeflow_runtime.errors import ConfigError
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
        heads = _head_params(build, net)
        estimated = cycles_per_frame(estimate_cycles(net, folding))
        deployed = DeployedModel(name=net.name, stream=stream_format(net, folding.pixels_per_beat), head=heads[0],
                                 clock_mhz=_clock_mhz(build), estimated_cycles_per_frame=estimated,
                                 limit_cycles_per_frame=limits_from_estimate(estimated, 1).per_frame, heads=heads)
        return cls(build=build, net=net, deployed=deployed)


def _head_params(build: BuildDir, net: FewdIFNetwork) -> tuple[HeadParams, ...]:
    """Every head's decode parameters, in the network's output order: the IR's anchors (listed head after head,
    as the export writes them) split by the heads' channel counts; a single head without anchors in the IR takes
    the default anchors."""
    shapes = net.output_shapes
    _, h, w = net.input_shape
    channels = [k for k, _, _ in shapes]
    anchors = net.meta.anchors or (_default_anchors(h) if len(shapes) == 1 else ())
    if not anchors:
        raise StepError(f"{build.ir_json}: {len(shapes)} heads but the IR lists no anchors (meta.anchors)")
    num_classes = sum(channels) // len(anchors) - 5
    names = net.meta.names or tuple(f"class{i}" for i in range(num_classes))
    try:
        per_head = anchors_per_head(anchors, channels, len(names))
    except ConfigError as exc:
        raise StepError(f"{build.ir_json}: {exc}") from None
    if h != w or any(gh != gw for _, gh, gw in shapes):
        raise StepError(f"{build.ir_json}: heads on {', '.join(f'{gh}x{gw}' for _, gh, gw in shapes)} grids of a "
                        f"{h}x{w} input: the driver decodes square inputs and grids")
    return tuple(HeadParams(num_classes=len(names), anchors=a, input_size=h, grid=gh,
                            out_scale=tuple(float(s) for s in head.out_scale), names=tuple(names))
                 for a, (_, gh, _), head in zip(per_head, shapes, net.heads, strict=True))


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
