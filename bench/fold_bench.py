"""The folding benchmark: measured cycles, FPS and Yosys resources of the default and tiny detectors folded for
their targets, written to build/bench/summary.json (keys in REPORTS.md) and printed as one table.

    python bench/fold_bench.py [--frames 3] [--rows default-zcu104-1600,...] [--parallel 2]

Rows: default on ZCU104 at 200 MHz for 1,600 and 3,000 FPS; default on PYNQ-Z2 at 100 MHz, the best FPS that fits;
tiny on ZCU104 at its default folding; the two-scale detector (residual blocks, two heads) on ZCU104 at 200 MHz for
3,000 FPS. Each row is a build folder under build/bench/ that runs the flow's steps
fold, rtl, estimate, rtlsim and report on the model's IR (exported and converted once per model). Rows are
built --parallel at a time (default: one per core), each in its own process with its Yosys jobs sharing the
cores and its log in build/bench/<row>.log; the heaviest rows come first in ROWS.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from spikeflow.flow.builddir import BuildDir
from spikeflow.flow.config import BuildConfig, ModelSource
from spikeflow.flow.report import command_line, read_report
from spikeflow.flow.runner import run_build
from spikeflow.hw.boards import Board
from spikeflow.hw.folding import load_folding

BENCH = Path("build/bench")
HAND_OFF = ("ir", "frames.npz", "model.onnx", "model_info.json")


@dataclass(frozen=True)
class Row:
    name: str
    model: str
    checkpoint: str
    board: Board
    clock_mhz: float
    target_fps: float | None  # None: the default folding (one input pixel per cycle)


ROWS = (  # heaviest synthesis first: rows run in this order, --parallel at a time
    Row("twoscale-zcu104-3000", "twoscale", "model/twoscale.pt", Board.ZCU104, 200.0, 3000.0),
    Row("tiny-zcu104-default", "tiny", "model/tiny.pt", Board.ZCU104, 200.0, None),
    Row("default-pynq-z2-best", "default", "model/default.pt", Board.PYNQ_Z2, 100.0, 1e9),
    Row("default-zcu104-3000", "default", "model/default.pt", Board.ZCU104, 200.0, 3000.0),
    Row("default-zcu104-1600", "default", "model/default.pt", Board.ZCU104, 200.0, 1600.0),
)


def model_build(model: str, checkpoint: str, frames: int) -> BuildDir:
    """build/bench/<model>: exported, converted and with its frames, once."""
    build = BuildDir(BENCH / model)
    if not (build.ir_json.is_file() and build.frames.is_file()):
        run_build(build.root, BuildConfig(ModelSource("checkpoint", Path(checkpoint).resolve()), frames=frames,
                                          steps=("export", "frames", "convert")))
    return build


def run_row(row: Row, frames: int, summarize: bool = False) -> dict:
    build = BuildDir(BENCH / row.name)
    if not summarize:
        build_row(row, build, frames)
    return row_summary(row, build)


def build_row(row: Row, build: BuildDir, frames: int) -> None:
    source = model_build(row.model, row.checkpoint, frames)
    build.root.mkdir(parents=True, exist_ok=True)
    for name in HAND_OFF:
        src, dst = source.root / name, build.root / name
        if dst.exists():
            shutil.rmtree(dst) if dst.is_dir() else dst.unlink()
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dst)
    cfg = BuildConfig(ModelSource("checkpoint", Path(row.checkpoint).resolve()), board=row.board,
                      clock_mhz=row.clock_mhz, target_fps=row.target_fps, frames=frames,
                      steps=("fold", "rtl", "estimate", "rtlsim", "report"))
    run_build(build.root, cfg)


def row_summary(row: Row, build: BuildDir) -> dict:
    perf = read_report(build.root, "performance")
    res = read_report(build.root, "resources")
    stage = read_report(build.root, "verify")["stages"]["rtlsim"]
    fold = read_report(build.root, "folding")
    capacity = res["capacity"]
    lanes = sum(f.pe * f.simd for f in load_folding(build.rtl / "folding.json").layers.values())
    neuron_lut = sum(i["LUT"] for i in res["instances"] if i["module"] in ("spikeflow_neuron", "spikeflow_head"))
    return {
        "name": row.name, "model": row.model, "board": row.board.value, "part": row.board.spec.part,
        "clock_mhz": row.clock_mhz, "target_fps": row.target_fps if row.target_fps and row.target_fps < 1e8 else
        ("best that fits" if row.target_fps else "default folding"),
        "target_met": fold.get("target_met"), "fold_notes": fold.get("notes", []),
        "cycles_per_frame": perf["cycles_per_frame"], "estimated_cycles_per_frame": perf["estimated_cycles_per_frame"],
        "fps": perf["fps"], "latency_us": perf["latency_cycles"] / row.clock_mhz, "frames": stage["frames"],
        "mismatches": stage["mismatches"], **{k: res[k] for k in capacity}, "capacity": capacity,
        "utilization_percent": res["utilization_percent"], "fits": res["fits"], "lut_levels": res["lut_levels"],
        "max_logic_levels": res["max_logic_levels"], "carry_levels": res["carry_levels"], "lanes": lanes,
        "lut_per_lane_neuron": neuron_lut / lanes, "lut_per_lane_total": res["LUT"] / lanes,
        "finn": finn_row(row.name),
    }


def finn_row(name: str) -> dict:
    """FINN's estimate for the same row (bench/finn_peer.py, `make finn`), or why there is none."""
    path = BENCH / "finn" / name / "finn.json"
    if not path.is_file():
        return {"error": f"no FINN run: {path} is missing (run 'make finn')"}
    doc = json.loads(path.read_text())
    keys = ("cycles_per_frame", "LUT", "BRAM36", "DSP", "estimated_fps", "meets_target_fps")
    if "error" not in doc:
        return {k: doc.get(k) for k in keys}
    row = {"error": doc["error"], "failed_step": doc.get("failed_step"), "steps_done": doc.get("steps_done")}
    fixed = doc.get("with_workaround", {})
    if "cycles_per_frame" in fixed:
        row["with_workaround"] = {"workarounds": fixed.get("workarounds"), **{k: fixed.get(k) for k in keys}}
    return row


