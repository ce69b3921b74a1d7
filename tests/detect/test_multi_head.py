"""Several heads in detect: each box to the best anchor over all heads, the loss summed over heads, and the
post-processing of several heads through one NMS (one head: unchanged)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spikeflow.detect import HeadSpec, MultiHeadLoss, YoloLoss, detection_loss, postprocess, postprocess_heads
from spikeflow.detect.loss import best_anchor_heads

COARSE = HeadSpec(num_classes=2, anchors=((100.0, 100.0),), input_size=128, grid=4)
FINE = HeadSpec(num_classes=2, anchors=((16.0, 16.0), (40.0, 40.0)), input_size=128, grid=8)


def test_each_box_goes_to_the_head_of_its_best_anchor() -> None:
    boxes = np.array([[0, 0, 14, 18], [10, 10, 50, 50], [0, 0, 90, 110], [0, 0, 70, 70]], np.float32)
    assert best_anchor_heads(boxes, (COARSE, FINE)).tolist() == [1, 1, 0, 0]
    assert best_anchor_heads(torch.from_numpy(boxes), (FINE, COARSE)).tolist() == [0, 0, 1, 1]


def test_multi_head_loss_is_the_sum_of_each_heads_loss_on_its_boxes() -> None:
    gen = torch.Generator().manual_seed(0)
    outs = (torch.randn(2, COARSE.channels, 4, 4, generator=gen).requires_grad_(),
            torch.randn(2, FINE.channels, 8, 8, generator=gen).requires_grad_())
    targets = [(np.array([[0, 0, 14, 18], [20, 20, 110, 120]], np.float32), np.array([0, 1])),
               (np.array([[60, 60, 100, 100]], np.float32), np.array([1]))]
    loss = MultiHeadLoss((COARSE, FINE))
    total, parts = loss(outs, targets)
    coarse_t = [(t[0][[1]], t[1][[1]]) for t in targets[:1]] + [(np.zeros((0, 4), np.float32), np.zeros(0))]
    fine_t = [(targets[0][0][[0]], targets[0][1][[0]]), targets[1]]
    want_c, parts_c = YoloLoss(COARSE, best_anchor_only=True)(outs[0], coarse_t)
    want_f, parts_f = YoloLoss(FINE, best_anchor_only=True)(outs[1], fine_t)
    assert torch.allclose(total, want_c + want_f)
    assert parts["box"] == pytest.approx(parts_c["box"] + parts_f["box"])
    total.backward()  # gradients flow to both heads
    assert all(o.grad is not None and o.grad.abs().sum() > 0 for o in outs)
    assert isinstance(detection_loss((COARSE,)), YoloLoss) and isinstance(detection_loss((COARSE, FINE)),
                                                                           MultiHeadLoss)


def test_best_anchor_only_assigns_one_anchor_per_box() -> None:
    targets = [(np.array([[10, 10, 36, 36]], np.float32), np.array([0]))]
    _, anchors_all, *_ = YoloLoss(FINE).build_targets(targets, torch.device("cpu"))
    _, anchors_best, *_ = YoloLoss(FINE, best_anchor_only=True).build_targets(targets, torch.device("cpu"))
    assert set(anchors_all.tolist()) == {0, 1}  # both anchors within anchor_t = 4
    assert set(anchors_best.tolist()) == {1}  # 26 px: closer to 40 than to 16


def test_postprocess_heads_one_head_is_postprocess() -> None:
    out = torch.randn(2, FINE.channels, 8, 8, generator=torch.Generator().manual_seed(1))
    a, b = postprocess(out, FINE), postprocess_heads([out], (FINE,))
    assert len(a[0]) > 0 and all(np.array_equal(x.boxes, y.boxes) and np.array_equal(x.scores, y.scores)
                                 for x, y in zip(a, b))
    both = postprocess_heads((torch.randn(2, COARSE.channels, 4, 4), out), (COARSE, FINE), max_det=5)
    assert len(both) == 2 and all(len(d) == 5 for d in both)
