"""Training: float warm-up, then quantization-aware training with BN folded into the convolutions."""

from __future__ import annotations

import json
import math
import shlex
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import torch
from tqdm import tqdm

from spikeflow.data.loader import SampleLoader, build_dataset
from spikeflow.data.sample import DetectionDataset, Sample, print_report
from spikeflow.detect.loss import detection_loss
from spikeflow.errors import CheckpointError, ConfigError, DatasetError, SpikeflowError
from spikeflow.frontend import distributed
from spikeflow.frontend.batches import LoadTimer, TrainBatches
from spikeflow.frontend.checkpoint import data_reference, load_detector, load_float_start, save_checkpoint
from spikeflow.frontend.config import ModelConfig, training_epochs
from spikeflow.frontend.distributed import World
from spikeflow.frontend.evaluate import Evaluation, check_classes, evaluate_model
from spikeflow.frontend.model import QuantDetector
from spikeflow.frontend.run_state import RunState

LAST = "last.pt"
BEST = "model.pt"
FLOAT = "float.pt"
REPORT = "train_report.json"


class TrainingError(SpikeflowError):
    """Training cannot make progress (e.g. an epoch with no optimisation step)."""


class TrainingStopped(SpikeflowError):
    """Training stopped on request (train's stop_after_steps) with last.pt saved; --resume continues it."""


@dataclass
class TrainResult:
    checkpoint: Path
    map50_float: float | None  # None: no float epoch was run (--epochs-float 0)
    map50_qat: float
    map50_95_qat: float
    seconds: float
    qat_eval: Evaluation | None  # None on the ranks > 0 of a distributed run (rank 0 evaluates)
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


