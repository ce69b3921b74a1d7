"""How much faster would Verilator simulate a lane sum computed by bit planes? One 288-element lane (PE=1, 4-bit
weights, 2-bit inputs: the default's Conv_3 to Conv_5 lanes) in its own harness, as the shipped word formulation
(SWAR) and as the bit-plane form of bench/rtl/lane_bitplane.v, built with the fast harness's options, the same 256
random stimuli in turn; the two must give the same checksum of psum over every cycle.

    python bench/bitplane_speed.py [--cycles 2000000] [--runs 3] [--out build/bench/bitplane]

Prints simulated cycles per CPU-second of each (best of --runs, the two run in turn) and writes OUT/bitplane.json.
The harness copies the stimulus into the model every cycle, the same for both, so the ratio understates the
datapath's own.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from spikeflow.backends.rtl.tools import HARNESS_CPU, HARNESS_OPTIMISE, verilator_env

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ("--cc", "--exe", "--build", *HARNESS_OPTIMISE, "-Wno-fatal", "--prefix", "Vtop", "-j", "2")
UNITS = {"word (SWAR, shipped)": ("lane_swar", 0), "bit planes": ("lane_bitplane", 1)}


def build(top: str, planes: int, out: Path) -> Path:
    sources = [ROOT / "bench" / "rtl" / "lane_bitplane.v", ROOT / "rtl" / "spikeflow_lane_sum.v",
               ROOT / "rtl" / "spikeflow_adder_tree.v", ROOT / "bench" / "rtl" / "lane_unit_tb.cpp"]
    out.mkdir(parents=True, exist_ok=True)
    cflags = " ".join(["-O3", *HARNESS_CPU[1::2], f"-DPLANES={planes}"])
    cmd = ["verilator", *FLAGS, "--top-module", top, "-CFLAGS", cflags, "-Mdir", str(out), "-o", "tb",
           *map(str, sources)]
    proc = subprocess.run(cmd, env=verilator_env(), capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{top}: build failed\n{proc.stderr[-2000:]}")
    return out / "tb"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=2_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path("build/bench/bitplane"))
    args = ap.parse_args(argv)
    exes = {name: build(top, planes, args.out / top) for name, (top, planes) in UNITS.items()}
    best = dict.fromkeys(UNITS, 0.0)
    checksums: dict[str, set[str]] = {name: set() for name in UNITS}
    for _ in range(args.runs):
        for name, exe in exes.items():
            words = subprocess.run([str(exe), str(args.cycles)], capture_output=True, text=True,
                                   check=True).stdout.split()
            best[name] = max(best[name], float(words[1]))
            checksums[name].add(words[3])
    same = len({c for cs in checksums.values() for c in cs}) == 1
    for name in UNITS:
        print(f"{name:<22} {best[name] / 1e6:7.3f} M simulated cycles per CPU-second", flush=True)
    print(f"bit planes / word: {best['bit planes'] / best['word (SWAR, shipped)']:.2f}x; same psum on every cycle: "
          f"{same}")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    (args.out / "bitplane.json").write_text(json.dumps({
        "cycles": args.cycles, "runs": args.runs, "cycles_per_cpu_second": best, "same_psum": same,
        "commit": commit, "date": time.strftime("%Y-%m-%d %H:%M")}, indent=1))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
