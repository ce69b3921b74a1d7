"""How close the resource model's DAG units come to Yosys: a random DAG through the estimate step's synthesis
(every instance out of context, cached; spikeflow.backends.rtl.synth) for xcup and ECP5.

    python bench/dag_resource_check.py [--seed 5] [--size 16] [--two-heads] [--out build/bench/dag_resources.json]

The network is random_dag_network(seed) with one head (two with --two-heads: the head merge is checked too), at
its autofolded folding on the ZCU104 at the fastest rate (so its convs are folded as the fold step folds them).
Its RTL is generated into build/dag-resources/<family>/ and each instance synthesised. The model's rows
(spikeflow.hw.resources.layer_resources) are compared with the instances grouped the same way: a "<tensor>:fork"
row with the broadcast and its branch FIFOs, a concat or upsample row with its unit, a "heads:merge" row with the
head merges, a layer row with its window generator, neuron unit (or max-pool) and output FIFO.
A residual conv's shortcut is also checked alone: its neuron unit is synthesised again without the shortcut
(RESIDUAL=0), and the difference set against `residual_features`. Prints the table and the errors per unit kind
and in total, and writes them to --out.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from spikeflow.backends.rtl import generate_rtl
from spikeflow.backends.rtl.synth import synth_instances
from spikeflow.hw.autofold import fold_to_target
from spikeflow.hw.boards import Board
from spikeflow.hw.folding import longest_walk
from spikeflow.hw.resources import layer_resources, model_for, residual_features
from spikeflow.ir import FewdIFConcat, FewdIFConv, FewdIFUpsample
from spikeflow.ir.random import random_dag_network

WORK = Path("build/dag-resources")
FAMILIES = ("xcup", "ecp5")
KEYS = ("LUT", "FF", "BRAM36")


def _group(inst: dict) -> str:
    """The model row an instance belongs to (the output adapters, one per head, in none)."""
    match = re.fullmatch(r"u_(.+)_(fork|br\d+_fifo)", inst["instance"])
    if match:
        return f"{match.group(1)}:fork"
    if re.fullmatch(r"u_merge\d+", inst["instance"]):
        return "heads:merge"
    return "output" if re.fullmatch(r"u_output\d*", inst["instance"]) else inst["layer"]


def _kind(row: str, net) -> str:  # noqa: ANN001
    if row.endswith(":fork"):
        return "fork (broadcast + branch FIFOs)"
    if row == "heads:merge":
        return "head merge"
    layer = next((layer for layer in net.layers if layer.name == row), None)
    if isinstance(layer, FewdIFConcat | FewdIFUpsample):
        return layer.kind
    if isinstance(layer, FewdIFConv) and layer.has_residual:
        return "residual conv (whole row)"
    return "other layers (fitted)"


def _error(model: float, yosys: float) -> float | None:
    return round(100.0 * (model / yosys - 1), 1) if yosys else None


def check(net, folding, family: str, jobs: int) -> dict:  # noqa: ANN001
    model = model_for(family)[0]
    build = generate_rtl(net, WORK / family, folding)
    instances = json.loads((build.out_dir / "instances.json").read_text())
    results = synth_instances(build.out_dir, instances, family, jobs=jobs)
    measured: dict[str, dict[str, float]] = {}
    for inst, (result, _) in zip(instances, results, strict=True):
        row = measured.setdefault(_group(inst), dict.fromkeys(KEYS, 0.0))
        for key in KEYS:
            row[key] += getattr(result, key)
    rows = []
    for r in layer_resources(net, folding, model):
        y = measured.get(r.layer, dict.fromkeys(KEYS, 0.0))
        rows.append({"row": r.layer, "kind": _kind(r.layer, net),
                     **{f"model_{k}": round(getattr(r, k), 1) for k in KEYS},
                     **{f"yosys_{k}": y[k] for k in KEYS}})
    # a residual conv's shortcut alone: its neuron unit again without it
    shortcut = []
    for layer in net.layers:
        if not (isinstance(layer, FewdIFConv) and layer.has_residual):
            continue
        inst = next(i for i in instances if i["instance"] == f"u_{layer.name}")
        plain = {**inst, "instance": f"u_{layer.name}_noshortcut",
                 "parameters": {k: v for k, v in inst["parameters"].items()
                                if k not in ("RESIDUAL", "RES_BITS", "RES_SHIFT_FILE")}}
        (with_r, _), (without, _) = synth_instances(build.out_dir, [inst, plain], family, jobs=jobs)
        est = residual_features(layer, folding[layer.name], net.act_bits, family)
        shortcut.append({"layer": layer.name, "pe": folding[layer.name].pe,
                         "model_LUT": est["lut"], "yosys_LUT": with_r.LUT - without.LUT,
                         "model_FF": est["ff"], "yosys_FF": with_r.FF - without.FF,
                         "model_BRAM36": est["bram36"], "yosys_BRAM36": with_r.BRAM36 - without.BRAM36})
    kinds: dict[str, dict[str, float]] = {}
    for row in rows:
        agg = kinds.setdefault(row["kind"], {f"{s}_{k}": 0.0 for s in ("model", "yosys") for k in KEYS})
        for k in KEYS:
            agg[f"model_{k}"] += row[f"model_{k}"]
            agg[f"yosys_{k}"] += row[f"yosys_{k}"]
    if shortcut:
        agg = kinds.setdefault("residual shortcut alone", {f"{s}_{k}": 0.0 for s in ("model", "yosys") for k in KEYS})
        for row in shortcut:
            for k in KEYS:
                agg[f"model_{k}"] += row[f"model_{k}"]
                agg[f"yosys_{k}"] += row[f"yosys_{k}"]
    dag_kinds = ("fork (broadcast + branch FIFOs)", "concat", "upsample", "head merge")
    dag_total = {f"{s}_{k}": sum(r[f"{s}_{k}"] for r in rows if r["kind"] in dag_kinds)
                 for s in ("model", "yosys") for k in KEYS}
    whole = {f"{s}_{k}": sum(r[f"{s}_{k}"] for r in rows) for s in ("model", "yosys") for k in KEYS}
    for agg in (*kinds.values(), dag_total, whole):
        for k in KEYS:
            agg[f"error_{k}_percent"] = _error(agg[f"model_{k}"], agg[f"yosys_{k}"])
    return {"family": family, "rows": rows, "residual_shortcut": shortcut, "by_kind": kinds,
            "dag_units_total": dag_total, "whole_network": whole,
            "unmodelled_instances": sorted(set(measured) - {r["row"] for r in rows})}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--size", type=int, default=16)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--two-heads", action="store_true", help="the DAG with a second, finer head")
    ap.add_argument("--out", type=Path, default=Path("build/bench/dag_resources.json"))
    args = ap.parse_args(argv)
    net = random_dag_network(np.random.default_rng(args.seed), input_shape=(3, args.size, args.size),
                             two_heads=args.two_heads)
    spec = Board.ZCU104.spec
    folding = fold_to_target(net, spec.clock_mhz, spec.clock_mhz * 1e6 / (longest_walk(net) + 0.5),
                             spec.capacity).folding
    started = time.time()
    reports = [check(net, folding, family, args.jobs) for family in FAMILIES]
    for rep in reports:
        print(f"\n{rep['family']}: model against Yosys (LUT, FF, BRAM36), "
              f"random_dag_network seed {args.seed}, {args.size}x{args.size}")
        totals = [("DAG units (forks, concats, upsamplers, merge)", rep["dag_units_total"]),
                  ("whole network", rep["whole_network"])]
        for kind, agg in [*rep["by_kind"].items(), *totals]:
            print(f"  {kind:<40} " + "  ".join(
                f"{k} {agg[f'model_{k}']:8,.1f} / {agg[f'yosys_{k}']:8,.1f} ({agg[f'error_{k}_percent']}%)"
                for k in KEYS))
        for row in rep["residual_shortcut"]:
            print(f"  shortcut of {row['layer']} (PE {row['pe']}): LUT {row['model_LUT']:.0f} / "
                  f"{row['yosys_LUT']:.0f}, FF {row['model_FF']:.0f} / {row['yosys_FF']:.0f}")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"seed": args.seed, "size": args.size, "folding": folding.as_dict(),
                                    "families": reports, "seconds": round(time.time() - started),
                                    "commit": commit, "date": time.strftime("%Y-%m-%d %H:%M")}, indent=1) + "\n")
    print(f"figures: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
