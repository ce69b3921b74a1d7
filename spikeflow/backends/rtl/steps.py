"""The RTL back end's build steps: rtl (generate), rtlsim (fast Verilator harness), cocotb (testbench).

Each reads the IR, folding.json, frames.npz and rtl/ of the build folder, and nothing else.
"""

from __future__ import annotations

import time
from typing import Any

from spikeflow.flow.builddir import BuildDir
from spikeflow.flow.config import BuildConfig
from spikeflow.flow.frames import FrameSet
from spikeflow.flow.report import write_report
from spikeflow.hw.cycles import cycle_limits, cycles_per_frame, estimate_cycles, plot_layer_cycles
from spikeflow.hw.folding import load_folding
from spikeflow.ir import load_network
from spikeflow.verify.compare import compare_heads
from spikeflow.verify.report import print_stages, record_stages


def step_rtl(build: BuildDir, cfg: BuildConfig) -> None:
    from spikeflow.backends.rtl.generator import generate_rtl
    from spikeflow.flow.steps.hardware import ensure_folding

    net = load_network(build.ir)
    rtl = generate_rtl(net, build.rtl, folding=ensure_folding(build, cfg), source=f"{build.ir_json}")
    print(f"   RTL: {rtl.out_dir} (top {rtl.top}, {len(rtl.sources)} sources, file list {rtl.filelist.name}); "
          f"s_axis {rtl.stream.in_width} bits, m_axis {rtl.stream.out_width} bits")


def step_equiv(build: BuildDir, cfg: BuildConfig) -> None:
    """Every neuron unit's lane sums, window slice select and spike count proven equal in their two formulations
    (spikeflow.backends.rtl.equivalence): report/equivalence.json. A difference, or a proof that did not finish,
    stops the build."""
    from spikeflow.backends.rtl.equivalence import (
        EquivalenceError,
        check_fires,
        check_lane_sums,
        check_popcount,
        check_slice_selects,
        fire_instances,
        lane_sum_instances,
        slice_select_instances,
    )
    from spikeflow.backends.rtl.synth import find_yosys, synth_jobs, yosys_version

    find_yosys()
    pairs = lane_sum_instances(build.rtl)
    jobs = synth_jobs()
    print(f"   {len(pairs)} neuron unit(s): lane sums, logic (synthesised) against word (fast harness), "
          f"{jobs} at a time", flush=True)
    started = time.time()
    popcount = check_popcount(build.rtl / "lib")
    print(f"     {'popcount idiom':<14} {'64 bits, against the sum of the bits':<58} {popcount.verdict}"
          f"{'  (cached)' if popcount.cached else f'  ({popcount.seconds:.0f} s)'}", flush=True)
    results = check_lane_sums([p for _, p in pairs], build.rtl / "lib", jobs=jobs)
    _print_proofs(pairs, results)
    slices = slice_select_instances(build.rtl)
    selects = check_slice_selects([p for _, p in slices], build.rtl / "lib")
    print(f"   {len(slices)} window slice select(s): one-hot AND-OR (synthesised) against part-select (fast harness), "
          f"by induction from reset", flush=True)
    _print_proofs(slices, selects)
    fires = fire_instances(build.rtl)
    counts = check_fires([p for _, p in fires], build.rtl / "lib")
    print(f"   {len(fires)} spike count(s): signed compares and half adders (synthesised) against offset-binary "
          f"compares added as integers (fast harness), for every input", flush=True)
    _print_proofs(fires, counts)
    proofs = (("lane sums'", pairs, results), ("window slice select's", slices, selects),
              ("spike count's", fires, counts))
    failed = [(name, r.params.label, what, r.verdict, r.detail) for what, units, done in proofs
              for (name, _), r in zip(units, done, strict=True) if r.verdict != "equivalent"]
    write_report(build.root, "equivalence", {
        "method": "per neuron unit: pipeline shape (plain flip-flops, no loop, every input-to-output path crossing "
                  "LATENCY of them) and combinational equivalence with the flip-flops as wires, lane by lane: "
                  "polynomials over the input bits (spikeflow.backends.rtl.algebraic), ABC iprove where those do "
                  "not decide; once, the popcount idiom against the sum of the bits (ABC iprove); per window slice "
                  "select, its one-hot invariant and the two selects' equality by temporal induction from reset "
                  "(Yosys sat -tempinduct); per spike count, the two counts' equality for every input (Yosys sat)",
        "tool": yosys_version(), "seconds": round(time.time() - started, 1),
        "popcount": popcount.as_dict(),
        "instances": [{"instance": name, **r.as_dict()} for (name, _), r in zip(pairs, results, strict=True)],
        "slice_selects": [{"instance": name, **r.as_dict()} for (name, _), r in zip(slices, selects, strict=True)],
        "spike_counts": [{"instance": name, **r.as_dict()} for (name, _), r in zip(fires, counts, strict=True)],
        "equivalent": not failed,
    })
    if failed:
        name, label, what, verdict, detail = failed[0]
        raise EquivalenceError(f"{name} ({label}): the {what} two formulations are {verdict}: {detail}")
    print(f"   all equivalent; report: {build.report / 'equivalence.json'}")


