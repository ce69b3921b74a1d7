import faster_coco_eval
import numpy as np
import pytest

from spikeflow.detect import Detections, evaluate_map
from spikeflow.detect import metrics as metrics_mod


def _gt() -> list[tuple[np.ndarray, np.ndarray]]:
    return [
        (np.array([[10, 10, 50, 60], [70, 20, 120, 90]], np.float32), np.array([0, 1])),
        (np.array([[5, 5, 100, 100]], np.float32), np.array([2])),
        (np.zeros((0, 4), np.float32), np.zeros(0, np.int64)),
    ]


def _det(boxes: np.ndarray, labels: np.ndarray, scores: np.ndarray | None = None) -> Detections:
    n = len(labels)
    s = np.linspace(0.9, 0.5, n, dtype=np.float32) if scores is None else np.asarray(scores, np.float32)
    return Detections(np.asarray(boxes, np.float32).reshape(-1, 4), s, np.asarray(labels, np.int64))


def test_uses_faster_coco_eval() -> None:
    assert metrics_mod.COCOeval_faster is faster_coco_eval.COCOeval_faster


def test_perfect_detections(capsys: pytest.CaptureFixture[str]) -> None:
    gt = _gt()
    res = evaluate_map([_det(b, lab) for b, lab in gt], gt, num_classes=3, names=["a", "b", "c"])
    assert set(res) == {"map50", "map50_95", "per_class"}
    assert res["map50"] == pytest.approx(1.0, abs=1e-6)
    assert res["map50_95"] == pytest.approx(1.0, abs=1e-6)
    assert capsys.readouterr().out == ""


def test_empty_detections() -> None:
    gt = _gt()
    res = evaluate_map([Detections.empty() for _ in gt], gt, num_classes=3)
    assert (res["map50"], res["map50_95"]) == (0.0, 0.0)
    assert all(c["ap50"] in (0.0, None) for c in res["per_class"].values())


def test_no_ground_truth_at_all() -> None:
    empty = (np.zeros((0, 4), np.float32), np.zeros(0, np.int64))
    res = evaluate_map([_det([[0, 0, 5, 5]], [0]), Detections.empty()], [empty, empty], num_classes=2)
    assert res == {"map50": 0.0, "map50_95": 0.0, "per_class": {}}


def test_shifted_box_counts_at_50_not_95() -> None:
    gt = [(np.array([[0, 0, 100, 100]], np.float32), np.array([0]))]
    det = [_det([[23, 0, 123, 100]], [0], [0.9])]  # IoU = 77 / 123 = 0.626
    res = evaluate_map(det, gt, num_classes=1)
    assert res["map50"] == pytest.approx(1.0, abs=1e-6)
    # matched at IoU thresholds 0.50, 0.55, 0.60 only -> 3 of 10
    assert res["map50_95"] == pytest.approx(0.3, abs=1e-6)


def test_false_positive_on_empty_image_lowers_map() -> None:
    gt = _gt()
    dets = [_det(b, lab, np.full(len(lab), 0.5)) for b, lab in gt]
    dets[2] = _det([[0, 0, 40, 40]], [0], [0.99])  # confident FP on the image with no GT
    res = evaluate_map(dets, gt, num_classes=3)
    assert 0.0 < res["map50"] < 1.0


def test_wrong_class_is_a_miss() -> None:
    gt = [(np.array([[0, 0, 50, 50]], np.float32), np.array([0]))]
    res = evaluate_map([_det([[0, 0, 50, 50]], [1])], gt, num_classes=2)
    assert res["map50"] == 0.0


def test_per_class_ap_averages_to_the_map() -> None:
    """Each class's AP and box count; the mean over classes with boxes is the mAP; a class without boxes has None."""
    gt = [(np.array([[0, 0, 50, 50], [60, 60, 90, 90]], np.float32), np.array([0, 1])),
          (np.array([[5, 5, 30, 30]], np.float32), np.array([0]))]
    dets = [_det([[0, 0, 50, 50], [0, 0, 20, 20]], [0, 1], [0.9, 0.8]), _det([[5, 5, 30, 30]], [0], [0.7])]
    res = evaluate_map(dets, gt, num_classes=3, names=["a", "b", "c"])
    assert res["per_class"] == {"a": {"ap50": 1.0, "ap50_95": 1.0, "boxes": 2},
                                "b": {"ap50": 0.0, "ap50_95": 0.0, "boxes": 1},
                                "c": {"ap50": None, "ap50_95": None, "boxes": 0}}
    assert res["map50"] == pytest.approx(0.5, abs=1e-6)


def test_verbose_prints(capsys: pytest.CaptureFixture[str]) -> None:
    gt = _gt()
    evaluate_map([_det(b, lab) for b, lab in gt], gt, num_classes=3, verbose=True)
    assert "Average Precision" in capsys.readouterr().out


def test_bad_inputs_raise() -> None:
    gt = _gt()
    with pytest.raises(ValueError):
        evaluate_map([Detections.empty()], gt, num_classes=3)
    with pytest.raises(ValueError):
        evaluate_map([_det([[0, 0, 1, 1]], [7]), Detections.empty(), Detections.empty()], gt, num_classes=3)
