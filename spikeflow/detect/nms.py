"""Non-maximum suppression in plain torch (no torchvision), exact greedy result via Cluster-NMS iterations."""

from __future__ import annotations

import numpy as np
import torch

ArrayLike = np.ndarray | torch.Tensor


def _as_tensor(x: ArrayLike, dtype: torch.dtype) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.detach().to(device="cpu", dtype=dtype)
    return torch.as_tensor(np.asarray(x), dtype=dtype)


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pairwise IoU of xyxy boxes: [N,4] x [M,4] -> [N,M]."""
    area_a = (a[:, 2] - a[:, 0]).clamp(min=0) * (a[:, 3] - a[:, 1]).clamp(min=0)
    area_b = (b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0)
    lt = torch.maximum(a[:, None, :2], b[None, :, :2])
    rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(dim=2)
    union = area_a[:, None] + area_b[None, :] - inter
    return inter / union.clamp(min=1e-9)


def nms(boxes: ArrayLike, scores: ArrayLike, iou_threshold: float) -> np.ndarray:
    """Greedy NMS; returns int64 indices of kept boxes, highest score first.

    A box is suppressed when its IoU with a kept higher-scoring box is > ``iou_threshold``. Uses the
    Cluster-NMS matrix iteration (identical result to sequential greedy NMS); memory is O(N^2), so cap N
    (a few thousand) before calling.
    """
    b = _as_tensor(boxes, torch.float32).reshape(-1, 4)
    s = _as_tensor(scores, torch.float32).reshape(-1)
    if b.shape[0] != s.shape[0]:
        raise ValueError(f"nms: {b.shape[0]} boxes but {s.shape[0]} scores")
    n = b.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = torch.argsort(s, descending=True, stable=True)
    iou = box_iou(b[order], b[order]).triu_(diagonal=1)
    keep = torch.ones(n, dtype=torch.bool)
    for _ in range(n):
        max_iou = (iou * keep[:, None]).amax(dim=0)
        new_keep = max_iou <= iou_threshold
        if torch.equal(new_keep, keep):
            break
        keep = new_keep
    return order[keep].numpy().astype(np.int64)


def batched_nms(boxes: ArrayLike, scores: ArrayLike, labels: ArrayLike, iou_threshold: float) -> np.ndarray:
    """Per-class NMS: boxes of different labels never suppress each other (coordinate offset trick)."""
    b = _as_tensor(boxes, torch.float32).reshape(-1, 4)
    lab = _as_tensor(labels, torch.float32).reshape(-1)
    if b.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    span = float((b.max() - b.min()).item()) + 1.0
    offset = (lab - lab.min()) * span
    return nms(b + offset[:, None], scores, iou_threshold)