def _print_proofs(units: list[tuple[str, Any]], results: list[Any]) -> None:
    """One line per unit: instance, parameters, verdict, seconds (or cached)."""
    for (name, params), result in zip(units, results, strict=True):
        print(f"     {name:<14} {params.label:<58} {result.verdict}"
              f"{'  (cached)' if result.cached else f'  ({result.seconds:.0f} s)'}", flush=True)


def step_rtlsim(build: BuildDir, cfg: BuildConfig) -> None:
    """Frames back to back through the fast harness: stage rtlsim, and performance.json (steady-state cycles per
    frame over frames 1..N-1, which needs at least 3 frames; with fewer the timing is reported unavailable)."""
    from spikeflow.backends.rtl.generator import load_rtl
    from spikeflow.backends.rtl.rtlsim import MIN_TIMING_FRAMES, RtlSim
    from spikeflow.backends.rtl.tools import find_verilator
    from spikeflow.golden import run_counts_heads

    find_verilator()
    net = load_network(build.ir)
    images = FrameSet.load(build.frames).frames
    rtl = load_rtl(build.rtl, net)
    limit = cycle_limits(net, rtl.folding, len(images)).run
    sim = RtlSim(rtl)
    started = time.time()
    heads, done = sim.run_heads(images, max_cycles=limit)
    seconds = time.time() - started
    results = {"rtlsim": compare_heads("rtlsim", "golden", heads, run_counts_heads(net, images),
                                       [head.name for head in net.heads])}
    record_stages(build.root, results)
    rows = estimate_cycles(net, rtl.folding)
    estimate = cycles_per_frame(rows)
    timing = RtlSim.timing(done)
    steady = timing.cycles_per_frame if timing else None
    spec = cfg.board.spec
    write_report(build.root, "performance", {
        "part": spec.part, "board": cfg.board.value, "clock_mhz": cfg.clock, "clock_note": "assumed: no synthesis "
        "or timing closure has been run", "frames_simulated": len(images), "cycles_per_frame": steady,
        "latency_cycles": int(done[0]), "fps": cfg.clock * 1e6 / steady if steady else None,
        "estimated_cycles_per_frame": estimate, "done_cycles": done,
        "timing_note": None if timing else f"steady-state timing needs at least {MIN_TIMING_FRAMES} back-to-back "
        f"frames; {len(images)} were simulated",
        "simulated_cycles_per_second": sim.last_cycles / sim.last_seconds if sim.last_seconds else None,
        "wall_seconds": seconds, "layers": [vars(r) for r in rows], "folding": rtl.folding.as_dict(),
        "stream": rtl.stream.as_dict(),
    })
    plot_layer_cycles(rows, steady, build.report / "cycles.png", f"{net.name}: cycles per frame by stage")
    print_stages(results, len(images), build.report / "verify.json")
    if steady:
        print(f"   cycles per frame {steady:,.0f} (steady state over {len(images)} back-to-back frames, estimate "
              f"{estimate:,}), latency {done[0]:,} cycles, {cfg.clock * 1e6 / steady:,.0f} FPS at {cfg.clock:g} MHz "
              f"(assumed) on {spec.part}")
    else:
        print(f"   cycles per frame unavailable: {len(images)} frame(s) simulated, the steady state needs at least "
              f"{MIN_TIMING_FRAMES}")
    print(f"   report: {build.report / 'performance.json'}, chart: {build.report / 'cycles.png'}")


