"""Decode settings of the driver's detections (no torch needed to read them)."""

from __future__ import annotations

from dataclasses import dataclass

CONF_THRESHOLD = 0.25  # default score threshold of the driver's detections
IOU_THRESHOLD = 0.45  # default NMS IoU
MAX_DETECTIONS = 100


@dataclass(frozen=True)
class DecodeSettings:
    conf_threshold: float = CONF_THRESHOLD
    iou_threshold: float = IOU_THRESHOLD
    max_det: int = MAX_DETECTIONS
