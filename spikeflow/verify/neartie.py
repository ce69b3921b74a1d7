"""Layer-wise comparison of the golden FewdIF model with QONNX's float execution, classifying every difference.

With power-of-two scales QONNX's float32 execution is exact and must equal the golden integer model bit for
bit. With arbitrary float scales (`scaling: float`) the golden model's exact rational thresholds are the
reference (docs/fewdif.md, "Exact thresholds"), and QONNX may only disagree where the float it rounds lies
within float error of a rounding boundary j - 1/2: a *near-tie*. Any other difference is a *real mismatch*
(a converter bug).

Each FewdIF conv layer is checked on QONNX's *own* input activation to that layer, so a near-tie in an early
layer cannot show up as a difference in a later one. The end-to-end comparison (golden from pixels against
the QONNX output) is reported separately: near-ties may propagate into it.

DAG networks are checked alike: each conv on QONNX's integer levels of the tensors it reads (a residual conv's
shortcut too; a concat's inputs each at their own scale, as the converter folds them), each head's output, and every
head end to end.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from onnx import NodeProto
from qonnx.core.modelwrapper import ModelWrapper

from spikeflow.convert.conv import conv_integers, residual_shifts
from spikeflow.convert.tensors import Activation
from spikeflow.errors import ConversionError
from spikeflow.golden.count import fire_counts, run_counts_heads
from spikeflow.golden.ops import check_frames, conv2d_int, magnitude_bound, maxpool_int
from spikeflow.ir import (
    NETWORK_INPUT,
    PIXEL_SCALE,
    FewdIFConcat,
    FewdIFConv,
    FewdIFHead,
    FewdIFMaxPool,
    FewdIFNetwork,
    FewdIFUpsample,
)

NEAR_TIE_ULPS = 4  # absolute slack, in float32 ulps of the rounded value, on top of rel_eps
HEAD_REL_TOLERANCE = 1e-5  # relative to max |QONNX output| of the frame


@dataclass
class NearTieReport:
    """Outcome of `layerwise_check`. `real_mismatches` must be 0 for a correct converter."""

    frames: int
    near_ties: int = 0
    real_mismatches: int = 0  # conv-layer real mismatches plus head mismatches
    head_mismatches: int = 0
    per_layer: dict[str, dict[str, int]] = field(default_factory=dict)
    end_to_end_mismatches: int = 0  # head outputs differing, golden-from-pixels vs QONNX
    frames_with_end_to_end_mismatches: int = 0
    frames_affected_by_near_ties: int = 0
    # frames whose end-to-end output differs although no layer had a near-tie: unexplained, must be 0
    unexplained_end_to_end_frames: int = 0
    rel_eps: float = 1e-5

    @property
    def passed(self) -> bool:
        return self.real_mismatches == 0 and self.unexplained_end_to_end_frames == 0

    def as_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["per_layer"] = {name: dict(stats) for name, stats in self.per_layer.items()}
        doc["passed"] = self.passed
        return doc

    def summary(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        return (f"{verdict}: golden vs QONNX layer by layer on {self.frames} frames: {self.near_ties} near-ties "
                f"({self.frames_affected_by_near_ties} frames), {self.real_mismatches} real mismatches; "
                f"end to end {self.end_to_end_mismatches} differing outputs in "
                f"{self.frames_with_end_to_end_mismatches} frames "
                f"({self.unexplained_end_to_end_frames} not explained by near-ties)")


def classify_differences(golden: np.ndarray, qonnx: np.ndarray, prequant: np.ndarray, rel_eps: float = 1e-5,
                         exact: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Masks (near_tie, real_mismatch) over neurons whose golden and QONNX spike counts differ.

    `prequant` is the float QONNX rounds (Relu output / activation scale). A difference is a near-tie when
    the counts differ by one and `prequant` lies within `rel_eps` (relative, at least 1.0 as the unit) plus
    a few float32 ulps of the boundary between them, max(golden, qonnx) - 1/2, and, when `exact` (the count
    from exact rational rounding, same shape) is given, the golden count equals it: a wrong threshold that
    happens to sit near a boundary is still a real mismatch. Anything else is real.
    """
    golden = np.asarray(golden).astype(np.int64)
    qonnx = np.asarray(qonnx).astype(np.int64)
    u = np.asarray(prequant)
    differ = golden != qonnx
    boundary = np.maximum(golden, qonnx) - 0.5
    u64 = u.astype(np.float64)
    ulp = np.spacing(np.abs(u).astype(np.float32)).astype(np.float64)
    tol = rel_eps * np.maximum(np.abs(u64), 1.0) + NEAR_TIE_ULPS * ulp
    close = (np.abs(u64 - boundary) <= tol) & (np.abs(golden - qonnx) == 1)
    if exact is not None:
        close &= np.asarray(exact).astype(np.int64) == golden
    return differ & close, differ & ~close