def step_cocotb(build: BuildDir, cfg: BuildConfig) -> None:
    """Frames through the cocotb network testbench, with random idle cycles and back-pressure: stage rtl_cocotb."""
    from spikeflow.backends.rtl.generator import load_rtl
    from spikeflow.backends.rtl.simulate import run_cocotb_network
    from spikeflow.golden import run_counts_heads

    net = load_network(build.ir)
    images = FrameSet.load(build.frames).frames
    rtl = load_rtl(build.rtl, net)
    per_frame = cycle_limits(net, rtl.folding, len(images)).per_frame
    started = time.time()
    v = run_cocotb_network(net, images, build.root, seed=cfg.seed, folding=load_folding(build.rtl / "folding.json"),
                           rtl_dir=build.rtl, ir_dir=build.ir, frame_timeout_cycles=per_frame)
    heads = v if isinstance(v, list) else [v]
    note = f"random idle and back-pressure (seed {cfg.seed}), {time.time() - started:.0f} s"
    results = {"rtl_cocotb": compare_heads("rtl_cocotb", "golden", heads, run_counts_heads(net, images),
                                           [head.name for head in net.heads], note=note)}
    record_stages(build.root, results)
    print_stages(results, len(images), build.report / "verify.json")


def step_estimate(build: BuildDir, cfg: BuildConfig) -> None:
    """Resources from Yosys: every distinct instance of rtl/ synthesised out of context for the board's family
    (cached; synth_ecp5 for an ECP5 board, whose report adds its native LUT4, FF, EBR and MULT18), summed per layer
    and in total: report/resources.json and report/resources.png. On an ECP5 board the pnr step writes its routed
    figures to report/resources.json too: the step that ran last wins, and `method` says which it was."""
    import json

    from spikeflow.backends.rtl.synth import (
        ECP5,
        SynthResult,
        default_cache,
        find_yosys,
        synth_instances,
        synth_jobs,
        yosys_version,
    )
    from spikeflow.hw.charts import plot_layer_resources

    spec = cfg.board.spec
    synth = "synth_ecp5" if spec.family == ECP5 else f"synth_xilinx -family {spec.family}"
    find_yosys()
    net = load_network(build.ir)
    instances = json.loads((build.rtl / "instances.json").read_text())
    total = SynthResult()
    layers: dict[str, SynthResult] = {}
    jobs = synth_jobs()
    print(f"   Yosys {synth}: {len(instances)} instances out of context, {jobs} at a time (cache {default_cache()})",
          flush=True)
    results = synth_instances(build.rtl, instances, spec.family, jobs=jobs)
    fresh = 0
    for inst, (result, cached) in zip(instances, results, strict=True):
        fresh += not cached
        print(f"     {inst['instance']:<22} {inst['module']:<22} LUT {result.LUT:>8,.0f}  FF {result.FF:>7,}  "
              f"BRAM36 {result.BRAM36:>5g}  DSP {result.DSP:>4}  levels {result.lut_levels:>2} LUT + "
              f"{result.carry_levels} carry ({result.max_logic_levels} with wide muxes)"
              f"{'  (cached)' if cached else f'  ({result.seconds:.0f} s)'}", flush=True)
        total.add(result)
        layers.setdefault(inst["layer"], SynthResult()).add(result)
    from spikeflow.backends.rtl.generator import load_rtl

    rows = {r.layer: r for r in estimate_cycles(net, load_rtl(build.rtl, net).folding)}
    capacity = spec.capacity.as_dict()
    used = {key: getattr(total, key) for key in capacity}
    utilization = {key: round(100.0 * used[key] / capacity[key], 2) if capacity[key] else None for key in capacity}
    fits = all(used[k] <= capacity[k] for k in capacity)
    native: dict = {}
    if spec.ecp5 is not None:  # the part's own units, as the pnr step reports them
        native_used = {"LUT4": int(total.LUT), "FF": total.FF, "EBR": int(round(2 * total.BRAM36)),
                       "MULT18": total.DSP}
        native = {**native_used, "native_capacity": spec.ecp5.capacity,
                  "native_utilization_percent": {k: round(100.0 * v / spec.ecp5.capacity[k], 2)
                                                 for k, v in native_used.items()}}
        capacity = {**spec.ecp5.capacity, **capacity}
    layer_rows = [{"layer": name, "cycles": rows[name].cycles if name in rows else None,
                   **{k: v for k, v in r.as_dict().items() if k not in ("cells", "seconds")}}
                  for name, r in layers.items()]
    write_report(build.root, "resources", {
        "part": spec.part, "family": spec.family, "board": cfg.board.value, "tool": yosys_version(),
        "method": f"each distinct instance synthesised out of context with {synth.split()[0]} -flatten, summed",
        **used, **native, "CARRY": total.CARRY, "capacity": capacity, "utilization_percent": utilization,
        "fits": fits, "max_logic_levels": total.max_logic_levels, "lut_levels": total.lut_levels,
        "carry_levels": total.carry_levels, "levels_note": "deepest paths between registers, each a maximum over "
        "all paths: lut_levels counts LUTs, carry_levels carry chains, max_logic_levels also the wide muxes "
        "(MUXF7/8/9; PFUMX and L6MUX21 on an ECP5), as Vivado counts logic levels",
        "layers": layer_rows,
        "instances": [{"instance": inst["instance"], "module": inst["module"], "layer": inst["layer"],
                       **{k: v for k, v in result.as_dict().items() if k not in ("cells", "seconds")}}
                      for inst, (result, _) in zip(instances, results, strict=True)],
        "instances_synthesised": fresh, "instances_cached": len(instances) - fresh,
        "yosys_seconds": total.seconds,
    })
    plot_layer_resources(layer_rows, build.report / "resources.png", f"{net.name} on {spec.part}")
    if native:
        print(f"   {spec.part}: LUT4 {native['LUT4']:,} ({native['native_utilization_percent']['LUT4']}%), FF "
              f"{native['FF']:,} ({native['native_utilization_percent']['FF']}%), EBR {native['EBR']} "
              f"({native['native_utilization_percent']['EBR']}%), MULT18 {native['MULT18']}: "
              f"{'fits' if fits else 'DOES NOT FIT'}; deepest path {total.lut_levels} LUT levels + "
              f"{total.carry_levels} carry chain(s) ({total.max_logic_levels} levels with wide muxes)")
    else:
        print(f"   {spec.part}: LUT {total.LUT:,.0f} ({utilization['LUT']}%), FF {total.FF:,} ({utilization['FF']}%), "
              f"BRAM36 {total.BRAM36:g} ({utilization['BRAM36']}%), URAM {total.URAM}, DSP {total.DSP} "
              f"({utilization['DSP']}%): {'fits' if fits else 'DOES NOT FIT'}; deepest path {total.lut_levels} LUT "
              f"levels + {total.carry_levels} carry chain(s) ({total.max_logic_levels} levels with wide muxes)")
    print(f"   report: {build.report / 'resources.json'}, chart: {build.report / 'resources.png'}")
