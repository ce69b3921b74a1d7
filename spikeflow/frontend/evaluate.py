"""Evaluation of a detector on a dataset: decode, NMS, COCO mAP, and a picture of the predictions."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from spikeflow.data.loader import SampleLoader, build_dataset, open_dataset
from spikeflow.data.sample import DetectionDataset, Sample, print_report
from spikeflow.detect.draw import draw_detections
from spikeflow.detect.head import Detections, HeadSpec, postprocess_heads
from spikeflow.detect.metrics import evaluate_map
from spikeflow.errors import DatasetError
from spikeflow.frontend.checkpoint import load_detector, resolve_stored_data

log = logging.getLogger(__name__)


@dataclass
class Evaluation:
    map50: float
    map50_95: float
    detections: list[Detections]
    samples: list[Sample]
    per_class: dict = field(default_factory=dict)  # class name -> {"ap50", "ap50_95", "boxes"} (metrics.class_ap)


def to_original(dets: Detections, sample: Sample) -> Detections:
    return Detections(boxes=sample.letterbox.to_original(dets.boxes).astype(np.float32), scores=dets.scores,
                      labels=dets.labels)


Heads = HeadSpec | Sequence[HeadSpec]


def _specs(spec: Heads) -> tuple[HeadSpec, ...]:
    return (spec,) if isinstance(spec, HeadSpec) else tuple(spec)


def evaluate_outputs(outputs: np.ndarray | torch.Tensor | Sequence[np.ndarray | torch.Tensor], samples: list[Sample],
                     spec: Heads, names: Sequence[str] | None = None) -> Evaluation:
    """mAP of head outputs [N, C, G, G] (one array, or one per head of `spec`, a tuple of HeadSpecs) against the
    samples' boxes, both mapped back to original pixels; several heads go through one NMS. `names`: the class
    names of the per-class APs (default: the class ids)."""
    specs = _specs(spec)
    outs = [outputs] if len(specs) == 1 and not isinstance(outputs, (list, tuple)) else list(outputs)
    dets = postprocess_heads([np.asarray(o, dtype=np.float32) for o in outs], specs)
    preds = [to_original(d, s) for d, s in zip(dets, samples)]
    gt = [(s.letterbox.to_original(s.boxes), s.labels) for s in samples]
    m = evaluate_map(preds, gt, specs[0].num_classes, names=list(names) if names is not None else None)
    return Evaluation(map50=m["map50"], map50_95=m["map50_95"], detections=dets, samples=samples,
                      per_class=m["per_class"])


def check_classes(model_names: Sequence[str] | int, dataset: DetectionDataset, where: str) -> None:
    """Raise DatasetError, before any work, when the model and the dataset count their classes differently.

    `model_names` is the model's class names (or just their number); `where` names the model (a checkpoint
    path, "the model trained on ..."). Same count but other names is only logged: ids are what matter.
    """
    n_model = model_names if isinstance(model_names, int) else len(model_names)
    source = getattr(getattr(dataset, "report", None), "source", "") or type(dataset).__name__
    if n_model != len(dataset.names):
        raise DatasetError(f"{where}: the model has {n_model} classes but dataset {source} has "
                           f"{len(dataset.names)}")
    if not isinstance(model_names, int) and list(model_names) != list(dataset.names):
        log.warning("%s: class names %s differ from those of dataset %s: %s", where, list(model_names), source,
                    list(dataset.names))


@torch.no_grad()
def evaluate_model(forward: Callable[[torch.Tensor], torch.Tensor | tuple[torch.Tensor, ...]],
                   dataset: DetectionDataset, spec: Heads, batch_size: int = 32,
                   device: str | torch.device = "cpu", names: Sequence[str] | None = None) -> Evaluation:
    """mAP of `forward` (one head output, or a tuple of one per head of `spec`) on `dataset`."""
    specs = _specs(spec)
    check_classes(specs[0].num_classes, dataset, "evaluation")
    outputs: list[list[torch.Tensor]] = [[] for _ in specs]
    samples = []
    for images, batch in SampleLoader(dataset, batch_size, shuffle=False, seed=0):
        out = forward(images.to(device))
        for store, o in zip(outputs, (out,) if isinstance(out, torch.Tensor) else out, strict=True):
            store.append(o.float().cpu())
        samples.extend(batch)
    return evaluate_outputs([torch.cat(o).numpy() for o in outputs], samples, specs, names)


def draw_evaluation(evaluation: Evaluation, names: list[str], path: str | Path, count: int = 8) -> Path:
    """PNG grid of predicted boxes (and dashed ground truth) on the first `count` validation images."""
    samples = evaluation.samples[:count]
    scale = max(1, 256 // samples[0].image.shape[-1])
    return draw_detections([s.image for s in samples], evaluation.detections[:count], names, path,
                           ground_truth=[(s.boxes, s.labels) for s in samples], scale=scale)


def evaluation_set(model: torch.nn.Module, doc: dict, checkpoint: str | Path, data: str | None = None,
                   val_data: str | None = None, quiet: bool = False) -> tuple[DetectionDataset, str]:
    """The validation set a checkpoint is evaluated on (`data`'s val split; default: the one it was trained with),
    checked against its classes, and the data reference it came from; the skip summary goes to stderr."""
    if data is None:
        data = resolve_stored_data(doc.get("data"), checkpoint)
        val_data = val_data or resolve_stored_data(doc.get("val_data"), checkpoint)
        dataset = build_dataset(data, "val", model.cfg.input_size, synthetic_count=model.cfg.train.val_images,
                                seed=model.cfg.train.seed, val_data=val_data)
    else:
        dataset = open_dataset(val_data or data, "val", model.cfg.input_size, model.cfg.train.val_images,
                               model.cfg.train.seed, strict=False)
    check_classes(model.names, dataset, str(checkpoint))
    dataset.report.require_boxes("the validation set")  # mAP of a set without boxes measures nothing
    if not quiet and not dataset.report.source.startswith("synthetic"):
        print_report(dataset.report, "val", file=sys.stderr)
    return dataset, dataset.report.source or val_data or data or "synthetic"


def evaluate_checkpoint(checkpoint: str | Path, data: str | None = None, image: str | Path | None = None,
                        val_data: str | None = None, quiet: bool = False) -> Evaluation:
    """mAP of a checkpoint on `data`'s val split (default: the validation set it was trained with).

    The class counts are checked before the forward pass; the dataset's skip summary is printed to stderr.
    """
    model, doc = load_detector(checkpoint)
    dataset, source = evaluation_set(model, doc, checkpoint, data, val_data, quiet)
    ev = evaluate_model(model, dataset, model.head_specs, names=model.names)
    if not quiet:
        print(f"{checkpoint}: mAP@0.5 {ev.map50:.3f}  mAP@0.5:0.95 {ev.map50_95:.3f}  on {len(ev.samples)} "
              f"validation images ({source})")
        if image:
            print(f"predictions: {draw_evaluation(ev, model.names, image)}")
    return ev
