"""Evaluation of a detector on a dataset: decode, NMS, COCO mAP, and a picture of the predictions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from spikeflow.data.loader import SampleLoader
from spikeflow.data.sample import DetectionDataset, Sample
from spikeflow.detect.draw import draw_detections
from spikeflow.detect.head import Detections, HeadSpec, postprocess
from spikeflow.detect.metrics import evaluate_map


@dataclass
class Evaluation:
    map50: float
    map50_95: float
    detections: list[Detections]
    samples: list[Sample]


def to_original(dets: Detections, sample: Sample) -> Detections:
    return Detections(boxes=sample.letterbox.to_original(dets.boxes).astype(np.float32), scores=dets.scores,
                      labels=dets.labels)


def evaluate_outputs(outputs: np.ndarray | torch.Tensor, samples: list[Sample], spec: HeadSpec) -> Evaluation:
    """mAP of head outputs [N, C, G, G] against the samples' boxes, both mapped back to original pixels."""
    dets = postprocess(torch.as_tensor(np.asarray(outputs), dtype=torch.float32), spec)
    preds = [to_original(d, s) for d, s in zip(dets, samples)]
    gt = [(s.letterbox.to_original(s.boxes), s.labels) for s in samples]
    m = evaluate_map(preds, gt, spec.num_classes)
    return Evaluation(map50=m["map50"], map50_95=m["map50_95"], detections=dets, samples=samples)


@torch.no_grad()
def evaluate_model(forward: Callable[[torch.Tensor], torch.Tensor], dataset: DetectionDataset, spec: HeadSpec,
                   batch_size: int = 32, device: str | torch.device = "cpu") -> Evaluation:
    outputs, samples = [], []
    for images, batch in SampleLoader(dataset, batch_size, shuffle=False, seed=0):
        outputs.append(forward(images.to(device)).float().cpu())
        samples.extend(batch)
    return evaluate_outputs(torch.cat(outputs), samples, spec)


def draw_evaluation(evaluation: Evaluation, names: list[str], path: str | Path, count: int = 8) -> Path:
    """PNG grid of predicted boxes (and dashed ground truth) on the first `count` validation images."""
    samples = evaluation.samples[:count]
    scale = max(1, 256 // samples[0].image.shape[-1])
    return draw_detections([s.image for s in samples], evaluation.detections[:count], names, path,
                           ground_truth=[(s.boxes, s.labels) for s in samples], scale=scale)


def evaluate_checkpoint(checkpoint: str | Path, data: str | None = None, image: str | Path | None = None
                        ) -> Evaluation:
    """mAP of a checkpoint on its validation set (or `data`'s), printed; optionally a picture of predictions."""
    from spikeflow.data.loader import build_dataset
    from spikeflow.frontend.checkpoint import load_detector

    model, doc = load_detector(checkpoint)
    data = data or doc.get("data")
    cfg = model.cfg
    dataset = build_dataset(None if data in (None, "synthetic") else data, "val", cfg.input_size,
                            synthetic_count=cfg.train.val_images, seed=cfg.train.seed)
    ev = evaluate_model(model, dataset, model.head_spec)
    print(f"{checkpoint}: mAP@0.5 {ev.map50:.3f}  mAP@0.5:0.95 {ev.map50_95:.3f}  on {len(ev.samples)} "
          f"validation images ({data or 'synthetic'})")
    if image:
        print(f"predictions: {draw_evaluation(ev, model.names, image)}")
    return ev
