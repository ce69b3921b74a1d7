"""Hardware-level steps shared by every back end: fold (folding.json) and report (the build's summary)."""

from __future__ import annotations

from typing import Any

from spikeflow.flow.builddir import BuildDir
from spikeflow.flow.config import BuildConfig
from spikeflow.flow.report import read_report, write_report
from spikeflow.hw.cycles import cycles_per_frame, estimate_cycles, pixels_per_beat_note
from spikeflow.hw.folding import Folding, default_folding, load_folding, resolve_folding
from spikeflow.ir import FewdIFNetwork, load_network


def ensure_folding(build: BuildDir, cfg: BuildConfig) -> Folding:
    """The build's folding.json; when the fold step has not written it, the fold step runs first (and says so)."""
    if not build.folding.is_file():
        print(f"   {build.folding} is missing: running the fold step first")
        step_fold(build, cfg)
    return load_folding(build.folding)


def step_fold(build: BuildDir, cfg: BuildConfig) -> None:
    """folding.json: the config's folding file (completed and checked), else the default folding (every layer
    keeps up with one input pixel per cycle). Prints the estimated cycles per stage and the FPS at the clock."""
    net = load_network(build.ir)
    plan = None
    if cfg.folding:
        folding = resolve_folding(net, load_folding(cfg.folding), where=str(cfg.folding))
        origin = str(cfg.folding)
    elif cfg.target_fps:
        from spikeflow.hw.autofold import fold_to_target
        from spikeflow.hw.resources import model_for

        model, note = model_for(cfg.board.spec.family)
        plan = fold_to_target(net, cfg.clock, cfg.target_fps, cfg.board.spec.capacity, model)
        folding = plan.folding
        origin = (f"automatic folding for {cfg.target_fps:,.0f} FPS at {cfg.clock:g} MHz on {cfg.board.spec.part} "
                  f"(budget {plan.budget_cycles:,} cycles per frame)")
        write_report(build.root, "folding", {**plan.as_dict(), "resource_model": note})
    else:
        folding = default_folding(net)
        origin = "default folding (one input pixel per cycle)"
    folding.save(build.folding)
    rows = estimate_cycles(net, folding)
    estimate = cycles_per_frame(rows)
    fps = cfg.clock * 1e6 / estimate
    print(f"   {origin} -> {build.folding}")
    for row in rows:
        f = folding.layers.get(row.layer)
        knobs = f"PE={f.pe} SIMD={f.simd} {'time-parallel' if f.time_parallel else 'time-serial'}" if f else ""
        print(f"     {row.layer:<12} {row.cycles:>10,} cycles/frame  {knobs}")
    print(f"   estimated {estimate:,} cycles per frame: {fps:,.0f} FPS at {cfg.clock:g} MHz on {cfg.board.value}")
    for note in plan.notes if plan else ():
        print(f"   note: {note}")
    ppb_note = pixels_per_beat_note(net, folding)
    if ppb_note:
        print(f"   note: {ppb_note}")
    if plan:
        print("   estimated resources (analytical model): " + ", ".join(f"{k} {v:,.0f}" for k, v in
                                                                    plan.resources.items())
              + f"; {'fits' if plan.fits else 'does not fit'} the part")
    elif cfg.target_fps and fps < cfg.target_fps:
        print(f"   note: the target of {cfg.target_fps:,.0f} FPS is not met by the folding file {cfg.folding}")


def step_report(build: BuildDir, cfg: BuildConfig) -> None:
    """report/summary.json: the build's figures in one place, and a printed table. With several heads:
    `output_shapes` lists every head's shape (in stream order) and `output_shape` is null."""
    net = load_network(build.ir)
    verify = read_report(build.root, "verify").get("stages", {})
    perf = read_report(build.root, "performance")
    model = read_report(build.root, "model")
    shapes = [list(s) for s in net.output_shapes]
    resources = _estimated_resources(build, cfg, net)
    summary = {
        "name": build.name, "network": net.name, "input_shape": list(net.input_shape),
        "output_shape": shapes[0] if len(shapes) == 1 else None, "output_shapes": shapes, "heads": len(shapes),
        "timesteps": net.timesteps, "board": cfg.board.value,
        "part": cfg.board.spec.part, "clock_mhz": cfg.clock, "target_fps": cfg.target_fps,
        "map50_qat": model.get("map50_qat"), "map50_dataset": model.get("dataset"),
        "stages": {name: {"frames": s.get("frames"), "mismatches": s.get("mismatches"),
                          "compared_to": s.get("compared_to")} for name, s in verify.items()},
        "cycles_per_frame": perf.get("cycles_per_frame"),
        "estimated_cycles_per_frame": perf.get("estimated_cycles_per_frame"),
        "fps": perf.get("fps"), "latency_cycles": perf.get("latency_cycles"),
        "mismatches": sum(int(s.get("mismatches", 0)) for s in verify.values()),
        "estimated_resources": resources,
    }
    write_report(build.root, "summary", summary)
    outputs = " + ".join(str(s) for s in shapes)
    print(f"   {build.name}: {net.name} {list(net.input_shape)} -> {outputs}"
          f"{f' ({len(shapes)} heads, in stream order)' if len(shapes) > 1 else ''}, T={net.timesteps}, "
          f"{cfg.board.value} ({cfg.board.spec.part}) at {cfg.clock:g} MHz")
    for name, s in verify.items():
        verdict = "ok" if s.get("mismatches") == 0 else "MISMATCH"
        print(f"     {name:<14} vs {s.get('compared_to', '?'):<10} {s.get('frames', 0):>4} frames "
              f"{s.get('mismatches', '?'):>6} mismatches  {verdict}")
    if perf.get("cycles_per_frame"):
        print(f"     cycles per frame {perf['cycles_per_frame']:,.0f} measured (estimate "
              f"{perf['estimated_cycles_per_frame']:,}), {perf['fps']:,.0f} FPS at {perf['clock_mhz']:g} MHz "
              f"(assumed clock: no synthesis or timing closure yet)")
    if resources:
        print("     estimated resources (analytical model, not synthesised): " + ", ".join(
            f"{k} {v:,.0f} of {resources['capacity'][k]:,}" for k, v in resources["total"].items()))
    print(f"   report: {build.report / 'summary.json'}")


def _estimated_resources(build: BuildDir, cfg: BuildConfig, net: FewdIFNetwork) -> dict[str, Any] | None:
    """The analytical resource estimate of the build's folding (every layer, the DAG units and, with several heads,
    the head merge) against the part's capacity; None when the build has no folding.json yet."""
    from spikeflow.hw.resources import layer_resources, model_for, total

    if not build.folding.is_file():
        return None
    spec = cfg.board.spec
    model, note = model_for(spec.family)
    rows = layer_resources(net, resolve_folding(net, load_folding(build.folding), where=str(build.folding)), model)
    cap = spec.capacity.as_dict()
    return {"total": {k: round(v, 1) for k, v in total(rows).items()},
            "capacity": {k: cap.get(k, 0) for k in ("LUT", "FF", "BRAM36", "DSP")}, "model": note}
