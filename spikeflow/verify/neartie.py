"""Layer-wise comparison of the golden FewdIF model with QONNX's float execution, classifying every difference.

With power-of-two scales QONNX's float32 execution is exact and must equal the golden integer model bit for
bit. With arbitrary float scales (`scaling: float`) the golden model's exact rational thresholds are the
reference (docs/fewdif.md, "Exact thresholds"), and QONNX may only disagree where the float it rounds lies
within float error of a rounding boundary j - 1/2: a *near-tie*. Any other difference is a *real mismatch*
(a converter bug).

Each FewdIF conv layer is checked on QONNX's *own* input activation to that layer, so a near-tie in an early
layer cannot show up as a difference in a later one. The end-to-end comparison (golden from pixels against
the QONNX output) is reported separately: near-ties may propagate into it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from onnx import NodeProto
from qonnx.core.modelwrapper import ModelWrapper

from spikeflow.errors import ConversionError
from spikeflow.golden.count import dequantize, fire_counts, run_counts
from spikeflow.golden.ops import check_frames, conv2d_int, magnitude_bound
from spikeflow.ir import FewdIFConv, FewdIFHead, FewdIFNetwork

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


def _activation_source(model: ModelWrapper, tensor: str) -> NodeProto:
    """The Quant node whose integers `tensor` carries (through max-pools, which do not change them)."""
    node = model.find_producer(tensor)
    while node is not None and node.op_type == "MaxPool":
        node = model.find_producer(node.input[0])
    if node is None or node.op_type != "Quant":
        raise ConversionError(f"tensor '{tensor}' is not a quantized activation (no Quant node upstream)")
    return node


@dataclass
class _Tap:
    """Where to read one FewdIF conv/head layer's tensors in QONNX's execution context."""

    layer: FewdIFConv | FewdIFHead
    input: str
    input_scale: np.ndarray
    relu: str | None = None
    act_out: str | None = None
    act_scale: np.ndarray | None = None
    ratio: list[Fraction] = field(default_factory=list)  # r_k = s_in * s_w[k] / s_a, exact


def _taps(model: ModelWrapper, net: FewdIFNetwork) -> list[_Tap]:
    net.require_chain("the near-tie check")
    nodes = {n.name: n for n in model.graph.node}
    taps = []
    for layer in net.layers:
        if not isinstance(layer, FewdIFConv | FewdIFHead):
            continue
        conv = nodes.get(layer.name)
        if conv is None or conv.op_type != "Conv":
            raise ConversionError(f"IR layer {layer.name!r} has no Conv node of that name in the QONNX model")
        src = _activation_source(model, conv.input[0])
        tap = _Tap(layer=layer, input=conv.input[0], input_scale=_quant_scale(model, src))
        if isinstance(layer, FewdIFConv):
            relu = model.find_consumer(conv.output[0])
            quant = model.find_consumer(relu.output[0]) if relu is not None else None
            if relu is None or relu.op_type != "Relu" or quant is None or quant.op_type != "Quant":
                raise ConversionError(f"Conv {layer.name!r} is not followed by Relu and Quant")
            tap.relu, tap.act_out, tap.act_scale = relu.output[0], quant.output[0], _quant_scale(model, quant)
            w_quant = model.find_producer(conv.input[1])
            s_w = np.broadcast_to(_quant_scale(model, w_quant).reshape(-1), (layer.out_channels,))
            s_in, s_a = Fraction(float(tap.input_scale.item())), Fraction(float(tap.act_scale.item()))
            tap.ratio = [s_in * Fraction(float(s)) / s_a for s in s_w]
        taps.append(tap)
    return taps


def _stats(report: NearTieReport, name: str) -> dict[str, int]:
    return report.per_layer.setdefault(name, {"near_ties": 0, "real_mismatches": 0, "neurons": 0})


def _rel_mismatches(golden: np.ndarray, qonnx: np.ndarray) -> int:
    """Output values differing by more than HEAD_REL_TOLERANCE relative to max |qonnx| of the frame."""
    ref = np.abs(qonnx.astype(np.float64)).max()
    return int(np.count_nonzero(np.abs(golden - qonnx.astype(np.float64)) > HEAD_REL_TOLERANCE * max(ref, 1e-12)))


def layerwise_check(onnx_path: str | Path, net: FewdIFNetwork, frames: np.ndarray,
                    rel_eps: float = 1e-5) -> NearTieReport:
    """Compare golden and QONNX layer by layer on uint8 frames [N, C, H, W]; see the module docstring."""
    from qonnx.core.onnx_exec import execute_onnx

    from spikeflow.convert.lower import prepare

    frames = check_frames(net, frames)
    # The same cleanup and naming the converter applied, so IR layer names are the Conv node names here.
    model = prepare(ModelWrapper(str(onnx_path)))
    iname, oname = model.graph.input[0].name, model.graph.output[0].name
    taps = _taps(model, net)
    bounds = {id(t.layer): magnitude_bound(t.layer.weights, t.layer.bias, t.layer.in_max) for t in taps}
    report = NearTieReport(frames=len(frames), rel_eps=rel_eps)
    golden_out = dequantize(net, run_counts(net, frames))
    for n, frame in enumerate(frames):
        x = (frame[None].astype(np.float32) / np.float32(256))
        ctx = execute_onnx(model, {iname: x}, return_full_exec_context=True)
        frame_ties = 0
        for tap in taps:
            layer = tap.layer
            stats = _stats(report, layer.name)
            qin = np.rint(ctx[tap.input].astype(np.float64) / tap.input_scale.astype(np.float64))
            v = conv2d_int(qin.astype(np.int64), layer.weights, layer.bias, layer.stride, layer.padding,
                           bounds[id(layer)])
            stats["neurons"] += v.size
            if isinstance(layer, FewdIFConv):
                golden = fire_counts(v, layer.thresholds)
                q_counts = np.rint(ctx[tap.act_out].astype(np.float64) / tap.act_scale.astype(np.float64))
                prequant = ctx[tap.relu] / tap.act_scale  # exactly the float QONNX's Quant rounds
                exact = exact_counts(v, tap.ratio, layer.timesteps, golden != q_counts)
                ties, real = classify_differences(golden, q_counts, prequant, rel_eps, exact)
                n_ties, n_real = int(ties.sum()), int(real.sum())
            else:
                n_ties, n_real = 0, _rel_mismatches(dequantize(net, v), ctx[oname])
                report.head_mismatches += n_real
            stats["near_ties"] += n_ties
            stats["real_mismatches"] += n_real
            report.near_ties += n_ties
            report.real_mismatches += n_real
            frame_ties += n_ties
        e2e = _rel_mismatches(golden_out[n:n + 1], ctx[oname])
        report.end_to_end_mismatches += e2e
        report.frames_with_end_to_end_mismatches += e2e > 0
        report.frames_affected_by_near_ties += frame_ties > 0
        report.unexplained_end_to_end_frames += e2e > 0 and frame_ties == 0
    return report
