"""The HLS back end's build step: generate hls/, C-simulate it with g++ against the golden model (stage
hls_csim), and run Vitis HLS (csim, csynth, cosim, export) when `vitis_hls` is on PATH.

Reads the IR, folding.json and frames.npz of the build folder, and nothing else.
"""

from __future__ import annotations

import time

from spikeflow.errors import StepError
from spikeflow.flow.builddir import BuildDir
from spikeflow.flow.config import BuildConfig
from spikeflow.flow.frames import FrameSet
from spikeflow.flow.report import write_report
from spikeflow.ir import load_network
from spikeflow.verify.compare import compare, compare_heads
from spikeflow.verify.report import print_stages, record_stages

SKIPPED = "synthesis skipped: vitis_hls was not found on PATH (Vivado/Vitis HLS not installed); C-simulation only"


def step_hls(build: BuildDir, cfg: BuildConfig) -> None:
    from spikeflow.backends.hls.csim import HlsCsim
    from spikeflow.backends.hls.generator import HlsTarget, generate_hls
    from spikeflow.backends.hls.vitis import csynth_report_path, find_vitis_hls, parse_csynth_report, run_vitis_hls
    from spikeflow.flow.steps.hardware import ensure_folding
    from spikeflow.golden import run_counts_heads

    net = load_network(build.ir)
    hls = generate_hls(net, build.hls, folding=ensure_folding(build, cfg), target=HlsTarget.of(cfg.board, cfg.clock),
                       source=f"{build.ir_json}")
    print(f"   HLS: {hls.out_dir} (top {hls.top}, Vitis HLS script {hls.script.name}); s_axis {hls.stream.in_width} "
          f"bits, m_axis {hls.stream.out_width} bits; {hls.target.part} at {hls.target.clock_mhz:g} MHz")
    images = FrameSet.load(build.frames).frames
    hls.frames_file.write_bytes(hls.stream.pack_frames(images))
    sim = HlsCsim(hls)
    started = time.time()
    v = sim.run_heads(images)
    wall = time.time() - started
    fps = len(images) / sim.last_seconds if sim.last_seconds else None
    cpu_fps = len(images) / sim.last_cpu_seconds if sim.last_cpu_seconds else None
    compiled = (f"compiled in {sim.last_compile_seconds:.0f} s" if sim.last_compile_seconds
                else "cached build reused")
    result = compare_heads("hls_csim", "golden", v, run_counts_heads(net, images), [head.name for head in net.heads],
                           note=f"g++ C-simulation, {compiled}" + (f", {len(v)} heads" if len(v) > 1 else ""))
    result.extra |= {"csim_fps": fps, "csim_cpu_fps": cpu_fps, "csim_seconds": sim.last_seconds,
                    "csim_cpu_seconds": sim.last_cpu_seconds, "compile_seconds": sim.last_compile_seconds,
                    "wall_seconds": wall}
    record_stages(build.root, {"hls_csim": result})
    print_stages({"hls_csim": result}, len(images), build.report / "verify.json")
    if fps and cpu_fps:
        print(f"   C-simulation speed: {fps:,.1f} frames/s wall, {cpu_fps:,.1f} frames/s CPU time ({len(images)} "
              f"frames in {sim.last_seconds:.2f} s wall, {sim.last_cpu_seconds:.2f} s CPU in the top function; "
              f"{compiled})")
    doc = {"tool": None, "part": hls.target.part, "clock_mhz": hls.target.clock_mhz,
           "csim": {"frames": len(images), "mismatches": result.mismatches, "fps": fps, "cpu_fps": cpu_fps}}
    if find_vitis_hls() is None:
        print(f"   {SKIPPED}")
        write_report(build.root, "hls", {**doc, "synthesis": SKIPPED})
    else:
        log = run_vitis_hls(hls)
        figures = parse_csynth_report(csynth_report_path(hls))
        write_report(build.root, "hls", {**doc, **figures, "synthesis": "run", "log": str(log)})
        print(f"   Vitis HLS: latency {figures['latency_cycles']} cycles, interval {figures['interval_cycles']} "
              f"cycles; LUT {figures['LUT']}, FF {figures['FF']}, BRAM36 {figures['BRAM36']}, DSP {figures['DSP']}")
    print(f"   report: {build.report / 'hls.json'}")
    if not result.passed:
        raise StepError(f"HLS C-simulation differs from the golden model in {result.mismatches} values over "
                        f"{result.mismatched_frames} frame(s): see {build.report / 'verify.json'}")


def step_hls4ml(build: BuildDir, cfg: BuildConfig) -> None:
    """The peer check: the QONNX model through hls4ml's bit-accurate C model against the dequantized golden
    model (stage hls4ml), with the C model's speed next to the HLS C-simulation's."""
    from spikeflow.flow.report import read_report
    from spikeflow.golden import run_counts
    from spikeflow.golden.count import dequantize
    from spikeflow.verify.hls4ml_exec import run_hls4ml

    net = load_network(build.ir)
    images = FrameSet.load(build.frames).frames
    run = run_hls4ml(build.onnx, images, build.root / "hls4ml", net.output_shape)
    fps, cpu_fps = len(images) / run.seconds, len(images) / run.cpu_seconds
    result = compare("hls4ml", "golden", run.values, dequantize(net, run_counts(net, images)),
                     note=f"hls4ml C model (io_stream), dequantized head outputs; compiled in "
                          f"{run.compile_seconds:.0f} s")
    result.extra = {"fps": fps, "cpu_fps": cpu_fps, "compile_seconds": run.compile_seconds,
                    "precisions_from_quant_nodes": run.precisions}
    record_stages(build.root, {"hls4ml": result})
    print_stages({"hls4ml": result}, len(images), build.report / "verify.json")
    ours = read_report(build.root, "verify").get("stages", {}).get("hls_csim", {})
    print(f"   hls4ml C model speed: {fps:,.1f} frames/s wall, {cpu_fps:,.1f} frames/s CPU time "
          f"(spikeflow HLS C-sim: {ours.get('csim_fps') or 0:,.1f} wall, {ours.get('csim_cpu_fps') or 0:,.1f} CPU)")
    write_report(build.root, "hls", {"hls4ml": {"frames": len(images), "mismatches": result.mismatches,
                                                "max_abs_diff": result.max_abs_diff, "fps": fps, "cpu_fps": cpu_fps}},
                 merge=True)