def _finn_cell(finn: dict) -> str:
    def figures(doc: dict) -> str:
        return f"{doc['cycles_per_frame']:,} / {doc['LUT']:,.0f} / {doc['BRAM36']:g}"

    if "error" not in finn:
        return figures(finn)
    if not finn.get("failed_step"):
        return str(finn["error"])[:60]  # no FINN run for this row
    cell = f"fails in {finn.get('failed_step')}: {str(finn['error'])[:50]}"
    return cell + (f"; with a bias-reshape workaround {figures(finn['with_workaround'])}"
                   if "with_workaround" in finn else "")


def build_rows_parallel(rows: list[Row], frames: int, parallel: int) -> list[str]:
    """Build `rows` in child processes (this script with --rows NAME --parallel 1 --no-summary), `parallel` at a
    time, the cores shared among their Yosys jobs; returns the names of the rows that failed."""
    for model, checkpoint in dict.fromkeys((r.model, r.checkpoint) for r in rows):
        model_build(model, checkpoint, frames)  # once, before the rows copy it
    env = {**os.environ, "SPIKEFLOW_SYNTH_JOBS": str(max(1, (os.cpu_count() or 1) // parallel))}
    todo, running, failed = list(rows), {}, []
    while todo or running:
        while todo and len(running) < parallel:
            row = todo.pop(0)
            log = BENCH / f"{row.name}.log"
            cmd = [sys.executable, __file__, "--rows", row.name, "--frames", str(frames), "--parallel", "1",
                   "--no-summary"]
            with log.open("w") as out:
                running[row.name] = (subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env),
                                     time.time(), log)
            print(f"== bench row {row.name}: started (log {log})", flush=True)
        time.sleep(2)
        for name, (proc, t0, log) in list(running.items()):
            if proc.poll() is None:
                continue
            del running[name]
            if proc.returncode == 0:
                print(f"== bench row {name}: done in {time.time() - t0:,.0f} s", flush=True)
            else:
                failed.append(name)
                tail = "\n".join(log.read_text().splitlines()[-15:])
                print(f"== bench row {name}: FAILED (exit {proc.returncode}), end of {log}:\n{tail}", flush=True)
    return failed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=3, help="frames back to back in the harness (>= 3)")
    ap.add_argument("--rows", help="comma-separated row names (default: all)")
    ap.add_argument("--parallel", type=int, default=os.cpu_count() or 1,
                    help="rows built at a time, each in its own process (default: one per core)")
    ap.add_argument("--summarize", action="store_true",
                    help="build nothing: summarise the rows' existing reports (after a run was interrupted)")
    ap.add_argument("--no-summary", action="store_true", help=argparse.SUPPRESS)  # a child of --parallel
    args = ap.parse_args(argv)
    if args.frames < 3:
        ap.error("--frames must be at least 3: the steady state is measured over frames 1..N-1")
    if args.parallel < 1:
        ap.error("--parallel must be at least 1")
    wanted = set(args.rows.split(",")) if args.rows else {r.name for r in ROWS}
    unknown = wanted - {r.name for r in ROWS}
    if unknown:
        ap.error(f"unknown row(s) {', '.join(sorted(unknown))}; rows: {', '.join(r.name for r in ROWS)}")
    selected = [row for row in ROWS if row.name in wanted]
    rows, started = [], time.time()
    BENCH.mkdir(parents=True, exist_ok=True)
    if not args.summarize and args.parallel > 1 and len(selected) > 1:
        failed = build_rows_parallel(selected, args.frames, min(args.parallel, len(selected)))
        if failed:
            print(f"bench rows failed: {', '.join(failed)}", file=sys.stderr)
            return 1
        rows = [run_row(row, args.frames, summarize=True) for row in selected]
    else:
        for row in selected:
            print(f"== bench row {row.name}", flush=True)
            rows.append(run_row(row, args.frames, args.summarize))
    if args.no_summary:
        return 0
    (BENCH / "summary.json").write_text(json.dumps({"rows": rows, "seconds": round(time.time() - started, 1),
                                                    "command": command_line()}, indent=2) + "\n")
    head = f"{'row':<22} {'cycles':>8} {'est':>8} {'FPS':>7} {'lat us':>7} {'mism':>4} {'LUT':>8} {'FF':>8} " \
           f"{'BRAM36':>7} {'DSP':>5} {'lanes':>6} {'LUT/lane':>8} {'levels':>9}  FINN (cycles, LUT, BRAM36)"
    print(head)
    for r in rows:
        print(f"{r['name']:<22} {r['cycles_per_frame']:>8,.0f} {r['estimated_cycles_per_frame']:>8,} {r['fps']:>7,.0f} "
              f"{r['latency_us']:>7,.0f} {r['mismatches']:>4} {r['LUT']:>8,.0f} {r['FF']:>8,} {r['BRAM36']:>7g} "
              f"{r['DSP']:>5} {r['lanes']:>6,} {r['lut_per_lane_neuron']:>8.1f} "
              f"{r['lut_levels']:>3} + {r['carry_levels']}c  {_finn_cell(r['finn'])}")
    print(f"summary: {BENCH / 'summary.json'}")
    return 0 if all(r["mismatches"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
