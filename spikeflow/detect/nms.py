"""Non-maximum suppression: the runtime's numpy NMS (spikeflow_runtime.decode), and a torch box IoU for the loss and
tests."""

from __future__ import annotations

import numpy as np
import torch
from spikeflow_runtime import decode as runtime_decode

ArrayLike = np.ndarray | torch.Tensor


def _as_numpy(x: ArrayLike) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


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
    """Greedy NMS; int64 indices of the kept boxes, highest score first (spikeflow_runtime.decode.nms).

    A box is suppressed when its IoU with a kept higher-scoring box is > ``iou_threshold``. Memory is O(N^2), so
    cap N (a few thousand) before calling.
    """
    return runtime_decode.nms(_as_numpy(boxes), _as_numpy(scores), iou_threshold)


def batched_nms(boxes: ArrayLike, scores: ArrayLike, labels: ArrayLike, iou_threshold: float) -> np.ndarray:
    """Per-class NMS: boxes of different labels never suppress each other (spikeflow_runtime.decode.batched_nms)."""
    return runtime_decode.batched_nms(_as_numpy(boxes), _as_numpy(scores), _as_numpy(labels), iou_threshold)