def exact_counts(v: np.ndarray, ratio: list[Fraction], timesteps: int, where: np.ndarray) -> np.ndarray:
    """clip(round_half_even(r_k * V), 0, T) in rational arithmetic, at the neurons `where` (V [N,K,H,W]).

    An independent statement of the quantized ReLU, not via thresholds. Elsewhere the result is -1.
    """
    out = np.full(v.shape, -1, dtype=np.int64)
    for idx in zip(*np.nonzero(where)):
        out[idx] = min(max(round(ratio[idx[1]] * int(v[idx])), 0), timesteps)
    return out


def _quant_scale(model: ModelWrapper, node: NodeProto) -> np.ndarray:
    return model.get_initializer(node.input[1])


@dataclass
class _Tap:
    """Where to read one FewdIF conv/head layer's tensors in QONNX's execution context."""

    layer: FewdIFConv | FewdIFHead
    output: str  # the Conv's output (a head's is a graph output)
    relu: str | None = None
    act_out: str | None = None
    act_scale: np.ndarray | None = None
    ratio: list[Fraction] = field(default_factory=list)  # r_k = S_k / s_a, exact (S_k: V's unit, channel k)


def _taps(model: ModelWrapper, net: FewdIFNetwork) -> dict[str, _Tap]:
    """The tap of every conv/head layer, by name, in IR order. V's unit S_k is the converter's (conv_integers, and
    residual_shifts for a shortcut finer than the accumulator), from the scales of the tensors the layer reads: a
    quantized ReLU's, kept by max-pools and upsamplers, joined per channel by a concat."""
    nodes = {n.name: n for n in model.graph.node}
    scales: dict[str, tuple[float, ...]] = {NETWORK_INPUT: (PIXEL_SCALE,) * net.input_shape[0]}
    taps: dict[str, _Tap] = {}
    for layer, inputs in net.layer_inputs():
        if isinstance(layer, FewdIFMaxPool | FewdIFUpsample):
            scales[layer.name] = scales[inputs[0]]
            continue
        if isinstance(layer, FewdIFConcat):
            scales[layer.name] = tuple(s for name in inputs for s in scales[name])
            continue
        conv = nodes.get(layer.name)
        if conv is None or conv.op_type != "Conv":
            raise ConversionError(f"IR layer {layer.name!r} has no Conv node of that name in the QONNX model")
        tap = _Tap(layer=layer, output=conv.output[0])
        if isinstance(layer, FewdIFConv):
            add = model.find_consumer(conv.output[0]) if layer.has_residual else None
            relu = model.find_consumer((add or conv).output[0])
            quant = model.find_consumer(relu.output[0]) if relu is not None else None
            if relu is None or relu.op_type != "Relu" or quant is None or quant.op_type != "Quant" or (
                    layer.has_residual and (add is None or add.op_type != "Add")):
                raise ConversionError(f"Conv {layer.name!r} is not followed by {'Add, ' if add else ''}Relu and "
                                      f"Quant")
            tap.relu, tap.act_out, tap.act_scale = relu.output[0], quant.output[0], _quant_scale(model, quant)
            x = Activation(inputs[0], tuple(layer.in_shape), scales[inputs[0]], layer.in_kind, layer.in_max)
            ints = conv_integers(model, conv, x)
            if layer.has_residual:
                residual_shifts(add, ints, Activation(inputs[1], tuple(layer.out_shape), scales[inputs[1]],
                                                      "spikes", layer.timesteps))
            s_a = Fraction(float(tap.act_scale.item()))
            tap.ratio = [Fraction(float(s)) / s_a for s in ints.acc_scale]
            scales[layer.name] = (float(tap.act_scale.item()),) * layer.out_channels
        taps[layer.name] = tap
    return taps


def _levels(net: FewdIFNetwork, taps: dict[str, _Tap], ctx: dict[str, np.ndarray],
            frame: np.ndarray) -> dict[str, np.ndarray]:
    """QONNX's integer levels of every IR tensor on one frame [1, C, H, W]: a quantized ReLU's output divided by
    its scale, the pixels, and the exact integer max-pools, upsamplers and concats of those."""
    levels: dict[str, np.ndarray] = {NETWORK_INPUT: frame.astype(np.int64)}
    for layer, inputs in net.layer_inputs():
        xs = [levels[name] for name in inputs]
        if isinstance(layer, FewdIFConv):
            tap = taps[layer.name]
            levels[layer.name] = np.rint(ctx[tap.act_out].astype(np.float64)
                                         / tap.act_scale.astype(np.float64)).astype(np.int64)
        elif isinstance(layer, FewdIFMaxPool):
            levels[layer.name] = maxpool_int(xs[0], layer.kernel, layer.stride)
        elif isinstance(layer, FewdIFUpsample):
            levels[layer.name] = xs[0].repeat(layer.factor, axis=2).repeat(layer.factor, axis=3)
        elif isinstance(layer, FewdIFConcat):
            levels[layer.name] = np.concatenate(xs, axis=1)
    return levels


