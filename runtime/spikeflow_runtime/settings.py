"""Decode settings of the driver's detections."""

from __future__ import annotations

from dataclasses import dataclass

from spikeflow_runtime.errors import ConfigError

CONF_THRESHOLD = 0.25  # default score threshold of the driver's detections
IOU_THRESHOLD = 0.45  # default NMS IoU
MAX_DETECTIONS = 100


@dataclass(frozen=True)
class DecodeSettings:
    conf_threshold: float = CONF_THRESHOLD
    iou_threshold: float = IOU_THRESHOLD
    max_det: int = MAX_DETECTIONS

    def __post_init__(self) -> None:
        for option, value in (("--conf", self.conf_threshold), ("--iou", self.iou_threshold)):
            if not 0 <= value <= 1:
                raise ConfigError(f"{option} must be between 0 and 1, got {value:g}")
        if self.max_det < 1:
            raise ConfigError(f"--max-det must be >= 1, got {self.max_det}")
