"""Layer-wise golden vs QONNX check: near-ties are counted and reported, real mismatches are caught."""

from __future__ import annotations

import copy
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from qonnx.core.modelwrapper import ModelWrapper

from spikeflow.convert import convert_qonnx
from spikeflow.convert.lower import prepare
from spikeflow.frontend.export import export_detector
from spikeflow.golden.ops import conv2d_int, magnitude_bound
from spikeflow.verify.neartie import NearTieReport, classify_differences, exact_counts, layerwise_check
from tests.factories import random_frames, randomized_detector, small_config

REPORT_KEYS = {"frames", "near_ties", "real_mismatches", "head_mismatches", "per_layer", "end_to_end_mismatches",
               "frames_with_end_to_end_mismatches", "frames_affected_by_near_ties",
               "unexplained_end_to_end_frames", "rel_eps", "passed"}


@pytest.fixture(scope="module")
def float_model(tmp_path_factory) -> tuple[Path, object]:
    cfg = small_config(scaling="float")
    path = export_detector(randomized_detector(cfg, seed=0), tmp_path_factory.mktemp("float") / "m.onnx")
    return path, cfg


def test_po2_model_has_no_near_ties_or_mismatches(tmp_path) -> None:
    cfg = small_config(channels=(4, 6), kernels=(3, 1))
    path = export_detector(randomized_detector(cfg, seed=3), tmp_path / "m.onnx")
    net = convert_qonnx(path)
    report = layerwise_check(path, net, random_frames(cfg, 12, seed=3).numpy())
    assert report.frames == 12
    assert report.near_ties == 0 and report.real_mismatches == 0 and report.end_to_end_mismatches == 0
    assert report.passed
    conv_names = [layer.name for layer in net.layers if layer.kind in ("conv", "head")]
    assert list(report.per_layer) == conv_names
    assert all(stats["neurons"] > 0 for stats in report.per_layer.values())


def test_float_scale_model_has_no_real_mismatches(float_model) -> None:
    path, cfg = float_model
    net = convert_qonnx(path)
    report = layerwise_check(path, net, random_frames(cfg, 16, seed=1).numpy())
    assert report.real_mismatches == 0 and report.head_mismatches == 0
    assert report.unexplained_end_to_end_frames == 0
    # the near-tie count is the sum of the per-layer counts, and it is zero exactly when no frame is affected
    assert report.near_ties == sum(stats["near_ties"] for stats in report.per_layer.values())
    assert (report.near_ties == 0) == (report.frames_affected_by_near_ties == 0)
    assert report.frames_affected_by_near_ties <= report.frames
    doc = report.as_dict()
    assert REPORT_KEYS <= set(doc)
    assert doc["passed"] is True
    assert set(doc["per_layer"]) == {layer.name for layer in net.layers if layer.kind != "maxpool"}
    assert all(set(s) == {"near_ties", "real_mismatches", "neurons"} for s in doc["per_layer"].values())


def test_wrong_thresholds_and_head_bias_are_real_mismatches(float_model) -> None:
    path, cfg = float_model
    net = convert_qonnx(path)
    frames = random_frames(cfg, 8, seed=2).numpy()
    bad = copy.deepcopy(net)
    bad.layers[0].thresholds = bad.layers[0].thresholds + 3
    report = layerwise_check(path, bad, frames)
    assert report.per_layer[net.layers[0].name]["real_mismatches"] > 0 and not report.passed
    bad = copy.deepcopy(net)
    bad.layers[-1].bias = bad.layers[-1].bias + 1
    report = layerwise_check(path, bad, frames)
    assert report.head_mismatches > 0 and report.real_mismatches == report.head_mismatches


def _rescale_channel(model: ModelWrapper, conv_name: str, k: int, weights: np.ndarray, bias: np.ndarray,
                     s_new: np.float32) -> None:
    """Give output channel k of the first conv weight scale s_new, keeping its integer weights and bias."""
    conv = next(n for n in model.graph.node if n.name == conv_name)
    wq, bq = model.find_producer(conv.input[1]), model.find_producer(conv.input[2])
    ws, w = model.get_initializer(wq.input[1]).copy(), model.get_initializer(wq.input[0]).copy()
    bs, b = model.get_initializer(bq.input[1]).copy(), model.get_initializer(bq.input[0]).copy()
    ws[k], bs[k] = s_new, s_new * np.float32(2.0**-8)  # bias scale = pixel scale x weight scale, exact
    w[k], b[k] = weights[k] * s_new, bias[k] * bs[k]
    for name, value in ((wq.input[1], ws), (wq.input[0], w), (bq.input[1], bs), (bq.input[0], b)):
        model.set_initializer(name, value)


