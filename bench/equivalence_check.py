"""The equivalence check (spikeflow.backends.rtl.equivalence) on every neuron unit of three designs: tiny (the
shipped checkpoint's IR, or a random network of its architecture), default (build/default) and a stride-2 network.

    python bench/equivalence_check.py [--tiny-ir build/sim/ir] [--default-ir build/default/ir] [--out build/bench]

Each distinct lane-sum parameter set is proven once (cached across runs), and so is each window slice select (by
induction from reset) and each spike count (SAT). Prints one line per instance and proof and writes
OUT/equivalence.json; exits 1 unless every one is proven equivalent.
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
from spikeflow.backends.rtl.equivalence import (
    check_fires,
    check_lane_sums,
    check_popcount,
    check_slice_selects,
    fire_instances,
    lane_sum_instances,
    slice_select_instances,
)
from spikeflow.backends.rtl.synth import synth_jobs
from spikeflow.hw.sources import hardware_folder
from spikeflow.ir import FewdIFNetwork, load_network
from spikeflow.ir.random import random_network


def designs(tiny_ir: Path, default_ir: Path) -> dict[str, FewdIFNetwork]:
    nets: dict[str, FewdIFNetwork] = {}
    if (tiny_ir / "network.json").is_file():
        nets["tiny"] = load_network(tiny_ir)
    else:
        nets["tiny"] = random_network(np.random.default_rng(0), input_shape=(3, 64, 64), channels=(12, 24, 48, 64),
                                      pool_after=(True, True, True, False), head_channels=27, name="tiny-random")
    if (default_ir / "network.json").is_file():
        nets["default"] = load_network(default_ir)
    else:
        print(f"note: {default_ir} has no IR (make bench builds it): default left out", file=sys.stderr)
    nets["stride2"] = random_network(np.random.default_rng(2), input_shape=(3, 32, 32), channels=(8, 16, 32),
                                     pool_after=(False, False, False), head_channels=12, stride=2, name="stride2")
    return nets


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiny-ir", type=Path, default=Path("build/sim/ir"))
    ap.add_argument("--default-ir", type=Path, default=Path("build/default/ir"))
    ap.add_argument("--out", type=Path, default=Path("build/bench"))
    args = ap.parse_args(argv)
    rows = []
    started = time.time()
    popcount = check_popcount(hardware_folder("rtl"))
    print(f"{'library':<8} {'popcount idiom':<10} {'64 bits, against the sum of the bits':<58} {popcount.verdict:<11} "
          f"{'cached' if popcount.cached else f'{popcount.seconds:.0f} s'}", flush=True)
    for name, net in designs(args.tiny_ir, args.default_ir).items():
        rtl = generate_rtl(net, args.out / f"equivalence-{name}" / "rtl")
        pairs = lane_sum_instances(rtl.out_dir)
        results = check_lane_sums([p for _, p in pairs], rtl.out_dir / "lib", jobs=synth_jobs())
        for (inst, params), r in zip(pairs, results, strict=True):
            print(f"{name:<8} {inst:<10} {params.label:<58} {r.verdict:<11} "
                  f"{'cached' if r.cached else f'{r.seconds:.0f} s'}", flush=True)
            rows.append({"design": name, "network": net.name, "instance": inst, "proof": "lane sums", **r.as_dict()})
        for proof, instances, check in (("slice select", slice_select_instances, check_slice_selects),
                                        ("spike count", fire_instances, check_fires)):
            units = instances(rtl.out_dir)
            for (inst, params), r in zip(units, check([p for _, p in units], rtl.out_dir / "lib"), strict=True):
                print(f"{name:<8} {inst:<10} {proof + ' ' + params.label:<58} {r.verdict:<11} "
                      f"{'cached' if r.cached else f'{r.seconds:.0f} s'}", flush=True)
                rows.append({"design": name, "network": net.name, "instance": inst, "proof": proof, **r.as_dict()})
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    ok = all(r["verdict"] == "equivalent" for r in rows)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "equivalence.json").write_text(json.dumps({
        "popcount": popcount.as_dict(), "rows": rows, "all_equivalent": ok and popcount.verdict == "equivalent",
        "seconds": round(time.time() - started, 1), "commit": commit,
        "date": time.strftime("%Y-%m-%d %H:%M")}, indent=1) + "\n")
    units = sum(r["proof"] == "lane sums" for r in rows)
    print(f"{units} neuron units (lane sums, slice selects and spike counts), "
          f"{'all equivalent' if ok else 'NOT all equivalent'}; "
          f"{time.time() - started:.0f} s; {args.out / 'equivalence.json'}")
    return 0 if ok and popcount.verdict == "equivalent" else 1


if __name__ == "__main__":
    sys.exit(main())
