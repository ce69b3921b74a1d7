"""The verify step: the golden model (count and spike mode) against QONNX execution on the build's frames, every
head (graph output) of a network with several, plus spike statistics. Reads the IR, model.onnx and frames.npz
only."""

from __future__ import annotations

import numpy as np

from spikeflow.flow.builddir import BuildDir
from spikeflow.flow.config import BuildConfig
from spikeflow.flow.frames import FrameSet
from spikeflow.flow.report import write_report
from spikeflow.ir import FLOAT32_EXACT_BITS, FewdIFNetwork, load_network
from spikeflow.verify.compare import StageResult, compare_heads
from spikeflow.verify.report import print_stages, record_stages


def step_verify(build: BuildDir, cfg: BuildConfig) -> None:
    images = FrameSet.load(build.frames).frames
    results = verify_frames(build, load_network(build.ir), images)
    print_stages(results, len(images), build.report / "verify.json")


def verify_frames(build: BuildDir, net: FewdIFNetwork, images: np.ndarray) -> dict[str, StageResult]:
    from spikeflow.golden import run_counts_heads, run_spikes_heads
    from spikeflow.verify.qonnx_exec import qonnx_input, run_qonnx_outputs
    from spikeflow.verify.spikestats import plot_spike_statistics, spike_statistics

    qonnx_out = run_qonnx_outputs(build.onnx, qonnx_input(images))
    names = [head.name for head in net.heads]
    exact = net.float32_exact
    layer_counts: list[np.ndarray] = []
    golden_vs = run_counts_heads(net, images, collect=layer_counts)
    results: dict[str, StageResult] = {}
    golden = compare_heads("golden", "qonnx", _dequantized(net, golden_vs), qonnx_out, names)
    results["golden"] = golden if exact else _with_near_ties(build, net, images, golden)
    spike_vs = run_spikes_heads(net, images)
    if exact:
        results["golden_spike"] = compare_heads("golden_spike", "qonnx", _dequantized(net, spike_vs), qonnx_out,
                                                names)
    else:  # QONNX's float32 is not exact here: the golden count mode (exact thresholds) is the reference
        results["golden_spike"] = compare_heads("golden_spike", "golden", spike_vs, golden_vs, names)
    record_stages(build.root, results, qonnx_float32_exact=exact, qonnx_exactness=_exactness(net))
    rows = spike_statistics(net, layer_counts)
    write_report(build.root, "spikes", {"frames": len(images), "timesteps": net.timesteps, "layers": rows})
    plot_spike_statistics(rows, build.report / "spikes.png", f"{net.name}: spikes per layer")
    return results


def _dequantized(net: FewdIFNetwork, vs: list[np.ndarray]) -> list[np.ndarray]:
    """Each head's membranes V times its per-channel output scale, as QONNX computes them."""
    return [v.astype(np.float64) * head.out_scale[None, :, None, None] for head, v in zip(net.heads, vs)]


def _exactness(net: FewdIFNetwork) -> str:
    if net.float32_exact:
        return "power-of-two scales and accumulators within 24 bits: QONNX's float32 execution is exact"
    why = []
    if not net.meta.power_of_two_scales:
        why.append("float scales")
    if net.max_acc_bits > FLOAT32_EXACT_BITS:
        why.append(f"an accumulator of {net.max_acc_bits} bits exceeds float32's {FLOAT32_EXACT_BITS}-bit mantissa")
    return ("QONNX's float32 execution is not exact (" + "; ".join(why) + "): differences are classified by the "
            "layer-wise near-tie check, and only real mismatches count")


def _with_near_ties(build: BuildDir, net: FewdIFNetwork, images: np.ndarray, end_to_end: StageResult) -> StageResult:
    """Layer-wise check: differences are allowed only at near-ties, and all are counted."""
    from spikeflow.verify.neartie import layerwise_check

    report = layerwise_check(str(build.onnx), net, images)
    unexplained = report.unexplained_end_to_end_frames
    return StageResult("golden", "qonnx", len(images), report.real_mismatches + unexplained,
                       end_to_end.mismatched_frames, end_to_end.max_abs_diff, note=(
                           f"{_exactness(net)}; {report.near_ties} near-ties at quantization boundaries, "
                           f"{end_to_end.mismatches} output values differ end to end because of them"),
                       extra={"near_ties": report.as_dict()})