def test_forced_near_tie_is_counted_not_a_mismatch(float_model, tmp_path) -> None:
    """Rescale one first-layer channel so that r * V sits within float32 rounding of 1.5 for one neuron."""
    path, cfg = float_model
    net = convert_qonnx(path)
    frames = random_frames(cfg, 1, seed=5).numpy()
    first = net.layers[0]
    v = conv2d_int(frames.astype(np.int64), first.weights, first.bias, first.stride, first.padding,
                   magnitude_bound(first.weights, first.bias, first.in_max))[0]
    model = prepare(ModelWrapper(str(path)))
    conv = next(n for n in model.graph.node if n.name == first.name)
    act = model.find_consumer(model.find_consumer(conv.output[0]).output[0])
    s_a = float(model.get_initializer(act.input[1]))
    forced = tmp_path / "forced.onnx"
    for k in range(first.out_channels):
        for value in v[k][v[k] > 0][:4]:
            s_new = np.float32(1.5 * s_a * 256 / int(value))
            for step in (0, 1, -1, 2, -2, 3, -3):
                s = s_new
                for _ in range(abs(step)):
                    s = np.nextafter(s, np.float32(np.inf if step > 0 else -np.inf))
                _rescale_channel(model, first.name, k, first.weights, first.bias, s)
                model.save(str(forced))
                net2 = convert_qonnx(forced)
                assert np.array_equal(net2.layers[0].weights, first.weights)
                report = layerwise_check(forced, net2, frames)
                assert report.real_mismatches == 0, report.summary()
                assert report.unexplained_end_to_end_frames == 0, report.summary()
                if report.near_ties:
                    assert report.per_layer[first.name]["near_ties"] >= 1
                    assert report.frames_affected_by_near_ties == 1
                    assert report.passed
                    return
    pytest.fail("no near-tie could be forced")


def test_classify_synthetic() -> None:
    golden = np.array([1, 2, 1, 0, 1, 3, 2])
    qonnx = np.array([2, 1, 2, 2, 1, 2, 3])
    prequant = np.array([1.5 + 1e-9, 1.5 - 1e-9, 1.7, 1.5, 1.2, 2.5 + 1e-6, 2.5])
    ties, real = classify_differences(golden, qonnx, prequant)
    assert ties.tolist() == [True, True, False, False, False, True, True]
    assert real.tolist() == [False, False, True, True, False, False, False]
    # the golden count disagreeing with exact rounding makes even a close call a real mismatch
    exact = np.array([1, 2, 2, 0, 1, 2, 2])
    ties, real = classify_differences(golden, qonnx, prequant, exact=exact)
    assert ties.tolist() == [True, True, False, False, False, False, True]
    assert real.tolist() == [False, False, True, True, False, True, False]
    assert not classify_differences(golden, qonnx, prequant, rel_eps=0.0)[0][5]


def test_exact_counts_round_half_even_and_clip() -> None:
    v = np.array([6, 10, 11, 100, -4]).reshape(1, 1, 1, 5)
    where = np.ones(v.shape, dtype=bool)
    assert exact_counts(v, [Fraction(1, 4)], 3, where).ravel().tolist() == [2, 2, 3, 3, 0]
    assert exact_counts(v, [Fraction(1, 4)], 3, ~where).ravel().tolist() == [-1] * 5


def test_report_dict_round_trip() -> None:
    report = NearTieReport(frames=2, per_layer={"Conv_0": {"near_ties": 1, "real_mismatches": 0, "neurons": 8}})
    doc = report.as_dict()
    assert REPORT_KEYS <= set(doc) and doc["per_layer"]["Conv_0"]["near_ties"] == 1
    assert doc["passed"] and "PASS" in report.summary()


@pytest.fixture(scope="module")
def dag_model(tmp_path_factory) -> tuple[Path, object]:
    """A random two-scale detector (two residual blocks, fork, upsample, concat, two heads) in QONNX, and its IR."""
    from spikeflow.frontend.export import export_module
    from tests.convert.dag_models import SIZE, two_scale

    path = tmp_path_factory.mktemp("dag") / "m.onnx"
    export_module(two_scale(1, residual_blocks=2).deploy(), (3, SIZE, SIZE), path, "dag")
    return path, convert_qonnx(path)


def _dag_frames(net, count: int = 4) -> np.ndarray:  # noqa: ANN001
    return np.random.default_rng(1).integers(0, 256, size=(count, *net.input_shape), dtype=np.uint8)


def test_a_dag_is_checked_layer_by_layer_on_every_head(dag_model) -> None:
    path, net = dag_model
    assert not net.is_chain and len(net.heads) == 2
    report = layerwise_check(path, net, _dag_frames(net))
    assert report.passed and report.real_mismatches == 0 and report.end_to_end_mismatches == 0
    convs = [layer for layer in net.layers if layer.kind in ("conv", "head")]
    assert set(report.per_layer) == {layer.name for layer in convs}
    assert all(report.per_layer[layer.name]["neurons"] == 4 * int(np.prod(layer.out_shape)) for layer in convs)


def test_a_wrong_shortcut_shift_is_a_real_mismatch_of_its_layer(dag_model) -> None:
    path, net = dag_model
    bad = copy.deepcopy(net)
    res = next(layer for layer in bad.layers if layer.kind == "conv" and layer.has_residual)
    res.residual_shift = tuple(r + 2 for r in res.residual_shift)
    report = layerwise_check(path, bad, _dag_frames(bad))
    assert not report.passed
    assert report.per_layer[res.name]["real_mismatches"] > 0
    assert all(s["real_mismatches"] == 0 for name, s in report.per_layer.items()
               if name != res.name and name not in {h.name for h in bad.heads})  # layers read QONNX's levels


def test_a_float_scaled_dag_passes(tmp_path) -> None:
    from spikeflow.frontend.export import export_module
    from spikeflow.frontend.model.blocks import TwoScaleDetector
    from tests.convert.dag_models import SIZE, randomize

    model = randomize(TwoScaleDetector(stem=4, deep=5, lateral=3, fine=4, residual_blocks=0, head_channels=4,
                                       scaling="float"), 3)
    path = export_module(model.deploy(), (3, SIZE, SIZE), tmp_path / "m.onnx", "dag")
    net = convert_qonnx(path)
    assert not net.meta.power_of_two_scales and not net.is_chain
    report = layerwise_check(path, net, _dag_frames(net, 6))
    assert report.passed and report.real_mismatches == 0
