"""Detections out: head values dequantized with the IR's output scale, decoded and passed through NMS with the
project's detect code, then mapped to the original image's pixels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikeflow.data.letterbox import Letterbox
from spikeflow.detect.head import Detections, HeadSpec, postprocess
from spikeflow.driver.settings import DecodeSettings
from spikeflow.golden.count import dequantize
from spikeflow.ir import FewdIFNetwork


@dataclass(frozen=True)
class Detection:
    """One object: class, score, and its box (x0, y0, x1, y1) in the original image's pixels."""

    class_id: int
    name: str
    score: float
    box: tuple[float, float, float, float]

    def as_dict(self) -> dict[str, object]:
        return {"class": self.name, "class_id": self.class_id, "score": round(self.score, 6),
                "box": [round(v, 2) for v in self.box]}


def decode_values(net: FewdIFNetwork, head: HeadSpec, v: np.ndarray, settings: DecodeSettings) -> list[Detections]:
    """Head V int64 [N,K,G,G] -> detections per frame in model-input pixels."""
    return postprocess(dequantize(net, v).astype(np.float32), head, conf_threshold=settings.conf_threshold,
                       iou_threshold=settings.iou_threshold, max_det=settings.max_det)


def to_original(dets: Detections, letterbox: Letterbox, names: tuple[str, ...]) -> list[Detection]:
    """Detections in model-input pixels -> Detection list in the original image's pixels (clipped to it)."""
    boxes = letterbox.to_original(dets.boxes.astype(np.float64))
    boxes[:, 0::2] = boxes[:, 0::2].clip(0, letterbox.orig_w)
    boxes[:, 1::2] = boxes[:, 1::2].clip(0, letterbox.orig_h)
    return [Detection(int(c), names[int(c)], float(s), tuple(float(x) for x in b))  # type: ignore[arg-type]
            for b, s, c in zip(boxes, dets.scores, dets.labels, strict=True)]
