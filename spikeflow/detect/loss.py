"""YOLOv5-style loss (CIoU box, IoU-targeted objectness, BCE classes) for one head, and summed over several heads
with each ground-truth box assigned to the best anchor over all heads."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from spikeflow.detect.head import HeadSpec, flatten_head
from spikeflow.frontend.distributed import global_mean, world

Target = tuple[np.ndarray | torch.Tensor, np.ndarray | torch.Tensor]

# centre-offset trick: own cell plus the two nearest neighbours (left/up/right/down), in grid units
_OFFSETS = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]]) * 0.5


def bbox_ciou(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """Element-wise CIoU of xywh boxes [N,4], [N,4] -> [N]."""
    a1, a2 = a[:, :2] - a[:, 2:] / 2, a[:, :2] + a[:, 2:] / 2
    b1, b2 = b[:, :2] - b[:, 2:] / 2, b[:, :2] + b[:, 2:] / 2
    inter = (torch.minimum(a2, b2) - torch.maximum(a1, b1)).clamp(min=0).prod(dim=1)
    w1, h1 = a[:, 2], a[:, 3] + eps
    w2, h2 = b[:, 2], b[:, 3] + eps
    union = w1 * h1 + w2 * h2 - inter + eps
    iou = inter / union
    cwh = torch.maximum(a2, b2) - torch.minimum(a1, b1)
    c2 = (cwh**2).sum(dim=1) + eps
    rho2 = ((b[:, :2] - a[:, :2]) ** 2).sum(dim=1)
    v = (4 / math.pi**2) * (torch.atan(w2 / h2) - torch.atan(w1 / h1)) ** 2
    with torch.no_grad():
        alpha = v / (v - iou + (1 + eps))
    return iou - (rho2 / c2 + v * alpha)


class YoloLoss(nn.Module):
    """YOLOv5 loss for one scale.

    ``forward`` returns ``(total, {"box", "obj", "cls"})`` where each component is already multiplied by its
    gain and is a per-batch mean (box/cls: mean over matched predictions; obj: mean over all B*A*G*G cells),
    and ``total = box + obj + cls``. It is NOT multiplied by the batch size (YOLOv5 does that; multiply by B
    to reproduce its scale with YOLOv5 SGD learning rates).
    """

    def __init__(
        self,
        spec: HeadSpec,
        box_gain: float = 0.05,
        obj_gain: float = 1.0,
        cls_gain: float = 0.5,
        anchor_t: float = 4.0,
        best_anchor_only: bool = False,
    ) -> None:
        super().__init__()
        self.spec = spec
        self.best_anchor_only = best_anchor_only  # each box to its best anchor only (not all within anchor_t)
        self.box_gain, self.obj_gain, self.cls_gain = box_gain, obj_gain, cls_gain
        self.anchor_t = anchor_t
        self.bce = nn.BCEWithLogitsLoss()
        self.register_buffer("anchors_grid", torch.tensor(spec.anchors, dtype=torch.float32) / spec.stride)

    def _gather_targets(self, targets: list[Target], device: torch.device) -> torch.Tensor:
        """-> [T, 6] rows (image, class, cx, cy, w, h) in grid units."""
        rows = []
        for i, (boxes, labels) in enumerate(targets):
            b = torch.as_tensor(boxes).detach().to(device=device, dtype=torch.float32).reshape(-1, 4)
            if b.shape[0] == 0:
                continue
            lab = torch.as_tensor(labels).detach().to(device=device, dtype=torch.float32).reshape(-1, 1)
            if lab.shape[0] != b.shape[0] or lab.min() < 0 or lab.max() >= self.spec.num_classes:
                nc = self.spec.num_classes
                raise ValueError(f"YoloLoss: image {i}: need {b.shape[0]} labels in [0, {nc}), got {labels}")
            xywh = torch.cat(((b[:, :2] + b[:, 2:]) / 2, (b[:, 2:] - b[:, :2]).clamp(min=1e-3)), dim=1)
            img = torch.full_like(lab, float(i))
            rows.append(torch.cat((img, lab, xywh / self.spec.stride), dim=1))
        if not rows:
            return torch.zeros((0, 6), device=device)
        return torch.cat(rows, dim=0)

    def build_targets(
        self, targets: list[Target], device: torch.device
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """YOLOv5 assignment -> (img, anchor, gj, gi) indices, target xywh (cell-relative), classes."""
        t = self._gather_targets(targets, device)
        na, g = self.spec.num_anchors, self.spec.grid
        nt = t.shape[0]
        ai = torch.arange(na, device=device).view(na, 1).expand(na, nt)
        t = torch.cat((t.unsqueeze(0).expand(na, nt, 6), ai.unsqueeze(-1).float()), dim=2)  # [na, nt, 7]
        if nt:
            ratio = t[..., 4:6] / self.anchors_grid[:, None]
            worst = torch.maximum(ratio, 1 / ratio).amax(dim=2)  # [na, nt]
            if self.best_anchor_only:
                t = t[worst == worst.min(dim=0, keepdim=True).values]  # ties: every best anchor
            else:
                t = t[worst < self.anchor_t]  # [M, 7]
            gxy = t[:, 2:4]
            gxi = g - gxy
            j, k = ((gxy % 1 < 0.5) & (gxy > 1)).T
            ll, m = ((gxi % 1 < 0.5) & (gxi > 1)).T
            sel = torch.stack((torch.ones_like(j), j, k, ll, m))  # [5, M]
            t = t.unsqueeze(0).expand(5, -1, -1)[sel]
            offsets = _OFFSETS.to(device)[:, None, :].expand(5, sel.shape[1], 2)[sel]
        else:
            t = t.reshape(0, 7)
            offsets = torch.zeros((0, 2), device=device)
        gxy = t[:, 2:4]
        gij = (gxy - offsets).long()
        gi = gij[:, 0].clamp(0, g - 1)
        gj = gij[:, 1].clamp(0, g - 1)
        tbox = torch.cat((gxy - torch.stack((gi, gj), dim=1).float(), t[:, 4:6]), dim=1)
        return t[:, 0].long(), t[:, 6].long(), gj, gi, tbox, t[:, 1].long()

    def forward(self, head_out: torch.Tensor, targets: list[Target]) -> tuple[torch.Tensor, dict[str, float]]:
        """head_out [B, A*(5+nc), G, G] raw; targets[i] = (boxes xyxy [N,4] input pixels, labels [N])."""
        spec = self.spec
        if head_out.ndim != 4 or tuple(head_out.shape[1:]) != (spec.channels, spec.grid, spec.grid):
            raise ValueError(f"YoloLoss: head output shape {tuple(head_out.shape)} does not match spec")
        if len(targets) != head_out.shape[0]:
            raise ValueError(f"YoloLoss: {len(targets)} targets for a batch of {head_out.shape[0]}")
        device = head_out.device
        p = flatten_head(head_out.float(), spec).permute(0, 3, 1, 2, 4)  # [B, A, Gy, Gx, 5+nc]
        b, a, gj, gi, tbox, tcls = self.build_targets(targets, device)
        tobj = torch.zeros(p.shape[:4], device=device)
        zero = head_out.sum() * 0.0
        box_terms, cls_terms = zero.reshape(1)[:0], zero.reshape(1)[:0]  # per match; empty without matches
        if b.numel():
            ps = p[b, a, gj, gi]  # [M, 5+nc]
            pxy = ps[:, :2].sigmoid() * 2 - 0.5
            pwh = (ps[:, 2:4].sigmoid() * 2) ** 2 * self.anchors_grid[a]
            iou = bbox_ciou(torch.cat((pxy, pwh), dim=1), tbox)
            box_terms = 1.0 - iou
            score = iou.detach().clamp(min=0)
            order = score.argsort()  # highest IoU written last where cells collide
            tobj[b[order], a[order], gj[order], gi[order]] = score[order]
            tc = torch.zeros_like(ps[:, 5:])
            tc[torch.arange(tcls.numel(), device=device), tcls] = 1.0
            cls_terms = F.binary_cross_entropy_with_logits(ps[:, 5:], tc, reduction="none")
        # means over every training process's matches (each process takes part, with or without matches)
        distributed = world().distributed
        lbox = global_mean(box_terms) if box_terms.numel() or distributed else zero
        lcls = global_mean(cls_terms) if cls_terms.numel() or distributed else zero
        lobj = self.bce(p[..., 4], tobj)
        lbox, lobj, lcls = lbox * self.box_gain, lobj * self.obj_gain, lcls * self.cls_gain
        total = lbox + lobj + lcls
        return total, {"box": float(lbox.detach()), "obj": float(lobj.detach()), "cls": float(lcls.detach())}


def best_anchor_heads(boxes: torch.Tensor | np.ndarray, specs: tuple[HeadSpec, ...] | list[HeadSpec]) -> np.ndarray:
    """For xyxy boxes [N, 4], the index of the head holding each box's best anchor over all heads' anchors (the
    least worst-side ratio max(w/aw, aw/w, h/ah, ah/h), as YOLOv5 matches shapes); ties: the first head."""
    b = np.asarray(boxes.detach().cpu() if isinstance(boxes, torch.Tensor) else boxes, np.float64).reshape(-1, 4)
    wh = np.clip(b[:, 2:] - b[:, :2], 1e-3, None)  # [N, 2]
    anchors = np.array([a for spec in specs for a in spec.anchors], np.float64)  # [A, 2]
    head_of = np.concatenate([np.full(spec.num_anchors, h) for h, spec in enumerate(specs)])
    ratio = wh[:, None, :] / anchors[None]
    worst = np.maximum(ratio, 1 / ratio).max(axis=2)  # [N, A]
    return head_of[worst.argmin(axis=1)]


def _take(x: np.ndarray | torch.Tensor, idx: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | torch.Tensor:
    """Rows `idx` of a numpy array or tensor (reshaped to `shape`), of the same kind."""
    if isinstance(x, torch.Tensor):
        return x.reshape(shape)[torch.as_tensor(idx, dtype=torch.long, device=x.device)]
    return np.asarray(x).reshape(shape)[idx]


class MultiHeadLoss(nn.Module):
    """The YOLOv5 loss summed over several heads (e.g. strides 32 and 16, each with its own anchors).

    Each ground-truth box goes to the head of its best anchor over all heads, and there to that anchor only
    (YOLOv3's assignment; the neighbour-cell offsets of YOLOv5 still apply). ``forward(outputs, targets)`` takes
    the heads' raw outputs in `specs` order and returns ``(total, {"box", "obj", "cls"})``, each summed over heads.
    """

    def __init__(self, specs: tuple[HeadSpec, ...] | list[HeadSpec], **gains: float) -> None:
        super().__init__()
        if len(specs) < 2:
            raise ValueError("MultiHeadLoss needs two or more heads; use YoloLoss for one")
        self.specs = tuple(specs)
        self.losses = nn.ModuleList(YoloLoss(spec, best_anchor_only=True, **gains) for spec in specs)

    def split_targets(self, targets: list[Target]) -> list[list[Target]]:
        """targets per head: each image's boxes and labels, kept where the box's best anchor is in that head."""
        per_head: list[list[Target]] = [[] for _ in self.specs]
        for boxes, labels in targets:
            head = best_anchor_heads(boxes, self.specs)
            for h in range(len(self.specs)):
                idx = np.flatnonzero(head == h)
                per_head[h].append((_take(boxes, idx, (-1, 4)), _take(labels, idx, (-1,))))
        return per_head

    def forward(self, outputs: tuple[torch.Tensor, ...] | list[torch.Tensor],
                targets: list[Target]) -> tuple[torch.Tensor, dict[str, float]]:
        if len(outputs) != len(self.specs):
            raise ValueError(f"MultiHeadLoss: {len(outputs)} head outputs for {len(self.specs)} heads")
        total = outputs[0].sum() * 0.0
        parts = {"box": 0.0, "obj": 0.0, "cls": 0.0}
        for loss, out, head_targets in zip(self.losses, outputs, self.split_targets(targets)):
            value, head_parts = loss(out, head_targets)
            total = total + value
            for key in parts:
                parts[key] += head_parts[key]
        return total, parts


def detection_loss(specs: tuple[HeadSpec, ...] | list[HeadSpec]) -> YoloLoss | MultiHeadLoss:
    """The training loss for a detector's heads: YoloLoss for one head, MultiHeadLoss for several."""
    return YoloLoss(specs[0]) if len(specs) == 1 else MultiHeadLoss(specs)
