"""Training: float warm-up, then quantization-aware training with BN folded into the convolutions."""

from __future__ import annotations

import json
import math
import shlex
import sys
import time
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from spikeflow.data.loader import SampleLoader, build_dataset
from spikeflow.data.sample import DetectionDataset, Sample, print_report
from spikeflow.detect.loss import detection_loss
from spikeflow.errors import CheckpointError, DatasetError, SpikeflowError
from spikeflow.frontend.checkpoint import data_reference, load_detector, read_checkpoint, save_checkpoint
from spikeflow.frontend.config import ModelConfig, training_epochs
from spikeflow.frontend.evaluate import Evaluation, check_classes, evaluate_model
from spikeflow.frontend.model import QuantDetector

LAST = "last.pt"
BEST = "model.pt"
FLOAT = "float.pt"
REPORT = "train_report.json"


class TrainingError(SpikeflowError):
    """Training cannot make progress (e.g. an epoch with no optimisation step)."""


@dataclass
class TrainResult:
    checkpoint: Path
    map50_float: float | None  # None: no float epoch was run (--epochs-float 0)
    map50_qat: float
    map50_95_qat: float
    seconds: float
    qat_eval: Evaluation
    epochs_float: int = 0
    epochs_qat: int = 0

    def summary(self) -> str:
        """One line of the metrics; a phase with no epochs is said to be skipped, never shown as nan."""
        parts = [f"float mAP@0.5 {self.map50_float:.3f}" if self.map50_float is not None
                 else "float training skipped (0 float epochs)"]
        if self.epochs_qat > 0:
            parts.append(f"QAT mAP@0.5 {self.map50_qat:.3f}  QAT mAP@0.5:0.95 {self.map50_95_qat:.3f}")
        else:
            parts.append("QAT skipped (0 QAT epochs)")
        return "  ".join(parts) + f"  ({self.seconds:.0f} s)"


class CachedDataset:
    """A dataset held in memory, so each epoch does not decode or draw its images again."""

    def __init__(self, dataset: DetectionDataset, quiet: bool) -> None:
        self.names, self.input_size, self.report = dataset.names, dataset.input_size, dataset.report
        self.samples = [dataset[i] for i in tqdm(range(len(dataset)), desc="loading training images",
                                                 disable=quiet, leave=False)]

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> Sample:
        return self.samples[i]


CACHE_BYTES = 3 << 30


def pick_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def flip_batch(images: torch.Tensor, samples: list[Sample], rng: np.random.Generator) -> list:
    """Random horizontal flip of half the batch; returns the (boxes, labels) targets."""
    width = images.shape[-1]
    targets = []
    for i, s in enumerate(samples):
        boxes = s.boxes
        if rng.random() < 0.5:
            images[i] = images[i].flip(-1)
            boxes = boxes.copy()
            boxes[:, [0, 2]] = width - s.boxes[:, [2, 0]]
        targets.append((boxes, s.labels))
    return targets


def lr_at(step: int, total: int, base: float, warmup: int) -> float:
    if step < warmup:
        return base * (step + 1) / warmup
    return base * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(total - warmup, 1))))


def make_optimizer(model: QuantDetector, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    decay = [p for n, p in model.named_parameters() if p.requires_grad and p.ndim > 1]
    other = [p for n, p in model.named_parameters() if p.requires_grad and p.ndim <= 1]
    return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                              {"params": other, "weight_decay": 0.0}], lr=lr)


def pick_batch_size(n_images: int, batch_size: int, quiet: bool = False) -> int:
    """The batch size to train with: the config's, or the training set's size when that is smaller."""
    if n_images < 1:
        raise DatasetError("the training set has no images")
    if n_images >= batch_size:
        return batch_size
    if not quiet:
        print(f"note: the training set has {n_images} images, fewer than the batch size {batch_size}: "
              f"training with batches of {n_images}", file=sys.stderr)
    return n_images


def data_reports(train_set: DetectionDataset, val_set: DetectionDataset) -> dict[str, dict]:
    """The train and val sets' LoadReport.as_dict(), for the run report and the checkpoint."""
    return {"train": train_set.report.as_dict(), "val": val_set.report.as_dict()}


def print_data_reports(train_set: DetectionDataset, val_set: DetectionDataset) -> None:
    for name, ds in (("train", train_set), ("val", val_set)):
        if not ds.report.source.startswith("synthetic"):
            print_report(ds.report, name, file=sys.stderr)


def write_run_report(out: Path, values: dict) -> Path:
    """out/train_report.json: datasets (with their skip counts), batch size, metrics."""
    path = out / REPORT
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values, indent=2, default=str) + "\n")
    return path


