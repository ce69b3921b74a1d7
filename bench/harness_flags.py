"""The fast harness's Verilator and C++ options, each measured: the harness of the tiny architecture built with the
shipped options and with one changed at a time, simulated cycles per CPU-second (best of 3 runs).

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
from spikeflow.backends.rtl.tools import HARNESS_ARITH, HARNESS_LAYOUT, verilator_env
from spikeflow.ir.random import random_network

SHIPPED = ("-O3", "--x-assign", "fast", "--x-initial", "fast", "--noassert")
VARIANTS: dict[str, tuple[tuple[str, ...], str]] = {
    "as shipped": (SHIPPED, "-O3"),
    "without Verilator -O3": (tuple(f for f in SHIPPED if f != "-O3"), "-O3"),
    "C++ -O2": (SHIPPED, "-O2"),
    "default X handling": (("-O3", "--noassert"), "-O3"),
    "without --noassert": (tuple(f for f in SHIPPED if f != "--noassert"), "-O3"),
    "with -march=native": (SHIPPED, "-O3 -march=native"),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=32)
    ap.add_argument("--out", type=Path, default=Path("build/bench/harness-flags"))
    args = ap.parse_args(argv)
    net = random_network(np.random.default_rng(0), input_shape=(3, 64, 64), channels=(12, 24, 48, 64),
                         pool_after=(True, True, True, False), head_channels=27, name="tiny-random")
    frames = np.random.default_rng(1).integers(0, 256, size=(args.frames, *net.input_shape), dtype=np.uint8)
    rows = []
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
        seconds = time.time() - started
        best = 0.0
        for _ in range(3):  # the executable is newer than its sources: RtlSim runs it as built here
            sim.run(frames)
            best = max(best, sim.last_cycles / sim.last_cpu_seconds)
        print(f"{name:<24} build {seconds:5.1f} s  {best / 1e6:.3f} M cycles per CPU-second", flush=True)
        rows.append({"variant": name, "verilator_flags": list(flags), "cflags": cflags,
                     "build_seconds": round(seconds, 1), "cycles_per_cpu_second": best})
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    (args.out / "harness_flags.json").write_text(json.dumps({"frames": args.frames, "rows": rows, "commit": commit,
                                                             "date": time.strftime("%Y-%m-%d %H:%M")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
