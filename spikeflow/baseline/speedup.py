"""The speedup measurement: FewdIF count mode vs the conventional rate-coded SNN, same device and batch.

1. mAP@0.5 of FewdIF (IR in PyTorch, dequantized head output) on the first `frames` validation images.
2. mAP@0.5 of the rate-coded SNN after T_conv = 8, 16, ..., t_max timesteps (one simulation, read out at each).
3. T_conv: the smallest T whose mAP@0.5 is within `tolerance` (0.01) of FewdIF's; if none, the best T.
4. Seconds per frame of both (torch.no_grad, frames already on the device, one warm-up batch, the best of a
   few timed passes over all frames, torch.cuda.synchronize on GPU). report/speedup.json gets the results.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from spikeflow.baseline.fewdif_torch import FewdIFTorch
from spikeflow.baseline.ratecoded import DEFAULT_PERCENTILE, RateCodedSNN, ann_forward, convert_detector, float_layers
from spikeflow.data.loader import build_dataset
from spikeflow.errors import SpikeflowError
from spikeflow.flow.report import write_report
from spikeflow.frontend.checkpoint import load_detector
from spikeflow.frontend.evaluate import evaluate_outputs
from spikeflow.golden import run_counts
from spikeflow.golden.count import dequantize
from spikeflow.ir import PIXEL_SCALE, load_network

TIMESTEPS = (8, 16, 32, 64, 128, 256, 512)


def pick_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _bar(items: Iterable, progress: bool, desc: str, total: int | None = None) -> Iterable:
    if not progress:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, total=total, leave=False)


WARMUP_LIMIT_S = 5.0  # the longest warm-up on a full batch (seconds_per_frame)


def seconds_per_frame(fn: Callable[[torch.Tensor], Any], batches: list[torch.Tensor], device: torch.device,
                      min_seconds: float = 1.0, max_repeats: int = 5, progress: bool = False,
                      desc: str = "") -> float:
    """Best time of whole passes over `batches` (after a warm-up), divided by the number of frames.

    The warm-up is one frame, then the first batch (the timed shapes) unless that would take over
    WARMUP_LIMIT_S: a rate-coded pass at T=512 takes minutes per batch, where warm-up effects are milliseconds."""
    frames = sum(len(b) for b in batches)
    with torch.no_grad():
        started = time.perf_counter()
        fn(batches[0][:1])
        _sync(device)
        if (time.perf_counter() - started) * len(batches[0]) < WARMUP_LIMIT_S:
            fn(batches[0])
            _sync(device)
        best, spent, repeats = float("inf"), 0.0, 0
        while repeats < max_repeats and (repeats == 0 or spent < min_seconds):
            started = time.perf_counter()
            for b in _bar(batches, progress, f"{desc} pass {repeats + 1}"):
                fn(b)
            _sync(device)
            elapsed = time.perf_counter() - started
            best, spent, repeats = min(best, elapsed), spent + elapsed, repeats + 1
    return best / frames


def calibration_images(model, data: str | None, count: int) -> torch.Tensor:
    """The first `count` training images as analog input (pixel / 256), for threshold normalisation."""
    cfg = model.cfg
    dataset = build_dataset(None if data in (None, "synthetic") else data, "train", cfg.input_size,
                            synthetic_count=max(count, cfg.train.train_images), seed=cfg.train.seed)
    images = np.stack([dataset[i].image for i in range(min(count, len(dataset)))])
    return torch.from_numpy(images).float() * PIXEL_SCALE


def run_speedup(checkpoint: str | Path, build_dir: str | Path | None = None, frames: int = 128,
                batch_size: int = 32, device: str | torch.device = "auto", t_max: int = 512,
                percentile: float = DEFAULT_PERCENTILE, calibration: int = 16, tolerance: float = 0.01,
                timesteps: Iterable[int] = TIMESTEPS, chunk: int = 8, progress: bool = True,
                float_checkpoint: str | Path | None = None) -> dict[str, Any]:
    """Measure FewdIF vs rate-coded mAP and speed; writes report/speedup.json in the build and returns its dict.

    The conventional conversion starts from a float-trained ANN: `float_checkpoint` (the float.pt that training
    writes at the end of its float phase); without it, the float path of `checkpoint` itself.
    """
    from spikeflow.flow.builddir import BuildDir
    from spikeflow.flow.config import BuildConfig, ModelSource
    from spikeflow.flow.runner import run_build

    dev = pick_device(str(device)) if not isinstance(device, torch.device) else device
    model, doc = load_detector(checkpoint)
    build = BuildDir(Path(build_dir) if build_dir else Path("build") / Path(checkpoint).stem)
    if not build.ir_json.is_file():
        print(f"{build.root} has no FewdIF IR yet: running its export and convert steps on {checkpoint}")
        run_build(build.root, BuildConfig(ModelSource("checkpoint", Path(checkpoint).resolve()),
                                          steps=("export", "convert")))
    net = load_network(build.ir)
    data = doc.get("data")
    cfg = model.cfg
    dataset = build_dataset(None if data in (None, "synthetic") else data, "val", cfg.input_size,
                            synthetic_count=cfg.train.val_images, seed=cfg.train.seed)
    samples = [dataset[i] for i in range(min(frames, len(dataset)))]
    images = np.stack([s.image for s in samples]) if samples else np.zeros((0,))
    if len(images) == 0:
        raise SpikeflowError("no validation frames to evaluate on")
    spec = model.head_spec
    ts = sorted(t for t in set(timesteps) if t <= t_max) or [t_max]

    # FewdIF, count mode in PyTorch on the device.
    fewdif = FewdIFTorch(net).to(dev)
    pixel_batches = [torch.from_numpy(images[i:i + batch_size]).to(dev) for i in range(0, len(images), batch_size)]
    with torch.no_grad():
        v = torch.cat([torch.round(fewdif(b)).to(torch.int64).cpu()
                       for b in _bar(pixel_batches, progress, "FewdIF mAP")]).numpy()
    matches_golden = bool(np.array_equal(v, run_counts(net, images)))
    map_fewdif = evaluate_outputs(dequantize(net, v), samples, spec).map50

    # The conventional rate-coded SNN, read out at every T in one simulation per batch.
    ann = load_detector(float_checkpoint)[0] if float_checkpoint else model
    snn: RateCodedSNN = convert_detector(ann, calibration_images(ann, data, calibration), percentile).to(dev)
    analog_batches = [b.float() * PIXEL_SCALE for b in pixel_batches]
    outs: dict[int, list[torch.Tensor]] = {t: [] for t in ts}
    ann_outs = []
    layers, head = float_layers(ann)
    for b in _bar(analog_batches, progress, f"rate-coded mAP, T up to {ts[-1]}"):
        for t, o in snn.run(b, ts, chunk).items():
            outs[t].append(o.cpu())
        ann_outs.append(ann_forward(layers, head, b.cpu()))
    map_by_t = {t: evaluate_outputs(torch.cat(o), samples, spec).map50 for t, o in outs.items()}
    map_float = evaluate_outputs(torch.cat(ann_outs), samples, spec).map50
    matching = [t for t in ts if map_by_t[t] >= map_fewdif - tolerance]
    t_conv = matching[0] if matching else max(ts, key=lambda t: (map_by_t[t], -t))

    # Timing, same device, same batches.
    s_fewdif = seconds_per_frame(fewdif, pixel_batches, dev, progress=progress, desc="time FewdIF")
    s_rate = seconds_per_frame(lambda b: snn.run(b, t_conv, chunk), analog_batches, dev, progress=progress,
                               desc=f"time rate-coded T={t_conv}")
    device_name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"cpu ({torch.get_num_threads()} threads)"
    result = {
        "device": device_name,
        "fewdif": {"timesteps": net.timesteps, "map50": map_fewdif, "seconds_per_frame": s_fewdif,
                   "matches_golden": matches_golden},
        "rate_coded": {"timesteps": t_conv, "map50": map_by_t[t_conv], "seconds_per_frame": s_rate,
                       "threshold_percentile": percentile, "within_tolerance": bool(matching),
                       "map50_by_timesteps": {str(t): m for t, m in map_by_t.items()},
                       "lambdas": snn.lambdas, "max_pool": "gated by largest spike count so far",
                       "calibration_images": calibration, "chunk": chunk},
        "float_ann_map50": map_float,
        "ratio": s_rate / s_fewdif,
        "tolerance": tolerance,
        "frames": len(images),
        "batch_size": batch_size,
        "checkpoint": str(checkpoint),
        "ann_checkpoint": str(float_checkpoint or checkpoint),
        "network": net.name,
    }
    result["path"] = str(write_report(build.root, "speedup", result))
    return result
