"""YOLO-style detection with one or several heads: head decoding, loss, NMS, COCO mAP and drawing."""

from spikeflow.detect.draw import draw_detections
from spikeflow.detect.head import (
    Detections,
    HeadSpec,
    decode,
    default_anchors,
    encode,
    init_head_bias,
    postprocess,
    postprocess_heads,
)
from spikeflow.detect.loss import MultiHeadLoss, YoloLoss, detection_loss
from spikeflow.detect.metrics import evaluate_map
from spikeflow.detect.nms import batched_nms, box_iou, nms

__all__ = [
    "Detections",
    "HeadSpec",
    "MultiHeadLoss",
    "YoloLoss",
    "batched_nms",
    "box_iou",
    "decode",
    "default_anchors",
    "detection_loss",
    "draw_detections",
    "encode",
    "evaluate_map",
    "init_head_bias",
    "nms",
    "postprocess",
    "postprocess_heads",
]
