"""Fit the analytical resource model (spikeflow/hw/resources.py) to the per-layer Yosys figures of estimate steps.

    python bench/calibrate_resources.py [BUILD ...] [--write] [--family xcup|ecp5] [--hold-out NAME,...]

Each BUILD is a build folder with ir/, rtl/folding.json and report/resources.json from the `estimate` step
(default: every row of `make bench` under build/bench/ and every point of bench/calibration_sweep.py under
build/calib/ and build/calib-<family>/, synthesised for the family). --hold-out leaves the named builds out of
the fit and marks them in the table, to see how the model does on foldings it was not fitted to. The LUT and FF
coefficients are fitted by non-negative least squares on relative errors (each layer weighs the same, whatever
its size); conv/head layers and max-pool stages have fixed costs of their own. It prints, per layer, Yosys
against the model for LUT, FF, BRAM36 and DSP with the error in percent, and with --write stores the
coefficients and their provenance in spikeflow/hw/resource_model.json (resource_model_ecp5.json for --family
ecp5), which the fold step reads. --check compares the stored model instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path

import numpy as np
from scipy.optimize import nnls

from spikeflow.flow.report import command_line
from spikeflow.hw.folding import load_folding
from spikeflow.hw.resources import (
    FF_FEATURES,
    LUT_FEATURES,
    ResourceModel,
    calibration_file,
    features,
    layer_resources,
    load_model,
    pool_features,
)
from spikeflow.ir import FewdIFMaxPool, load_network

KEYS = ("LUT", "FF", "BRAM36", "DSP")


def layer_rows(build: Path) -> list[dict]:
    """One row per layer: its features for LUT and FF and its Yosys figures."""
    net = load_network(build / "ir")
    folding = load_folding(build / "rtl" / "folding.json")
    report = json.loads((build / "report" / "resources.json").read_text())
    yosys = {row["layer"]: row for row in report["layers"]}
    rows = []
    for layer in net.layers:
        if layer.name not in yosys:
            continue
        if isinstance(layer, FewdIFMaxPool):
            x = pool_features(layer, net.act_bits)
            lut_x = {"pool": x["lut"], "pool_lutram": x["lutram"], "pool_fixed": 1.0}
            ff_x = {"pool": x["ff"], "pool_fixed": 1.0}
        else:
            x = features(layer, folding[layer.name], net.act_bits)
            lut_x = {**{k: x[k] for k in LUT_FEATURES}, "fixed": 1.0}
            ff_x = {**{k: x[k] for k in FF_FEATURES}, "fixed": 1.0}
        rows.append({"build": build.name, "layer": layer.name, "lut_x": lut_x, "ff_x": ff_x,
                     "yosys": {k: yosys[layer.name][k] for k in KEYS}, "net": net, "folding": folding})
    return rows


def fit(rows: list[dict], kind: str) -> dict[str, float]:
    """Non-negative least squares of the relative error for `kind` ("lut" or "ff")."""
    names = sorted({k for r in rows for k in r[f"{kind}_x"]})
    a = np.array([[r[f"{kind}_x"].get(n, 0.0) for n in names] for r in rows], dtype=float)
    y = np.array([r["yosys"][kind.upper()] for r in rows], dtype=float)
    scale = 1.0 / np.maximum(y, 1.0)
    coef, _ = nnls(a * scale[:, None], y * scale)
    return {f"{kind}_{n}": float(c) for n, c in zip(names, coef, strict=True)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("builds", nargs="*", type=Path)
    ap.add_argument("--family", default="xcup", help="fit to the runs for this Yosys family (default xcup)")
    ap.add_argument("--write", action="store_true",
                    help="store the fit in spikeflow/hw/resource_model.json (resource_model_ecp5.json for ecp5)")
    ap.add_argument("--hold-out", default="", help="comma-separated build names to leave out of the fit")
    ap.add_argument("--check", action="store_true",
                    help="no fit: compare the stored model (resource_model.json) with the Yosys figures")
    args = ap.parse_args(argv)
    builds = args.builds or sorted(p.parent.parent for pattern in ("build/bench/*/report/resources.json",
                                                                   "build/calib/*/report/resources.json",
                                                                   "build/calib-*/*/report/resources.json")
                                   for p in Path().glob(pattern))
    held = {name for name in args.hold_out.split(",") if name}
    rows, tool = [], None
    for build in builds:
        report = json.loads((build / "report" / "resources.json").read_text())
        if report["family"] != args.family:
            print(f"skip {build}: synthesised for {report['family']}, not {args.family}")
            continue
        tool = report["tool"]
        rows += layer_rows(build)
    if not rows:
        print(f"error: no estimate reports for family {args.family} among {[str(b) for b in builds]}", file=sys.stderr)
        return 2
    if args.check:
        model, note = load_model(calibration_file(args.family))
        print(f"stored model: {note}")
    else:
        fitted = [r for r in rows if r["build"] not in held]
        coefficients = {**fit(fitted, "lut"), **fit(fitted, "ff")}
        names = {f.name for f in fields(ResourceModel)}
        model = ResourceModel.from_dict({k: v for k, v in coefficients.items() if k in names})
    print(f"{'build':<34} {'layer':<10} " + " ".join(f"{k + ' yosys':>11} {'model':>8} {'err%':>6}" for k in KEYS))
    worst = dict.fromkeys(KEYS, 0.0)
    worst_held = dict.fromkeys(KEYS, 0.0)
    for r in rows:
        est = next(e for e in layer_resources(r["net"], r["folding"], model) if e.layer == r["layer"])
        cells = []
        for k in KEYS:
            y, m = r["yosys"][k], getattr(est, k)
            err = 100.0 * (m - y) / y if y else (0.0 if m == 0 else 100.0)
            target = worst_held if r["build"] in held else worst
            target[k] = max(target[k], abs(err))
            cells.append(f"{y:>11,.0f} {m:>8,.0f} {err:>6.1f}")
        mark = "*" if r["build"] in held else " "
        print(f"{r['build'][:33]:<33}{mark} {r['layer']:<10} " + " ".join(cells))
    print("largest per-layer error: " + ", ".join(f"{k} {v:.1f}%" for k, v in worst.items()))
    if held:
        print("largest per-layer error on the held-out builds (*): "
              + ", ".join(f"{k} {v:.1f}%" for k, v in worst_held.items()))
    print("coefficients: " + ", ".join(f"{k}={v:.3f}" for k, v in model.as_dict().items()))
    if args.write and not args.check:
        if held:
            print("error: --write stores a fit to all builds; drop --hold-out", file=sys.stderr)
            return 2
        calibration_file(args.family).write_text(json.dumps({
            "coefficients": model.as_dict(), "tool": tool, "family": args.family, "layers_fitted": len(rows),
            "builds": sorted({r["build"] for r in rows}), "max_error_percent": worst, "command": command_line(),
        }, indent=1) + "\n")
        print(f"written: {calibration_file(args.family)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
