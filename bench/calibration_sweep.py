"""Yosys figures of single layers at many foldings, for fitting the analytical resource model.

    python bench/calibration_sweep.py [--family xcup|ecp5] [--points NAME,...] [--list]

The benchmark rows (`bench/fold_bench.py`) cover only the foldings that their targets pick, so a model fitted
to them alone generalises poorly to other foldings. This sweep synthesises one layer at a time (its neuron
unit, window generator and output FIFO, out of context, through the estimate step's cached `synth_instances`)
at the foldings in POINTS: time-parallel and time-serial lanes, weights in LUT logic and in block RAM, few
and many PEs, DSP products on the first layer, and the head; for another family than xcup also the whole tiny at its
default folding (WHOLE_MODEL: the max-pool stages, which the xcup fit takes from the make bench rows).

Each point is written as a build folder under build/calib/<point>/ (build/calib-<family>/<point>/ for another
family than xcup: --family ecp5 synthesises with synth_ecp5) with `ir` (a link to the model's IR under
build/bench/<model>/, made by fold_bench's model builds when missing), `rtl/` and a `report/resources.json` that
holds the swept layer only. `bench/calibrate_resources.py` reads these folders next to the benchmark rows.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from fold_bench import ROWS, model_build

from spikeflow.backends.rtl.generator import generate_rtl
from spikeflow.backends.rtl.synth import SynthResult, synth_instances, synth_jobs, yosys_version
from spikeflow.flow.report import command_line
from spikeflow.hw.folding import LayerFolding
from spikeflow.ir import load_network

CALIB = Path("build/calib")


def calib_dir(family: str) -> Path:
    """build/calib for xcup (the fit the Xilinx parts use), build/calib-<family> for the others."""
    return CALIB if family == "xcup" else CALIB.with_name(f"calib-{family}")


@dataclass(frozen=True)
class Point:
    model: str
    layer: str
    pe: int
    simd: int
    time_parallel: bool

    @property
    def name(self) -> str:
        if not self.layer:
            return f"{self.model}-default-folding"
        return f"{self.model}-{self.layer}-pe{self.pe}-simd{self.simd}-{'tp' if self.time_parallel else 'ts'}"


# Chosen to span the features of spikeflow/hw/resources.py at a few hundred lanes or fewer (minutes of Yosys each)
POINTS = (
    Point("default", "Conv_0", 2, 27, True),     # pixels, 4 words: constants of the product LUTs
    Point("default", "Conv_0", 4, 9, False),     # pixels, bit-serial
    Point("default", "Conv_0", 2, 3, True),      # pixels, 36 words: DSP products
    Point("default", "Conv_1", 2, 72, True),     # 8 words in LUTs
    Point("default", "Conv_1", 16, 8, True),     # 9 words in LUTs, many PEs
    Point("default", "Conv_1", 4, 24, False),    # serial, ROM in LUTs
    Point("default", "Conv_2", 4, 16, True),     # 72 words: block RAM
    Point("default", "Conv_2", 2, 48, False),    # serial, block RAM
    Point("default", "Conv_3", 8, 32, True),
    Point("default", "Conv_3", 1, 288, True),
    Point("default", "Conv_3", 4, 72, False),
    Point("default", "Conv_4", 16, 16, True),
    Point("default", "Conv_4", 2, 64, False),
    Point("default", "Conv_5", 4, 64, True),
    Point("default", "Conv_5", 32, 8, False),
    Point("default", "Conv_6", 3, 32, True),     # head, 8-bit weights
    Point("default", "Conv_6", 1, 64, False),
    Point("tiny", "Conv_1", 3, 36, True),
    Point("tiny", "Conv_2", 6, 24, True),
    Point("tiny", "Conv_3", 8, 48, False),
)
# Every layer of the tiny at its default folding (layer ""): the max-pool stages and whole layers. The xcup fit gets
# these from the make bench rows (bench/fold_bench.py, Xilinx parts only); another family gets them here.
WHOLE_MODEL = Point("tiny", "", 0, 0, True)


def family_points(family: str) -> tuple[Point, ...]:
    return POINTS if family == "xcup" else (*POINTS, WHOLE_MODEL)


def checkpoint(model: str) -> str:
    return next(row.checkpoint for row in ROWS if row.model == model)


def run_point(point: Point, family: str, jobs: int) -> dict:
    source = model_build(point.model, checkpoint(point.model), frames=3)
    net = load_network(source.ir)
    # the rest (every layer of WHOLE_MODEL): the default folding
    folding = {point.layer: LayerFolding(point.pe, point.simd, point.time_parallel)} if point.layer else {}
    root = calib_dir(family) / point.name
    (root / "report").mkdir(parents=True, exist_ok=True)
    ir = root / "ir"
    if ir.is_symlink() or ir.exists():
        ir.unlink()
    ir.symlink_to(source.ir.resolve(), target_is_directory=True)
    rtl = generate_rtl(net, root / "rtl", folding=folding, source=str(source.ir_json))
    instances = [i for i in json.loads((rtl.out_dir / "instances.json").read_text())
                 if i["layer"] == point.layer or not point.layer]
    started = time.time()
    results = synth_instances(rtl.out_dir, instances, family, jobs=jobs)
    layers: dict[str, SynthResult] = {}
    for inst, (result, _) in zip(instances, results, strict=True):
        layers.setdefault(inst["layer"], SynthResult()).add(result)
    layer = SynthResult()
    for result in layers.values():
        layer.add(result)
    report = {"family": family, "tool": yosys_version(), "point": point.__dict__,
              "layers": [{"layer": name, **{k: v for k, v in r.as_dict().items() if k != "cells"}}
                         for name, r in layers.items()],
              "instances_synthesised": sum(not cached for _, cached in results), "command": command_line()}
    (root / "report" / "resources.json").write_text(json.dumps(report, indent=1) + "\n")
    print(f"{point.name:<36} LUT {layer.LUT:>8,.0f}  FF {layer.FF:>7,}  BRAM36 {layer.BRAM36:>5g}  "
          f"DSP {layer.DSP:>3}  ({time.time() - started:.0f} s)", flush=True)
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--family", default="xcup", help="Yosys synth_xilinx family, or ecp5 (default xcup)")
    ap.add_argument("--points", default="", help="comma-separated point names (default: all; see --list)")
    ap.add_argument("--list", action="store_true", help="print the point names and stop")
    args = ap.parse_args(argv)
    known = family_points(args.family)
    if args.list:
        print("\n".join(p.name for p in known))
        return 0
    wanted = [p for p in args.points.split(",") if p]
    unknown = sorted(set(wanted) - {p.name for p in known})
    if unknown:
        print(f"error: unknown points {unknown} (see --list)", file=sys.stderr)
        return 2
    points = [p for p in known if not wanted or p.name in wanted]
    started = time.time()
    for point in points:
        run_point(point, args.family, synth_jobs())
    print(f"{len(points)} points in {time.time() - started:.0f} s under {calib_dir(args.family)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
