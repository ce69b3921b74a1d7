"""How close the fold step's resource model comes to synth_ecp5 on routed ECP5 designs.

    python bench/ecp5_fit_check.py [PNR_BUILD ...] [--out build/bench/ecp5_fit.json]

For each PNR_BUILD (default: build/pnr-default and build/pnr-tiny-pll, made by `make pnr-default` and the pnr
step), its IR and folding are copied to build/ecp5-fit/<name>/, where the rtl and estimate steps run for the
ULX3S 85F (every instance out of context with synth_ecp5, cached); the PNR_BUILD itself is only read. It prints,
for LUT4 and FF, the model's prediction (the ECP5 fit, spikeflow/hw/resource_model_ecp5.json, and the xcup fit)
against the estimate step's sum over the layers the model covers, the estimate step's total, the whole self-test
top through synth_ecp5 in the pnr step (its yosys_cells) and nextpnr's routed count, and writes the table to --out.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from spikeflow.backends.rtl.synth import ecp5_resources
from spikeflow.flow.config import BuildConfig, ModelSource
from spikeflow.flow.report import command_line
from spikeflow.flow.runner import run_build
from spikeflow.hw.boards import Board
from spikeflow.hw.folding import load_folding
from spikeflow.hw.resources import CALIBRATION_FILE, calibration_file, layer_resources, load_model, total
from spikeflow.ir import load_network

WORK = Path("build/ecp5-fit")
KEYS = (("LUT4", "LUT"), ("FF", "FF"))  # the part's unit, the model's


def check(pnr: Path) -> dict:
    net = load_network(pnr / "ir")
    root = WORK / pnr.name
    root.mkdir(parents=True, exist_ok=True)
    ir = root / "ir"
    if ir.is_symlink() or ir.exists():
        ir.unlink() if ir.is_symlink() else shutil.rmtree(ir)
    ir.symlink_to((pnr / "ir").resolve(), target_is_directory=True)
    shutil.copy(pnr / "folding.json", root / "folding.json")
    started = time.time()
    run_build(root, BuildConfig(ModelSource("checkpoint", (pnr / "model.pt").resolve()), board=Board.ULX3S_85F,
                                steps=("rtl", "estimate")))
    seconds = time.time() - started
    folding = load_folding(root / "folding.json")
    estimate = json.loads((root / "report" / "resources.json").read_text())
    modelled = {layer.name for layer in net.layers}
    layers = [row for row in estimate["layers"] if row["layer"] in modelled]
    routed = json.loads((pnr / "report" / "resources.json").read_text())
    whole = ecp5_resources(routed.get("yosys_cells", {}))
    ecp5_fit, ecp5_note = load_model(calibration_file("ecp5"))
    xcup_fit, _ = load_model(CALIBRATION_FILE)
    row: dict = {"build": str(pnr), "ecp5_fit": ecp5_note, "estimate_seconds": round(seconds, 1),
                 "estimate_tool": estimate["tool"]}
    for unit, key in KEYS:
        row[unit] = {
            "model_ecp5_fit": round(total(layer_resources(net, folding, ecp5_fit))[key]),
            "model_xcup_fit": round(total(layer_resources(net, folding, xcup_fit))[key]),
            "estimate_layers": round(sum(r[key] for r in layers)),
            "estimate_total": estimate[unit],
            "synth_ecp5_whole_top": whole[unit] if routed.get("yosys_cells") else None,
            "routed": routed.get(unit),
        }
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("builds", nargs="*", type=Path, default=[Path("build/pnr-default"), Path("build/pnr-tiny-pll")])
    ap.add_argument("--out", type=Path, default=Path("build/bench/ecp5_fit.json"))
    args = ap.parse_args(argv)
    missing = [str(b) for b in args.builds if not (b / "report" / "resources.json").is_file()]
    if missing:
        print(f"error: no routed report in {', '.join(missing)}: run the pnr step first (make pnr-default)",
              file=sys.stderr)
        return 2
    rows = [check(b) for b in args.builds]
    cols = ("model_ecp5_fit", "model_xcup_fit", "estimate_layers", "estimate_total", "synth_ecp5_whole_top", "routed")
    print(f"\n{'build':<22} {'unit':<5} " + " ".join(f"{c:>20}" for c in cols) + f" {'fit vs layers':>14}"
          f" {'fit vs top':>11}")
    for row in rows:
        for unit, _ in KEYS:
            v = row[unit]
            v["error_vs_layers_percent"] = round(100.0 * (v["model_ecp5_fit"] / v["estimate_layers"] - 1), 1)
            top = v["synth_ecp5_whole_top"]
            v["error_vs_whole_top_percent"] = round(100.0 * (v["model_ecp5_fit"] / top - 1), 1) if top else None
            print(f"{Path(row['build']).name:<22} {unit:<5} " + " ".join(
                f"{'-' if v[c] is None else f'{v[c]:,}':>20}" for c in cols)
                + f" {v['error_vs_layers_percent']:>13.1f}% {v['error_vs_whole_top_percent'] or 0:>10.1f}%")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": rows, "command": command_line(),
                                    "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, indent=1) + "\n")
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
