"""YOLO-style heads: spec, torch decoding (training, loss) and post-processing of one head or several (the
runtime's numpy decode and NMS, host side)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from spikeflow_runtime.decode import Detections, HeadGeometry, decode_float, decode_heads_float

from spikeflow.errors import ConfigError


@dataclass(frozen=True)
class HeadSpec(HeadGeometry):
    """Head output geometry ``[B, A*(5+nc), G, G]``; channel ``a*(5+nc)+j``: j 0..3 box, 4 obj, 5.. cls."""

    num_classes: int
    anchors: tuple[tuple[float, float], ...]  # (w, h) in model-input pixels
    input_size: int
    grid: int  # G (square)

    def __post_init__(self) -> None:
        if self.num_classes < 1:
            raise ConfigError(f"HeadSpec: num_classes must be >= 1, got {self.num_classes}")
        if len(self.anchors) < 1 or any(len(a) != 2 or min(a) <= 0 for a in self.anchors):
            raise ConfigError(f"HeadSpec: anchors must be positive (w, h) pairs, got {self.anchors}")
        if self.input_size < 1 or self.grid < 1:
            raise ConfigError(f"HeadSpec: bad input_size={self.input_size} / grid={self.grid}")
        object.__setattr__(self, "anchors", tuple((float(w), float(h)) for w, h in self.anchors))


def default_anchors(input_size: int) -> tuple[tuple[float, float], ...]:
    """Three square anchors at 0.12, 0.25 and 0.42 of the input side (objects ~8..50% of the side)."""
    return tuple((f * input_size, f * input_size) for f in (0.12, 0.25, 0.42))


def init_head_bias(bias: torch.Tensor, spec: HeadSpec, objects_per_image: float = 2.0) -> None:
    """YOLOv5-style prior init of the head conv bias (in place): low objectness, cls prior 0.6/nc."""
    if bias.numel() != spec.channels:
        raise ValueError(f"init_head_bias: bias has {bias.numel()} entries, spec needs {spec.channels}")
    with torch.no_grad():
        b = bias.view(spec.num_anchors, 5 + spec.num_classes)
        cells = spec.grid * spec.grid * spec.num_anchors
        b[:, 4] = math.log(max(objects_per_image, 1e-3) / cells)
        b[:, 5:] = math.log(0.6 / max(spec.num_classes - 0.99, 1e-2))


def _check(head_out: torch.Tensor | np.ndarray, spec: HeadSpec) -> torch.Tensor:
    x = torch.as_tensor(head_out) if isinstance(head_out, np.ndarray) else head_out
    if x.ndim == 3:
        x = x.unsqueeze(0)
    expected = (spec.channels, spec.grid, spec.grid)
    if x.ndim != 4 or tuple(x.shape[1:]) != expected:
        c, g = spec.channels, spec.grid
        raise ValueError(f"head output shape {tuple(x.shape)} does not match spec [B, {c}, {g}, {g}]")
    return x.float()


def flatten_head(head_out: torch.Tensor, spec: HeadSpec) -> torch.Tensor:
    """[B, A*(5+nc), G, G] -> [B, G, G, A, 5+nc] (index order gy, gx, a; flattening gives G*G*A rows)."""
    b = head_out.shape[0]
    g, na, no = spec.grid, spec.num_anchors, 5 + spec.num_classes
    return head_out.reshape(b, na, no, g, g).permute(0, 3, 4, 1, 2)


def _grid_and_anchors(spec: HeadSpec, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    g = spec.grid
    gy, gx = torch.meshgrid(torch.arange(g, device=device), torch.arange(g, device=device), indexing="ij")
    grid = torch.stack((gx, gy), dim=-1).float().view(g, g, 1, 2)
    anchors = torch.tensor(spec.anchors, dtype=torch.float32, device=device).view(1, 1, -1, 2)
    return grid, anchors


def decode(
    head_out: torch.Tensor | np.ndarray, spec: HeadSpec
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """YOLOv5 decoding -> boxes xyxy [B, G*G*A, 4] (input pixels), obj [B, G*G*A], cls probs [B, G*G*A, nc].

    Rows are ordered (gy, gx, a): row = (gy*G + gx)*A + a.
    """
    x = _check(head_out, spec)
    p = flatten_head(x, spec)
    grid, anchors = _grid_and_anchors(spec, p.device)
    s = p.sigmoid()
    xy = (s[..., 0:2] * 2.0 - 0.5 + grid) * spec.stride
    wh = (s[..., 2:4] * 2.0) ** 2 * anchors
    boxes = torch.cat((xy - wh / 2, xy + wh / 2), dim=-1)
    b = p.shape[0]
    return boxes.reshape(b, -1, 4), s[..., 4].reshape(b, -1), s[..., 5:].reshape(b, -1, spec.num_classes)


def _logit(p: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    p = p.clamp(eps, 1 - eps)
    return torch.log(p / (1 - p))


def encode(
    boxes: torch.Tensor | np.ndarray,
    cells: torch.Tensor | np.ndarray,
    anchor_idx: torch.Tensor | np.ndarray,
    spec: HeadSpec,
) -> torch.Tensor:
    """Inverse of :func:`decode` for one box each: xyxy boxes [N,4], cells (gx, gy) [N,2], anchor index [N]
    -> raw (tx, ty, tw, th) [N,4]. Only exact where the box is representable from that cell/anchor."""
    bx = torch.as_tensor(boxes, dtype=torch.float32).reshape(-1, 4)
    c = torch.as_tensor(cells, dtype=torch.float32).reshape(-1, 2)
    anc = torch.tensor(spec.anchors, dtype=torch.float32)[torch.as_tensor(anchor_idx, dtype=torch.long)]
    xy = (bx[:, :2] + bx[:, 2:]) / 2 / spec.stride - c
    wh = bx[:, 2:] - bx[:, :2]
    t_xy = _logit((xy + 0.5) / 2.0)
    t_wh = _logit(torch.sqrt(wh / anc) / 2.0)
    return torch.cat((t_xy, t_wh), dim=1)


def postprocess(
    head_out: torch.Tensor | np.ndarray,
    spec: HeadSpec,
    conf_threshold: float = 0.001,
    iou_threshold: float = 0.5,
    max_det: int = 100,
) -> list[Detections]:
    """Decode; score = obj * cls_prob (multi-label), keep > conf_threshold, per-class NMS, best max_det.

    The runtime's numpy decode (spikeflow_runtime.decode.decode_float), the one the driver runs too.
    """
    if isinstance(head_out, torch.Tensor):
        head_out = head_out.detach().to(device="cpu", dtype=torch.float32).numpy()
    return decode_float(head_out, spec, conf_threshold, iou_threshold, max_det)


def postprocess_heads(
    head_outs: torch.Tensor | np.ndarray | tuple | list,
    specs: tuple[HeadSpec, ...] | list[HeadSpec],
    conf_threshold: float = 0.001,
    iou_threshold: float = 0.5,
    max_det: int = 100,
) -> list[Detections]:
    """`postprocess` for one head or several: each head decoded on its own grid and anchors, then ONE per-class NMS
    over the candidates of all heads (spikeflow_runtime.decode.decode_heads_float). `head_outs`: one array, or one
    per head in `specs` order."""
    outs = [head_outs] if isinstance(head_outs, (torch.Tensor, np.ndarray)) else list(head_outs)
    arrays = [o.detach().to(device="cpu", dtype=torch.float32).numpy() if isinstance(o, torch.Tensor) else o
              for o in outs]
    if len(specs) == 1 and len(arrays) == 1:
        return decode_float(arrays[0], specs[0], conf_threshold, iou_threshold, max_det)
    return decode_heads_float(arrays, specs, conf_threshold, iou_threshold, max_det)