def pick_device(name: str | None = None) -> torch.device:
    """The training device: `name` ("cpu", "cuda", "cuda:1"), or CUDA when available."""
    if name is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise ConfigError(f"--device {name}: not a torch device ({exc})") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"--device {name}: this torch has no CUDA device (torch {torch.__version__})")
    if device.type not in ("cpu", "cuda"):
        raise ConfigError(f"--device {name}: spikeflow trains on 'cpu' or 'cuda'")
    return device


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
          val_data: str | None = None, device: str | None = None, stop_after_steps: int | None = None,
          from_float: str | Path | None = None) -> TrainResult:
    """Train `cfg` on `data` (None: the built-in dataset) into `out/`; `resume` continues from out/last.pt exactly
    where it stopped (weights, optimizer, schedule, data order and flips), mid-epoch included.

    `val_data` is a separate validation dataset (default: `data`'s val split). Writes out/train_report.json.
    `device`: "cpu", "cuda" or None (CUDA when available). Under torchrun (WORLD_SIZE > 1) every process trains on
    its share of each global batch (spikeflow.frontend.distributed) and rank 0 writes the files.
    `stop_after_steps` stops after that many optimisation steps of this call, with last.pt saved (TrainingStopped),
    as an interrupted run does (Ctrl-C saves last.pt too).
    `from_float` starts at the QAT phase from a float-phase checkpoint (another run's float.pt): its float epochs
    count as done, so QAT settings can be tried without training the float network again. The run then ends
    where the run that wrote float.pt would have with the same QAT settings (tested).
    """
    torch.set_num_threads(max(torch.get_num_threads(), 1))
    dev = pick_device(device)
    world = distributed.start(dev)
    try:
        with terminate_as_interrupt():
            return _train(cfg, Path(out), data, resume, epochs_float, epochs_qat, quiet or not world.main, val_data,
                          distributed.rank_device(dev), world, stop_after_steps,
                          Path(from_float) if from_float is not None else None)
    finally:
        distributed.stop()


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (a scheduler's or `kill`'s stop) and SIGINT ends training as Ctrl-C does, saving last.pt; SIGINT
    included because a shell starts background jobs with SIGINT ignored. Only in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _train(cfg: ModelConfig, out: Path, data: str | None, resume: bool, epochs_float: int | None,
           epochs_qat: int | None, quiet: bool, val_data: str | None, device: torch.device, world: World,
           stop_after_steps: int | None, from_float: Path | None) -> TrainResult:
    tcfg = cfg.train
    n_float, n_qat = training_epochs(tcfg, epochs_float, epochs_qat)
    start = None
    if from_float is not None:
        start = load_float_start(from_float, cfg)
        n_float = start[1]["epoch"] + 1  # the float epochs it trained
        if epochs_float is not None and epochs_float != n_float:
            raise ConfigError(f"--epochs-float {epochs_float} with --from-float {from_float}, which trained "
                              f"{n_float} float epochs: leave --epochs-float out")
        if n_qat < 1:
            raise ConfigError(f"--from-float {from_float} starts the QAT phase, but 0 QAT epochs are asked for")
    total_epochs = n_float + n_qat
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
    if from_float is not None:
        stored["from_float"] = str(from_float.resolve())

    cached = len(train_set) * 3 * cfg.input_size**2 <= CACHE_BYTES
    if cached:
        train_set = CachedDataset(train_set, quiet)
    workers = tcfg.workers if tcfg.workers is not None else (0 if cached else 1)
    torch.manual_seed(tcfg.seed)  # the initial weights: a run is a function of its config and data
    model = QuantDetector(cfg, train_set.names)
    state = RunState(processes=world.size)
    command = " ".join(shlex.quote(a) for a in sys.argv) if sys.argv and "spikeflow" in sys.argv[0] else ""
    if resume and (out / LAST).is_file():
        model, doc = load_detector(out / LAST)
        check_classes(model.names, train_set, str(out / LAST))
        if model.names != train_set.names:
            raise CheckpointError(f"{out / LAST}: classes {model.names} differ from the dataset's {train_set.names}")
        state = RunState.from_checkpoint(doc, out / LAST, batch_size, world)
        state.processes = world.size
        command = doc.get("command", command)
        if not quiet:
            print(f"resuming {out / LAST}: {state.where()}", file=sys.stderr)
    elif start is not None:
        model, doc = start
        check_classes(model.names, train_set, str(from_float))
        if model.names != train_set.names:
            raise CheckpointError(f"{from_float}: classes {model.names} differ from the dataset's {train_set.names}")
        state.epoch = n_float
        state.metrics = {k: v for k, v in doc.get("metrics", {}).items() if k.endswith("_float")}
        if not quiet:
            print(f"starting QAT from {from_float} ({n_float} float epochs)", file=sys.stderr)
    model.to(device)
    criterion = detection_loss(model.head_specs)
    batches = TrainBatches(train_set, batch_size, tcfg.seed, world, workers)
    steps_per_epoch = len(batches)
    started = time.time() - state.seconds
    optimizer, net, base_lr = None, model, 0.0
    last_eval = None  # the end-of-phase evaluation of the last epoch, when this call ran it
    steps_this_call = 0
    last_save = time.time()

    def save_last(epoch: int, next_batch: int, running: float, phase: str) -> None:
        """last.pt to continue at (epoch, next_batch); its "epoch" is the last epoch finished."""
        nonlocal last_save
        state.update(epoch, next_batch, optimizer, running, time.time() - started, phase)
        if world.main:
            save_checkpoint(out / LAST, model, epoch=epoch - 1, metrics=state.metrics, command=command,
                            train_state=state.to_dict(), **stored)
        last_save = time.time()

    try:
        for epoch in range(state.epoch, total_epochs):
            qat = epoch >= n_float
            phase_start, phase_len = (n_float, n_qat) if qat else (0, n_float)
            if qat and not bool(model.quantized):
                calib = [images.to(device) for images, _ in islice(SampleLoader(train_set, 64, False, 0), 4)]
                model.start_qat(calib)
                optimizer = None
            phase = "qat" if qat else "float"
            base_lr = tcfg.lr * (0.5 if qat else 1.0)
            if optimizer is None:  # a phase starts, or a run resumes (with its saved optimizer state)
                optimizer = make_optimizer(model, base_lr, tcfg.weight_decay)
                state.restore_optimizer(optimizer, phase)
                net = distributed.wrap(model, world, device)
            if qat and epoch >= total_epochs - tcfg.freeze_bn_epochs:
                model.freeze_bn()
            model.train()
            timer = LoadTimer()
            bar = tqdm(batches.epoch(epoch, state.batch, timer), total=steps_per_epoch, initial=state.batch,
                       desc=f"epoch {epoch + 1}/{total_epochs} [{'qat' if qat else 'float'}]", disable=quiet,
                       leave=False, dynamic_ncols=True)
            running, steps, next_batch = state.running, 0, state.batch
            try:
                for i, images, targets in bar:
                    step = (epoch - phase_start) * steps_per_epoch + i
                    for group in optimizer.param_groups:
                        group["lr"] = lr_at(step, phase_len * steps_per_epoch, base_lr,
                                            warmup=min(100, steps_per_epoch))
                    loss, parts = criterion(net(images.to(device)), targets)
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
                    optimizer.step()
                    next_batch = i + 1
                    running = 0.9 * running + 0.1 * loss.item() if i else loss.item()
                    steps += 1
                    steps_this_call += 1
                    bar.set_postfix(loss=f"{running:.3f}", box=f"{parts['box']:.3f}", obj=f"{parts['obj']:.3f}")
                    if stop_after_steps is not None and steps_this_call >= stop_after_steps:
                        save_last(epoch, i + 1, running, phase)
                        raise TrainingStopped(f"stopped after {steps_this_call} steps at {state.where()}; "
                                              f"continue with --resume")
                    if time.time() - last_save >= tcfg.checkpoint_minutes * 60 and i + 1 < steps_per_epoch:
                        save_last(epoch, i + 1, running, phase)
            except KeyboardInterrupt:
                save_last(epoch, next_batch, running, phase)
                print(f"\ninterrupted: {out / LAST} saved at {state.where()}; continue with --resume", file=sys.stderr)
                raise
            if steps == 0 and state.batch == 0:
                raise TrainingError(f"epoch {epoch + 1} ran no training step ({len(train_set)} training images, "
                                    f"batch size {batch_size})")
            state.log_epoch(epoch, phase, running, timer.summary())
            if not quiet:
                tqdm.write(f"epoch {epoch + 1}/{total_epochs} [{phase}] loss {running:.3f}  "
                           f"{state.epochs[-1]['images_per_s']:.1f} images/s, "
                           f"{100 * state.epochs[-1]['load_wait_fraction']:.1f} % of the time waiting for data "
                           f"({time.time() - started:.0f} s)")
            if (epoch in (n_float - 1, total_epochs - 1) or tcfg.eval_each_epoch) and world.main:  # a phase's end
                ev = evaluate_model(model.eval(), val_set, model.head_specs, device=device)
                last_eval = ev if epoch == total_epochs - 1 else None
                state.metrics[f"map50_{phase}"], state.metrics[f"map50_95_{phase}"] = ev.map50, ev.map50_95
                state.epochs[-1].update(map50=round(ev.map50, 5), map50_95=round(ev.map50_95, 5))
                if not quiet:
                    tqdm.write(f"epoch {epoch + 1}/{total_epochs} [{phase}] val mAP@0.5 {ev.map50:.3f} "
                               f"mAP@0.5:0.95 {ev.map50_95:.3f}")
            state.next_epoch()
            save_last(epoch + 1, 0, 0.0, phase)
            if epoch == n_float - 1 and world.main:  # the float-trained ANN, for the conventional-conversion baseline
                save_checkpoint(out / FLOAT, model, epoch=epoch, metrics=state.metrics, command=command, **stored)
            distributed.barrier()
    finally:  # a DDP wrapper must go before its process group does: its destructor waits on the group
        net = model

    model.eval()
    metrics = state.metrics
    seconds = time.time() - started
    if not world.main:  # rank 0 evaluates and writes the files
        return TrainResult(checkpoint=out / BEST, map50_float=metrics.get("map50_float"), map50_qat=math.nan,
                           map50_95_qat=math.nan, seconds=seconds, qat_eval=None, epochs_float=n_float,
                           epochs_qat=n_qat)
    # the trained model as the last epoch's evaluation saw it (nothing changes it since): not evaluated twice
    final = last_eval or evaluate_model(model, val_set, model.head_specs, device=device)
    metrics.update(map50_qat=final.map50, map50_95_qat=final.map50_95)
    save_checkpoint(out / BEST, model.cpu(), epoch=total_epochs - 1, metrics=metrics, command=command,
                    seconds=seconds, **stored)
    write_run_report(out, {"checkpoint": str((out / BEST).resolve()), "command": command,
                           "epochs": total_epochs, "seconds": seconds, "metrics": metrics,
                           "processes": world.size, "device": str(device), "loader_workers": workers,
                           "epoch_log": state.epochs, **stored})
    return TrainResult(checkpoint=out / BEST, map50_float=metrics.get("map50_float"), map50_qat=final.map50,
                       map50_95_qat=final.map50_95, seconds=seconds, qat_eval=final,
                       epochs_float=n_float, epochs_qat=n_qat)
