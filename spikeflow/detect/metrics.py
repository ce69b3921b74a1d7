"""COCO-style mAP through faster-coco-eval (in memory, silent by default)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from faster_coco_eval import COCO, COCOeval_faster

from spikeflow.detect.head import Detections


def _silent(*_args: object, **_kwargs: object) -> None:
    return None


def _xywh(boxes: np.ndarray) -> np.ndarray:
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.concatenate((b[:, :2], b[:, 2:] - b[:, :2]), axis=1)


def evaluate_map(
    detections: Sequence[Detections],
    ground_truth: Sequence[tuple[np.ndarray, np.ndarray]],
    num_classes: int,
    names: list[str] | None = None,
    verbose: bool = False,
    max_dets: int = 100,
) -> dict[str, Any]:
    """COCO bbox mAP -> {"map50", "map50_95", "per_class"} (0.0 and {} when there is no ground truth at all);
    "per_class" maps each class name to its AP@0.5, AP@0.5:0.95 and ground-truth box count (`class_ap`).

    ``ground_truth[i] = (boxes xyxy [N,4], labels [N])``, boxes in the same pixel frame as the detections.
    Classes without ground truth are left out of the mean (COCO convention). ``verbose`` prints the summary.
    """
    if len(detections) != len(ground_truth):
        raise ValueError(f"evaluate_map: {len(detections)} detection sets for {len(ground_truth)} images")
    names = list(names) if names is not None else [str(c) for c in range(num_classes)]
    if len(names) != num_classes:
        raise ValueError(f"evaluate_map: {len(names)} names for {num_classes} classes")
    printer: Callable[..., None] = print if verbose else _silent

    images, anns, results = [], [], []
    for img_id, (det, (gt_boxes, gt_labels)) in enumerate(zip(detections, ground_truth), start=1):
        images.append({"id": img_id, "width": 1, "height": 1})
        labels = np.asarray(gt_labels, dtype=np.int64).reshape(-1)
        det_labels = np.asarray(det.labels, dtype=np.int64).reshape(-1)
        for what, lab_arr in (("ground truth", labels), ("detection", det_labels)):
            if lab_arr.size and (lab_arr.min() < 0 or lab_arr.max() >= num_classes):
                raise ValueError(f"evaluate_map: image {img_id - 1}: {what} label outside [0, {num_classes})")
        for box, lab in zip(_xywh(gt_boxes), labels, strict=True):
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": img_id,
                    "category_id": int(lab) + 1,
                    "bbox": [float(v) for v in box],
                    "area": float(box[2] * box[3]),
                    "iscrowd": 0,
                }
            )
        scores = np.asarray(det.scores, dtype=np.float64).reshape(-1)
        for box, score, lab in zip(_xywh(det.boxes), scores, det_labels, strict=True):
            results.append(
                {
                    "image_id": img_id,
                    "category_id": int(lab) + 1,
                    "bbox": [float(v) for v in box],
                    "score": float(score),
                }
            )
    if not anns:
        return {"map50": 0.0, "map50_95": 0.0, "per_class": {}}

    categories = [{"id": c + 1, "name": names[c]} for c in range(num_classes)]
    coco_gt = COCO({"images": images, "annotations": anns, "categories": categories}, print_function=printer)
    coco_dt = coco_gt.loadRes(results)
    coco_dt.print_function = printer
    ev = COCOeval_faster(coco_gt, coco_dt, iouType="bbox", print_function=printer)
    ev.params.maxDets = [1, 10, max_dets]
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    per_class = class_ap(np.asarray(ev.eval["precision"]), names, anns)
    return {"map50": max(float(ev.stats[1]), 0.0), "map50_95": max(float(ev.stats[0]), 0.0), "per_class": per_class}


def class_ap(precision: np.ndarray, names: list[str], anns: list[dict]) -> dict[str, dict[str, float | int | None]]:
    """Each class's AP@0.5 and AP@0.5:0.95 from COCOeval's precision [IoU, recall, class, area, max_dets] (area
    "all", the largest max_dets) and its ground-truth box count; None for a class without ground truth."""
    boxes = np.bincount([a["category_id"] - 1 for a in anns], minlength=len(names))
    out: dict[str, dict[str, float | int | None]] = {}
    for c, name in enumerate(names):
        p = precision[:, :, c, 0, -1]
        ap50 = p[0][p[0] > -1]
        ap = p[p > -1]
        out[name] = {"ap50": float(ap50.mean()) if boxes[c] and ap50.size else None,
                     "ap50_95": float(ap.mean()) if boxes[c] and ap.size else None, "boxes": int(boxes[c])}
    return out
