"""Cycles per frame of stride-2 networks in the fast harness, against the cycle estimate and a recorded figure, so
that a regression of the strided walk shows (one cycle-accurate Verilator run per row, no synthesis).

    python bench/strided_cycles.py [--frames 5] [--out build/bench/strided.json]

Rows (random networks of spikeflow.ir.random, one stride-2 conv and a 1x1 head of 2 channels so that the conv is
the slowest stage): a 1x1 stride-2 conv on 23x17 at 3 cycles per window (issue 20's example), a 5x5 stride-2 conv
on an odd-sized 21x17 frame at 2 cycles per window, and a two-conv 3x3 stride-2 network at the default folding.
`recorded` is the row's cycles per frame when the window generator's walk overlaps the window work (commit
f09dbf1; before 523dddf the same; 607, 624 and 932 without the overlap, at ebb5295). Exits 1 when a row's output
differs from the golden model, its measured cycles exceed the estimate, or the estimate or the measurement exceeds
the recorded figure.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spikeflow.backends.rtl import generate_rtl
from spikeflow.backends.rtl.rtlsim import RtlSim
from spikeflow.golden import run_counts
from spikeflow.hw.folding import LayerFolding, resolve_folding
from spikeflow.ir.random import random_network


@dataclass(frozen=True)
class Row:
    name: str
    input_shape: tuple[int, int, int]
    channels: tuple[int, ...]
    kernel: int
    folding: dict[str, LayerFolding] | None  # None: the default folding
    recorded: int  # cycles per frame measured at f09dbf1 (walk overlapping the window work)


ROWS = (
    Row("1x1-s2-23x17", (3, 23, 17), (8,), 1, {"conv0": LayerFolding(8, 1)}, 489),
    Row("5x5-s2-21x17", (3, 21, 17), (8,), 5, {"conv0": LayerFolding(4, 75)}, 525),
    Row("3x3-s2-default", (3, 24, 20), (8, 16), 3, None, 572),
)


def run_row(row: Row, frames: int, out_dir: Path) -> dict:
    net = random_network(np.random.default_rng(1), input_shape=row.input_shape, channels=row.channels,
                         kernel=row.kernel, pool_after=tuple(False for _ in row.channels), head_channels=2, stride=2,
                         name=row.name.replace("-", "_"))
    build = generate_rtl(net, out_dir / row.name, folding=row.folding)
    images = np.random.default_rng(2).integers(0, 256, size=(frames, *net.input_shape), dtype=np.uint8)
    out, done = RtlSim(build).run(images)
    folding = resolve_folding(net, row.folding)
    return {"name": row.name, "input_shape": list(net.input_shape), "frames": frames,
            "folding": {k: [f.pe, f.simd, f.time_parallel] for k, f in folding.layers.items()},
            "cycles_per_frame": RtlSim.timing(done).cycles_per_frame,
            "estimated_cycles_per_frame": build.estimated_cycles_per_frame, "recorded": row.recorded,
            "bit_exact": bool(np.array_equal(out, run_counts(net, images)))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=5, help="frames back to back in the harness (>= 3)")
    ap.add_argument("--out", type=Path, default=Path("build/bench/strided.json"))
    args = ap.parse_args(argv)
    if args.frames < 3:
        ap.error("--frames must be at least 3: the steady state is measured over frames 1..N-1")
    rows = [run_row(row, args.frames, args.out.parent / "strided") for row in ROWS]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": rows, "commit": commit, "date": time.strftime("%Y-%m-%d %H:%M")},
                                   indent=1) + "\n")
    print(f"{'row':<16} {'cycles':>8} {'est':>6} {'recorded':>8}  bit-exact")
    failed = False
    for r in rows:
        bad = (not r["bit_exact"] or r["cycles_per_frame"] > r["estimated_cycles_per_frame"]
               or max(r["cycles_per_frame"], r["estimated_cycles_per_frame"]) > r["recorded"])
        failed |= bad
        print(f"{r['name']:<16} {r['cycles_per_frame']:>8,.0f} {r['estimated_cycles_per_frame']:>6,} "
              f"{r['recorded']:>8,}  {r['bit_exact']}{'  REGRESSION' if bad else ''}")
    print(f"figures: {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
