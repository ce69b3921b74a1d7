"""The rows of `make pnr`: each routed build's report/pnr.json with its model and P&R seconds, into one table.

    python bench/pnr_table.py BUILD [BUILD ...] --out build/bench/pnr.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from spikeflow.flow.report import command_line


def row(build: Path) -> dict:
    pnr = build / "report" / "pnr.json"
    if not pnr.is_file():
        raise SystemExit(f"error: {pnr} not found: run the pnr step on {build} first")
    doc = json.loads(pnr.read_text())
    model = json.loads((build / "report" / "model.json").read_text()).get("model") \
        if (build / "report" / "model.json").is_file() else build.name
    return {"build": str(build), "model": model, **{k: v for k, v in doc.items() if k not in ("command",)},
            "seconds": round(sum(doc.get("seconds", {}).values()), 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("builds", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, default=Path("build/bench/pnr.json"))
    args = ap.parse_args(argv)
    rows = [row(b) for b in args.builds]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": rows, "command": command_line()}, indent=2) + "\n")
    for r in rows:
        print(f"{r['model']} on {r['part']}: Fmax {r['fmax_mhz']} MHz, {r['cycles_per_frame']:,} cycles per frame, "
              f"{r['fps']:,.1f} FPS; LUT4 {r['LUT4']:,}, FF {r['FF']:,}, EBR {r['EBR']}, MULT18 {r['MULT18']} "
              f"({r['seconds']} s)")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
