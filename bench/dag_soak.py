"""Soak test of a DAG network in the fast Verilator harness: many back-to-back frames at the autofolded folding and
at deliberately unbalanced ones, checked for deadlock, bit-exactness and cycles per frame.

    python bench/dag_soak.py [--frames 1000] [--size 32] [--seed 0] [--out build/bench/dag_soak.json]

The networks are the first random DAGs (spikeflow.ir.random.random_dag_network, seeds from --seed on) with one head
and with two, each with a residual add (its shortcut a fork), an upsampler and a concat, at an input of --size x
--size. Each runs at:

- `autofold`: spikeflow.hw.autofold at the highest frame rate the architecture allows on the ZCU104 (the cycle
  budget = the longest walk over a padded raster, so every conv and head on every branch keeps pace with it);
- `slow-lateral`: the autofolded folding with one conv of the concat's lateral branch (from the fork of the fine
  features through the pool, the deep conv and the 1x1 conv to the upsampler) folded to about 8x the frame
  interval: the concat's other input, the fine branch, would run far ahead;
- `slow-residual`: the same for a conv of the residual block's main branch (the shortcut branch waits in its FIFO).

Each runs --frames frames back to back through one harness run (a deadlock is the harness's cycle limit: the
frames do not all come out). Every frame's head values are compared with the golden model (count mode), and the
steady-state cycles per frame (frames 1..N-1) with the cycle model's estimate (spikeflow.hw.cycles), which must
agree within 5 %. The figures are printed and written to --out. Exit status 1 when any check fails.

Both a single-head DAG and a two-head one (its heads on the one output stream, spikeflow_head_merge) run, each at
the three foldings.
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
from spikeflow.backends.rtl.rtlsim import RtlSim
from spikeflow.errors import DeviceTimeoutError
from spikeflow.golden import run_counts_heads
from spikeflow.hw.autofold import fold_to_target
from spikeflow.hw.boards import Board
from spikeflow.hw.cycles import cycles_per_frame, estimate_cycles
from spikeflow.hw.folding import Folding, LayerFolding, conv_cycles, longest_walk, window_elems
from spikeflow.hw.resources import model_for
from spikeflow.ir import FewdIFConcat, FewdIFConv, FewdIFNetwork, FewdIFUpsample
from spikeflow.ir.random import random_dag_network

BOARD = Board.ZCU104
CYCLE_TOLERANCE = 0.05  # measured cycles per frame within 5 % of the estimate
SLOWDOWN = 8  # the unbalanced foldings: one branch's conv at about this many times the frame interval


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def soak_network(seed: int, size: int, two_heads: bool = False) -> tuple[FewdIFNetwork, int]:
    """The first random DAG (one head, or two) from `seed` on with a residual add, an upsampler and a concat."""
    for s in range(seed, seed + 200):
        net = random_dag_network(np.random.default_rng(s), input_shape=(3, size, size), two_heads=two_heads,
                                 name=f"dag-soak-{s}")
        kinds = {type(layer) for layer in net.layers}
        if {FewdIFConcat, FewdIFUpsample} <= kinds and any(
                isinstance(layer, FewdIFConv) and layer.has_residual for layer in net.layers):
            return net, s
    raise SystemExit(f"error: no random DAG with a residual, an upsampler and a concat in seeds {seed}..{seed + 199}")


def slowed(net: FewdIFNetwork, folding: Folding, candidates: list[str], factor: int) -> tuple[str, Folding]:
    """`folding` with one of the conv layers `candidates` (one branch's convs) at the folding whose cycles per frame
    come closest to `factor` times the folding's frame interval (timesteps in parallel): the candidate that gets
    closest."""
    goal = factor * cycles_per_frame(estimate_cycles(net, folding))
    best: tuple[float, str, LayerFolding] | None = None
    for name in candidates:
        layer = next(layer for layer in net.layers if layer.name == name)
        for f in (LayerFolding(pe, simd, True) for pe in _divisors(layer.out_channels)
                  for simd in _divisors(window_elems(layer))):
            gap = abs(conv_cycles(layer, f) - goal)
            if best is None or gap < best[0]:
                best = (gap, name, f)
    assert best is not None
    return best[1], Folding({**folding.layers, best[1]: best[2]}, folding.pixels_per_beat)


def branch_convs(net: FewdIFNetwork, start: str, stop: str) -> list[str]:
    """The conv layers of one branch: walking back from tensor `start` through each layer's first input until the
    tensor `stop` (the fork the branch leaves from)."""
    by_name = {layer.name: (layer, inputs) for layer, inputs in net.layer_inputs()}
    out, name = [], start
    while name in by_name and name != stop:
        layer, inputs = by_name[name]
        if isinstance(layer, FewdIFConv):
            out.append(name)
        name = inputs[0]
    return out


def run_config(net: FewdIFNetwork, label: str, folding: Folding, frames: np.ndarray, golden: list[np.ndarray],
               out_dir: Path) -> dict:
    build = generate_rtl(net, out_dir / label / "rtl", folding)
    sim = RtlSim(build, jobs=2)
    started = time.perf_counter()
    sim.compile()
    compile_s = time.perf_counter() - started
    estimate = build.estimated_cycles_per_frame
    row: dict = {"config": label, "folding": folding.as_dict()["layers"], "frames": len(frames),
                 "estimated_cycles_per_frame": estimate, "harness_build_seconds": round(compile_s, 1)}
    started = time.perf_counter()
    try:
        heads, done = sim.run_heads(frames)
    except DeviceTimeoutError as exc:
        row.update(deadlock=True, error=str(exc), passed=False)
        return row
    row["run_seconds"] = round(time.perf_counter() - started, 1)
    per_frame = sum((v != g).reshape(len(frames), -1).sum(axis=1) for v, g in zip(heads, golden, strict=True))
    timing = RtlSim.timing(done)
    measured = timing.cycles_per_frame
    error = measured / estimate - 1
    row.update(deadlock=False, frames_out=len(done), frames_checked=len(frames),
               mismatching_values=int(per_frame.sum()), mismatching_frames=int((per_frame > 0).sum()),
               measured_cycles_per_frame=round(measured, 2), cycle_error_percent=round(100 * error, 3),
               latency_cycles=timing.latency, simulated_cycles=sim.last_cycles,
               simulated_cycles_per_cpu_second=round(sim.last_cycles / sim.last_cpu_seconds)
               if sim.last_cpu_seconds > 0 else None)
    row["passed"] = (len(done) == len(frames) and row["mismatching_values"] == 0
                     and abs(error) <= CYCLE_TOLERANCE)
    return row


def soak(args: argparse.Namespace, two_heads: bool) -> dict:
    """Every folding of the soak for the random DAG with one head or two."""
    net, seed = soak_network(args.seed, args.size, two_heads)
    spec = BOARD.spec
    walk = longest_walk(net)
    plan = fold_to_target(net, spec.clock_mhz, spec.clock_mhz * 1e6 / (walk + 0.5), spec.capacity,
                          model_for(spec.family)[0])
    up = next(layer for layer in net.layers if isinstance(layer, FewdIFUpsample))
    concat = next(layer for layer in net.layers if isinstance(layer, FewdIFConcat) and up.name in layer.inputs)
    fine = next(name for name in concat.inputs if name != up.name)  # the fork the lateral branch starts from
    residual = next(layer for layer in net.layers if isinstance(layer, FewdIFConv) and layer.has_residual)
    lateral_layer, lateral = slowed(net, plan.folding, branch_convs(net, up.inputs[0], fine), SLOWDOWN)
    residual_layer, main = slowed(net, plan.folding, branch_convs(net, residual.inputs[0], residual.inputs[1]),
                                  SLOWDOWN)
    configs = {"autofold": plan.folding, "slow-lateral": lateral, "slow-residual": main}
    slowed_layers = {"slow-lateral": lateral_layer, "slow-residual": residual_layer}
    print(f"\nnetwork: random_dag_network seed {seed}, {len(net.heads)} head(s), input {list(net.input_shape)}, layers "
          + ", ".join(f"{layer.name}({layer.kind}{'+res' if getattr(layer, 'has_residual', False) else ''})"
                      for layer in net.layers))
    print(f"autofold on {BOARD.value} at {plan.target_fps:,.0f} FPS: budget {plan.budget_cycles:,} cycles, "
          f"estimate {plan.estimated_cycles:,}, fits {plan.fits}, target met {plan.target_met}")
    frames = np.random.default_rng(seed + 1000).integers(0, 256, size=(args.frames, *net.input_shape),
                                                          dtype=np.uint8)
    started = time.perf_counter()
    golden = run_counts_heads(net, frames)
    print(f"golden model: {args.frames} frames in {time.perf_counter() - started:.1f} s")
    rows = []
    for label, folding in configs.items():
        row = run_config(net, label, folding, frames, golden, args.out.parent / "dag-soak" / net.name)
        row["slowed_layer"] = slowed_layers.get(label)
        rows.append(row)
        if label in slowed_layers:
            print(f"{label}: {slowed_layers[label]} folded to {folding[slowed_layers[label]]}")
        if row["deadlock"]:
            print(f"{label:<14} DEADLOCK (estimate {row['estimated_cycles_per_frame']:,}): {row['error']}")
            continue
        print(f"{label:<14} {row['frames_out']} frames out, every frame checked: {row['mismatching_values']} "
              f"mismatching values; cycles per frame {row['measured_cycles_per_frame']:,.1f} measured, "
              f"{row['estimated_cycles_per_frame']:,} estimated ({row['cycle_error_percent']:+.2f} %); "
              f"{row['simulated_cycles']:,} cycles in {row['run_seconds']} s; "
              f"{'PASS' if row['passed'] else 'FAIL'}")
    return {"network_seed": seed, "heads": [h.name for h in net.heads], "input_shape": list(net.input_shape),
            "autofold": {"board": BOARD.value, "target_fps": plan.target_fps, "budget_cycles": plan.budget_cycles,
                         "estimated_cycles_per_frame": plan.estimated_cycles, "fits": plan.fits},
            "configs": rows}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=1000)
    ap.add_argument("--size", type=int, default=32, help="input height and width (a multiple of 4)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("build/bench/dag_soak.json"))
    args = ap.parse_args(argv)
    if args.frames < 3 or args.size % 4:
        ap.error("--frames must be at least 3 and --size a multiple of 4")
    results = [soak(args, two_heads) for two_heads in (False, True)]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    passed = all(r["passed"] for result in results for r in result["configs"])
    args.out.write_text(json.dumps({
        "frames": args.frames, "frames_checked": "every frame, every head value, against the golden model (count mode)",
        "networks": results, "passed": passed, "commit": commit, "date": time.strftime("%Y-%m-%d %H:%M"),
    }, indent=1) + "\n")
    print(f"figures: {args.out}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
