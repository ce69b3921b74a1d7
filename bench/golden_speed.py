"""Golden count-mode speed on ONE CPU core: the default 256x256 model must run at >= 20 frames/s.

    python bench/golden_speed.py [--ir build/default/ir] [--frames 64] [--batch 1 16]

Loads build/default/ir when it exists, else a random network with the default architecture (the speed
depends only on the shapes). Thread counts are pinned to 1 before numpy is imported.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
             "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from spikeflow.golden import run_counts  # noqa: E402
from spikeflow.ir import FewdIFNetwork, load_network  # noqa: E402
from spikeflow.ir.random import random_network  # noqa: E402

TARGET_FPS = 20.0
DEFAULT_IR = Path("build/default/ir")


def default_network(ir: Path) -> tuple[FewdIFNetwork, str]:
    if (ir / "network.json").is_file():
        return load_network(ir), str(ir)
    rng = np.random.default_rng(0)
    net = random_network(rng, input_shape=(3, 256, 256), channels=(8, 16, 32, 64, 128, 256),
                         pool_after=(True, True, True, True, True, False), head_channels=27, act_bits=2,
                         weight_bits=4, name="default-random")
    return net, "random network with the default architecture"


def frames_per_second(net: FewdIFNetwork, frames: np.ndarray, batch: int, repeats: int = 1) -> float:
    run_counts(net, frames[:batch], batch=batch)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        run_counts(net, frames, batch=batch)
        best = min(best, time.perf_counter() - started)
    return len(frames) / best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ir", type=Path, default=DEFAULT_IR, help="FewdIF IR directory (default: %(default)s)")
    parser.add_argument("--frames", type=int, default=64, help="frames timed per batch size (default: 64)")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 16], help="batch sizes (default: 1 16)")
    parser.add_argument("--repeats", type=int, default=1, help="timed runs per batch size; the best counts")
    args = parser.parse_args(argv)

    try:  # also pin the process to one core where the OS allows it
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    except (AttributeError, OSError):
        pass
    net, source = default_network(args.ir)
    rng = np.random.default_rng(1)
    frames = rng.integers(0, 256, size=(args.frames, *net.input_shape), dtype=np.uint8)
    print(f"golden count mode, 1 thread, network: {source} {tuple(net.input_shape)}, {args.frames} frames")
    ok = True
    for batch in args.batch:
        fps = frames_per_second(net, frames, batch, args.repeats)
        meets = fps >= TARGET_FPS
        ok &= meets
        print(f"  batch {batch:>3}: {fps:7.1f} frames/s  ({1000 / fps:6.1f} ms/frame)  "
              f"{'meets' if meets else 'BELOW'} the {TARGET_FPS:.0f} frames/s target")
    print("PASS: >= 20 frames/s on one core" if ok else "FAIL: below 20 frames/s on one core")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