def _stats(report: NearTieReport, name: str) -> dict[str, int]:
    return report.per_layer.setdefault(name, {"near_ties": 0, "real_mismatches": 0, "neurons": 0})


def _rel_mismatches(golden: np.ndarray, qonnx: np.ndarray) -> int:
    """Output values differing by more than HEAD_REL_TOLERANCE relative to max |qonnx| of the frame."""
    ref = np.abs(qonnx.astype(np.float64)).max()
    return int(np.count_nonzero(np.abs(golden - qonnx.astype(np.float64)) > HEAD_REL_TOLERANCE * max(ref, 1e-12)))


def _head_values(head: FewdIFHead, v: np.ndarray) -> np.ndarray:
    """A head's float output, as the QONNX graph computes it: V times the per-channel output scale."""
    return v.astype(np.float64) * head.out_scale[None, :, None, None]


def layerwise_check(onnx_path: str | Path, net: FewdIFNetwork, frames: np.ndarray,
                    rel_eps: float = 1e-5) -> NearTieReport:
    """Compare golden and QONNX layer by layer on uint8 frames [N, C, H, W]; see the module docstring. A DAG is
    checked the same way, every conv on QONNX's own levels of the tensors it reads (its shortcut too), and every
    head end to end."""
    from qonnx.core.onnx_exec import execute_onnx

    from spikeflow.convert.lower import prepare

    frames = check_frames(net, frames)
    # The same cleanup and naming the converter applied, so IR layer names are the Conv node names here.
    model = prepare(ModelWrapper(str(onnx_path)))
    iname = model.graph.input[0].name
    taps = _taps(model, net)
    inputs = {layer.name: reads for layer, reads in net.layer_inputs()}
    bounds = {}
    for name, tap in taps.items():
        layer = tap.layer
        bounds[name] = magnitude_bound(layer.weights, layer.bias, layer.in_max)
        if isinstance(layer, FewdIFConv) and layer.has_residual:
            bounds[name] += int(layer.residual_max().max())
    report = NearTieReport(frames=len(frames), rel_eps=rel_eps)
    golden_out = run_counts_heads(net, frames)
    for n, frame in enumerate(frames):
        x = (frame[None].astype(np.float32) / np.float32(256))
        ctx = execute_onnx(model, {iname: x}, return_full_exec_context=True)
        levels = _levels(net, taps, ctx, frame[None])
        frame_ties = 0
        for name, tap in taps.items():
            layer = tap.layer
            stats = _stats(report, name)
            reads = inputs[name]
            v = conv2d_int(levels[reads[0]], layer.weights, layer.bias, layer.stride, layer.padding, bounds[name])
            stats["neurons"] += v.size
            if isinstance(layer, FewdIFConv):
                if layer.has_residual:
                    shift = np.asarray(layer.residual_shift, dtype=np.int64)[None, :, None, None]
                    v = v + np.left_shift(levels[reads[1]], shift)
                golden = fire_counts(v, layer.thresholds)
                q_counts = levels[name]
                prequant = ctx[tap.relu] / tap.act_scale  # exactly the float QONNX's Quant rounds
                exact = exact_counts(v, tap.ratio, layer.timesteps, golden != q_counts)
                ties, real = classify_differences(golden, q_counts, prequant, rel_eps, exact)
                n_ties, n_real = int(ties.sum()), int(real.sum())
            else:
                n_ties, n_real = 0, _rel_mismatches(_head_values(layer, v), ctx[tap.output])
                report.head_mismatches += n_real
            stats["near_ties"] += n_ties
            stats["real_mismatches"] += n_real
            report.near_ties += n_ties
            report.real_mismatches += n_real
            frame_ties += n_ties
        e2e = sum(_rel_mismatches(_head_values(head, v[n:n + 1]), ctx[taps[head.name].output])
                  for head, v in zip(net.heads, golden_out, strict=True))
        report.end_to_end_mismatches += e2e
        report.frames_with_end_to_end_mismatches += e2e > 0
        report.frames_affected_by_near_ties += frame_ties > 0
        report.unexplained_end_to_end_frames += e2e > 0 and frame_ties == 0
    return report
