import math

import numpy as np
import pytest
import torch

from spikeflow.detect import HeadSpec, YoloLoss, default_anchors, init_head_bias, postprocess
from spikeflow.detect.nms import box_iou


@pytest.fixture
def spec() -> HeadSpec:
    return HeadSpec(num_classes=3, anchors=default_anchors(128), input_size=128, grid=8)


def _targets() -> list[tuple[np.ndarray, np.ndarray]]:
    return [
        (np.array([[10, 12, 40, 50], [60, 60, 120, 124]], np.float32), np.array([0, 2])),
        (np.zeros((0, 4), np.float32), np.zeros(0, np.int64)),
        (np.array([[0, 0, 128, 128]], np.float32), np.array([1])),
    ]


def test_loss_finite_positive_and_backward(spec: HeadSpec) -> None:
    torch.manual_seed(0)
    x = torch.randn(3, spec.channels, 8, 8, requires_grad=True)
    total, parts = YoloLoss(spec)(x, _targets())
    assert total.ndim == 0 and math.isfinite(total.item()) and total.item() > 0
    assert set(parts) == {"box", "obj", "cls"} and all(v > 0 for v in parts.values())
    assert total.item() == pytest.approx(sum(parts.values()), rel=1e-5)
    total.backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_loss_accepts_torch_targets(spec: HeadSpec) -> None:
    x = torch.randn(3, spec.channels, 8, 8)
    loss = YoloLoss(spec)
    a, _ = loss(x, _targets())
    b, _ = loss(x, [(torch.from_numpy(bx), torch.from_numpy(lb)) for bx, lb in _targets()])
    torch.testing.assert_close(a, b)


def test_zero_object_images(spec: HeadSpec) -> None:
    x = torch.randn(2, spec.channels, 8, 8, requires_grad=True)
    empty = [(np.zeros((0, 4), np.float32), np.zeros(0, np.int64))] * 2
    total, parts = YoloLoss(spec)(x, empty)
    assert parts["box"] == 0.0 and parts["cls"] == 0.0 and parts["obj"] > 0
    total.backward()
    assert torch.isfinite(x.grad).all()


def test_assignment_uses_neighbour_cells(spec: HeadSpec) -> None:
    # centre at grid (2.3, 4.7): own cell (2, 4), left neighbour (1, 4), lower neighbour (2, 5)
    s = spec.stride
    cx, cy, w = 2.3 * s, 4.7 * s, spec.anchors[1][0]
    boxes = np.array([[cx - w / 2, cy - w / 2, cx + w / 2, cy + w / 2]], np.float32)
    img, anchor, gj, gi, tbox, tcls = YoloLoss(spec).build_targets(
        [(boxes, np.array([2]))], torch.device("cpu")
    )
    cells = {(int(i), int(j)) for i, j in zip(gi, gj)}
    assert cells == {(2, 4), (1, 4), (2, 5)}
    assert set(anchor.tolist()) == {0, 1, 2}  # all default anchors within the 4x ratio
    assert len(img) == 9 and (img == 0).all() and (tcls == 2).all()
    assert (tbox[:, :2] > -0.5).all() and (tbox[:, :2] < 1.5).all()
    # anchor_t restricts matching: a tiny box only fits the smallest anchor
    tiny = np.array([[60, 60, 66, 66]], np.float32)
    _, anchor, *_ = YoloLoss(spec).build_targets([(tiny, np.array([0]))], torch.device("cpu"))
    assert set(anchor.tolist()) == {0}


def test_bad_labels_raise(spec: HeadSpec) -> None:
    with pytest.raises(ValueError):
        YoloLoss(spec)(torch.zeros(1, spec.channels, 8, 8), [(np.array([[0, 0, 10, 10]]), np.array([5]))])


def test_overfit_tiny_head(spec: HeadSpec) -> None:
    torch.manual_seed(0)
    feats = torch.randn(1, 16, spec.grid, spec.grid)
    head = torch.nn.Conv2d(16, spec.channels, 1)
    init_head_bias(head.bias, spec)
    target = [(np.array([[30, 40, 70, 90]], np.float32), np.array([1]))]
    loss_fn = YoloLoss(spec)
    opt = torch.optim.Adam(head.parameters(), lr=0.05)
    first = None
    for _ in range(60):
        loss, _ = loss_fn(head(feats), target)
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        final, _ = loss_fn(head(feats), target)
        det = postprocess(head(feats), spec)[0]
    assert final.item() < 0.5 * first
    assert det.labels[0] == 1
    assert box_iou(torch.from_numpy(det.boxes[:1]), torch.tensor([[30.0, 40, 70, 90]])).item() > 0.7
