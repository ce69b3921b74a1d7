import numpy as np
import pytest
import torch

from spikeflow.detect import (
    Detections,
    HeadSpec,
    batched_nms,
    box_iou,
    decode,
    default_anchors,
    encode,
    nms,
    postprocess,
)
from spikeflow.errors import ConfigError


@pytest.fixture
def spec() -> HeadSpec:
    return HeadSpec(num_classes=3, anchors=default_anchors(128), input_size=128, grid=8)


def test_spec_properties(spec: HeadSpec) -> None:
    assert spec.num_anchors == 3
    assert spec.channels == 3 * (5 + 3)
    assert spec.stride == 16.0
    np.testing.assert_allclose(default_anchors(100), [[12.0, 12.0], [25.0, 25.0], [42.0, 42.0]])
    with pytest.raises(ConfigError):
        HeadSpec(num_classes=0, anchors=((1.0, 1.0),), input_size=64, grid=8)


def test_decode_hand_made(spec: HeadSpec) -> None:
    out = torch.zeros(1, spec.channels, spec.grid, spec.grid)
    no = 5 + spec.num_classes
    a, gx, gy = 1, 2, 5
    out[0, a * no + 0, gy, gx] = 20.0  # sigmoid -> 1: cx = (1.5 + gx) * stride
    out[0, a * no + 4, gy, gx] = 3.0
    out[0, a * no + 5 + 2, gy, gx] = -3.0
    boxes, obj, cls = decode(out, spec)
    g = spec.grid
    assert boxes.shape == (1, g * g * 3, 4) and obj.shape == (1, g * g * 3) and cls.shape == (1, g * g * 3, 3)
    row = (gy * g + gx) * spec.num_anchors + a
    aw, ah = spec.anchors[a]
    cx, cy = (gx + 1.5) * spec.stride, (gy + 0.5) * spec.stride
    expected = torch.tensor([cx - aw / 2, cy - ah / 2, cx + aw / 2, cy + ah / 2])
    torch.testing.assert_close(boxes[0, row], expected)
    assert obj[0, row].item() == pytest.approx(1 / (1 + np.exp(-3.0)), rel=1e-5)
    assert obj[0].argmax().item() == row
    assert cls[0, row, 2].item() == pytest.approx(1 / (1 + np.exp(3.0)), rel=1e-5)
    assert cls[0, row, 0].item() == pytest.approx(0.5)


def test_decode_accepts_numpy_and_checks_shape(spec: HeadSpec) -> None:
    boxes, _, _ = decode(np.zeros((2, spec.channels, 8, 8), np.float32), spec)
    assert boxes.dtype == torch.float32 and boxes.shape[0] == 2
    with pytest.raises(ValueError):
        decode(torch.zeros(1, spec.channels + 1, 8, 8), spec)


def test_encode_decode_roundtrip(spec: HeadSpec) -> None:
    rng = np.random.default_rng(0)
    n = 20
    anchor_idx = rng.integers(0, spec.num_anchors, n)
    anchors = np.array(spec.anchors, np.float32)[anchor_idx]
    wh = anchors * rng.uniform(0.3, 3.0, (n, 2)).astype(np.float32)
    cells = rng.choice(spec.grid * spec.grid, n, replace=False)
    gx, gy = cells % spec.grid, cells // spec.grid
    ctr = (np.stack([gx, gy], 1) + rng.uniform(-0.4, 1.4, (n, 2))) * spec.stride
    boxes = np.concatenate([ctr - wh / 2, ctr + wh / 2], 1).astype(np.float32)
    raw = encode(boxes, np.stack([gx, gy], 1), anchor_idx, spec)
    out = torch.full((1, spec.channels, spec.grid, spec.grid), -10.0)
    no = 5 + spec.num_classes
    for k in range(n):
        out[0, anchor_idx[k] * no : anchor_idx[k] * no + 4, gy[k], gx[k]] = raw[k]
    dec, _, _ = decode(out, spec)
    rows = (gy * spec.grid + gx) * spec.num_anchors + anchor_idx
    np.testing.assert_allclose(dec[0, rows].numpy(), boxes, atol=1e-2)


def test_postprocess_single_object(spec: HeadSpec) -> None:
    out = torch.full((2, spec.channels, spec.grid, spec.grid), -12.0)
    no = 5 + spec.num_classes
    out[0, 2 * no : 2 * no + 4, 3, 4] = 0.0
    out[0, 2 * no + 4, 3, 4] = 8.0
    out[0, 2 * no + 5 + 1, 3, 4] = 8.0
    dets = postprocess(out, spec, conf_threshold=0.01)
    assert len(dets) == 2 and len(dets[1]) == 0
    d = dets[0]
    assert isinstance(d, Detections) and len(d) == 1
    assert d.boxes.dtype == np.float32 and d.scores.dtype == np.float32 and d.labels.dtype == np.int64
    assert d.labels[0] == 1 and d.scores[0] > 0.99
    cx, cy, (aw, ah) = 4.5 * spec.stride, 3.5 * spec.stride, spec.anchors[2]
    np.testing.assert_allclose(d.boxes[0], [cx - aw / 2, cy - ah / 2, cx + aw / 2, cy + ah / 2], atol=1e-3)


def test_postprocess_max_det(spec: HeadSpec) -> None:
    torch.manual_seed(0)
    dets = postprocess(
        torch.randn(1, spec.channels, 8, 8), spec, conf_threshold=0.0, iou_threshold=1.0, max_det=7
    )
    assert len(dets[0]) == 7
    assert np.all(np.diff(dets[0].scores) <= 0)


def test_nms_suppresses_overlap_keeps_disjoint() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 9.5]], np.float32)
    scores = np.array([0.9, 0.95, 0.5, 0.3], np.float32)
    keep = nms(boxes, scores, 0.5)
    assert keep.dtype == np.int64
    # box 0 and box 3 overlap box 1 (IoU 0.68 / 0.65) -> both suppressed by the higher-scoring box 1
    assert keep.tolist() == [1, 2]
    assert nms(torch.from_numpy(boxes), torch.from_numpy(scores), 0.99).tolist() == [1, 0, 2, 3]
    assert nms(np.zeros((0, 4)), np.zeros(0), 0.5).shape == (0,)


def test_nms_matches_sequential_greedy() -> None:
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 50, (200, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(5, 30, (200, 2))], 1).astype(np.float32)
    scores = rng.uniform(0, 1, 200).astype(np.float32)
    iou = box_iou(torch.from_numpy(boxes), torch.from_numpy(boxes)).numpy()
    order, ref = np.argsort(-scores, kind="stable"), []
    for i in order:
        if all(iou[i, j] <= 0.45 for j in ref):
            ref.append(i)
    assert nms(boxes, scores, 0.45).tolist() == ref


def test_batched_nms_per_class() -> None:
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0.5, 0, 10, 10]], np.float32)
    scores = np.array([0.9, 0.8, 0.7], np.float32)
    labels = np.array([0, 1, 0])
    assert batched_nms(boxes, scores, labels, 0.5).tolist() == [0, 1]
    assert nms(boxes, scores, 0.5).tolist() == [0]
