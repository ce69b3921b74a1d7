"""Detections in the original image's pixels: what the driver hands to a user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from spikeflow_runtime.decode import Detections
from spikeflow_runtime.letterbox import Letterbox


@dataclass(frozen=True)
class Detection:
    """One object: class, score, and its box (x0, y0, x1, y1) in the original image's pixels."""

    class_id: int
    name: str
    score: float
    box: tuple[float, float, float, float]

    def as_dict(self) -> dict[str, Any]:
        return {"class": self.name, "class_id": self.class_id, "score": round(self.score, 6),
                "box": [round(v, 2) for v in self.box]}


def to_original(dets: Detections, letterbox: Letterbox, names: Sequence[str]) -> list[Detection]:
    """Detections in model-input pixels -> Detection list in the original image's pixels (clipped to it)."""
    if not len(dets):
        return []
    boxes = letterbox.to_original(dets.boxes.astype(np.float64))
    boxes[:, 0::2] = boxes[:, 0::2].clip(0, letterbox.orig_w)
    boxes[:, 1::2] = boxes[:, 1::2].clip(0, letterbox.orig_h)
    return [Detection(int(c), names[int(c)], float(s), (float(b[0]), float(b[1]), float(b[2]), float(b[3])))
            for b, s, c in zip(boxes.tolist(), dets.scores.tolist(), dets.labels.tolist())]
