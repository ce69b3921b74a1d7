"""The fast harness's Verilator and C++ options, each measured: the harness of the tiny architecture built with the
shipped options and with one changed at a time, simulated cycles per CPU-second (best of --runs, the variants run
in turn, so that a slow spell of this shared machine falls on all of them alike).

    python bench/harness_flags.py [--frames 32] [--out build/bench/harness-flags]

Prints one line per variant and writes OUT/harness_flags.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from spikeflow.backends.rtl import generate_rtl
from spikeflow.backends.rtl.rtlsim import RtlSim, render_harness
from spikeflow.backends.rtl.tools import (
    HARNESS_ARITH,
    HARNESS_CPU,
    HARNESS_LAYOUT,
    HARNESS_OPTIMISE,
    cpu_id,
    verilator_env,
)
from spikeflow.ir.random import random_network

SHIPPED = HARNESS_OPTIMISE
SHIPPED_CFLAGS = " ".join(["-O3", *HARNESS_CPU[1::2]])
VARIANTS: dict[str, tuple[tuple[str, ...], str]] = {
    "as shipped": (SHIPPED, SHIPPED_CFLAGS),
    "without Verilator -O3": (tuple(f for f in SHIPPED if f != "-O3"), SHIPPED_CFLAGS),
    "C++ -O2": (SHIPPED, SHIPPED_CFLAGS.replace("-O3", "-O2")),
    "default X handling": (("-O3", "--noassert"), SHIPPED_CFLAGS),
    "without --noassert": (tuple(f for f in SHIPPED if f != "--noassert"), SHIPPED_CFLAGS),
    "generic x86-64 (no -march=native)": (SHIPPED, "-O3"),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=32)
    ap.add_argument("--runs", type=int, default=5, help="runs of each variant, in turn; the best counts")
    ap.add_argument("--out", type=Path, default=Path("build/bench/harness-flags"))
    args = ap.parse_args(argv)
    net = random_network(np.random.default_rng(0), input_shape=(3, 64, 64), channels=(12, 24, 48, 64),
                         pool_after=(True, True, True, False), head_channels=27, name="tiny-random")
    frames = np.random.default_rng(1).integers(0, 256, size=(args.frames, *net.input_shape), dtype=np.uint8)
    rows, sims = [], []
    for i, (name, (flags, cflags)) in enumerate(VARIANTS.items()):
        build = generate_rtl(net, args.out / f"variant{i}" / "rtl")
        sim = RtlSim(build)
        render_harness(build, sim.harness)
        cmd = ["verilator", "--cc", "--exe", "--build", *flags, "-Wno-fatal", *HARNESS_LAYOUT, *HARNESS_ARITH,
               "--top-module", build.top, "-CFLAGS", cflags, "-j", "2", "-Mdir", str(sim.obj_dir), "-o",
               sim.exe.name, *[str(s) for s in build.sources], str(sim.harness)]
        started = time.time()
        proc = subprocess.run(cmd, env=verilator_env(), capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"{name}: build failed\n{proc.stderr[-2000:]}", file=sys.stderr)
            return 1
        sim.cpu_stamp.write_text(cpu_id())  # newer than its sources, for this CPU: RtlSim runs it as built here
        rows.append({"variant": name, "verilator_flags": list(flags), "cflags": cflags,
                     "build_seconds": round(time.time() - started, 1), "cycles_per_cpu_second": 0.0})
        sims.append(sim)
    for _ in range(args.runs):
        for row, sim in zip(rows, sims, strict=True):
            sim.run(frames)
            row["cycles_per_cpu_second"] = max(row["cycles_per_cpu_second"], sim.last_cycles / sim.last_cpu_seconds)
    for row in rows:
        print(f"{row['variant']:<34} build {row['build_seconds']:5.1f} s  "
              f"{row['cycles_per_cpu_second'] / 1e6:.3f} M cycles per CPU-second", flush=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    (args.out / "harness_flags.json").write_text(json.dumps({
        "frames": args.frames, "runs": args.runs, "rows": rows, "commit": commit,
        "date": time.strftime("%Y-%m-%d %H:%M")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