def train(cfg: ModelConfig, out: str | Path, data: str | None = None, resume: bool = False,
          epochs_float: int | None = None, epochs_qat: int | None = None, quiet: bool = False,
          val_data: str | None = None) -> TrainResult:
    """Train `cfg` on `data` (None: the built-in dataset) into `out/`; `resume` continues from out/last.pt.

    `val_data` is a separate validation dataset (default: `data`'s val split). Writes out/train_report.json.
    """
    torch.set_num_threads(max(torch.get_num_threads(), 1))
    out = Path(out)
    tcfg = cfg.train
    n_float, n_qat = training_epochs(tcfg, epochs_float, epochs_qat)
    total_epochs = n_float + n_qat
    device = pick_device()
    train_set = build_dataset(data, "train", cfg.input_size, synthetic_count=tcfg.train_images, seed=tcfg.seed)
    val_set = build_dataset(data, "val", cfg.input_size, synthetic_count=tcfg.val_images, seed=tcfg.seed,
                            val_data=val_data)
    check_classes(train_set.names, val_set, f"training set {train_set.report.source}")
    train_set.report.require_boxes("the training set")  # nothing to learn: training would end with loss ~0, mAP 0
    if val_set.report.boxes == 0:  # legal (training works) but its mAP measures nothing: said in the report
        val_set.report.note(f"warning: the validation set has {val_set.report.kept} images and no boxes, so its "
                            f"mAP is 0 and measures nothing: {val_set.report.labels_hint}")
    if not quiet:
        print_data_reports(train_set, val_set)
    batch_size = pick_batch_size(len(train_set), tcfg.batch_size, quiet)
    stored = {"data": data_reference(data), "val_data": data_reference(val_data) if val_data else None,
              "data_report": data_reports(train_set, val_set), "batch_size": batch_size}

    if len(train_set) * 3 * cfg.input_size**2 <= CACHE_BYTES:
        train_set = CachedDataset(train_set, quiet)
    model = QuantDetector(cfg, train_set.names)
    start_epoch, metrics = 0, {}
    command = " ".join(shlex.quote(a) for a in sys.argv) if sys.argv and "spikeflow" in sys.argv[0] else ""
    if resume and (out / LAST).is_file():
        model, doc = load_detector(out / LAST)
        check_classes(model.names, train_set, str(out / LAST))
        if model.names != train_set.names:
            raise CheckpointError(f"{out / LAST}: classes {model.names} differ from the dataset's {train_set.names}")
        start_epoch, metrics = doc["epoch"] + 1, doc.get("metrics", {})
        command = doc.get("command", command)
    model.to(device)
    criterion = detection_loss(model.head_specs)
    loader = SampleLoader(train_set, batch_size, shuffle=True, seed=tcfg.seed, drop_last=True)
    steps_per_epoch = len(loader)
    rng = np.random.default_rng(tcfg.seed)
    started = time.time()
    optimizer = None
    for epoch in range(start_epoch, total_epochs):
        qat = epoch >= n_float
        phase_start, phase_len = (n_float, n_qat) if qat else (0, n_float)
        if qat and not bool(model.quantized):
            calib = [images.to(device) for images, _ in islice(SampleLoader(train_set, 64, False, 0), 4)]
            model.start_qat(calib)
            optimizer = None
        if optimizer is None or epoch == start_epoch:
            base_lr = tcfg.lr * (0.5 if qat else 1.0)
            optimizer = make_optimizer(model, base_lr, tcfg.weight_decay)
        if qat and epoch >= total_epochs - tcfg.freeze_bn_epochs:
            model.freeze_bn()
        model.train()
        loader.set_epoch(epoch)
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{total_epochs} [{'qat' if qat else 'float'}]",
                   disable=quiet, leave=False, dynamic_ncols=True)
        running, steps = 0.0, 0
        for i, (images, samples) in enumerate(bar):
            step = (epoch - phase_start) * steps_per_epoch + i
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step, phase_len * steps_per_epoch, base_lr, warmup=min(100, steps_per_epoch))
            images = images.to(device)
            targets = flip_batch(images, samples, rng)
            loss, parts = criterion(model(images), targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
            optimizer.step()
            running = 0.9 * running + 0.1 * loss.item() if i else loss.item()
            steps += 1
            bar.set_postfix(loss=f"{running:.3f}", box=f"{parts['box']:.3f}", obj=f"{parts['obj']:.3f}")
        if steps == 0:
            raise TrainingError(f"epoch {epoch + 1} ran no training step ({len(train_set)} training images, "
                                f"batch size {batch_size})")
        last_of_phase = epoch in (n_float - 1, total_epochs - 1)
        if last_of_phase:
            ev = evaluate_model(model.eval(), val_set, model.head_specs, device=device)
            key = "qat" if qat else "float"
            metrics[f"map50_{key}"], metrics[f"map50_95_{key}"] = ev.map50, ev.map50_95
            if not quiet:
                tqdm.write(f"epoch {epoch + 1}/{total_epochs} [{key}] loss {running:.3f} "
                           f"val mAP@0.5 {ev.map50:.3f} mAP@0.5:0.95 {ev.map50_95:.3f}")
        elif not quiet:
            tqdm.write(f"epoch {epoch + 1}/{total_epochs} [{'qat' if qat else 'float'}] loss {running:.3f} "
                       f"({time.time() - started:.0f} s)")
        save_checkpoint(out / LAST, model, epoch=epoch, metrics=metrics, command=command, **stored)
        if epoch == n_float - 1:  # the float-trained ANN, kept for the conventional-conversion baseline
            save_checkpoint(out / FLOAT, model, epoch=epoch, metrics=metrics, command=command, **stored)
    model.eval()
    final = evaluate_model(model, val_set, model.head_specs, device=device)
    metrics.update(map50_qat=final.map50, map50_95_qat=final.map50_95)
    doc = read_checkpoint(out / LAST)
    save_checkpoint(out / BEST, model.cpu(), epoch=doc["epoch"], metrics=metrics, command=command,
                    seconds=time.time() - started, **stored)
    write_run_report(out, {"checkpoint": str((out / BEST).resolve()), "command": command, "epochs": doc["epoch"] + 1,
                           "seconds": time.time() - started, "metrics": metrics, **stored})
    return TrainResult(checkpoint=out / BEST, map50_float=metrics.get("map50_float"), map50_qat=final.map50,
                       map50_95_qat=final.map50_95, seconds=time.time() - started, qat_eval=final,
                       epochs_float=n_float, epochs_qat=n_qat)
