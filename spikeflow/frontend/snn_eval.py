"""The QAT checkpoint and its converted FewdIF IR side by side on a whole dataset: both mAPs, and every head value
of every image compared (the SNN's mAP equals the QAT model's because its outputs do, which is measured here).

The SNN is the golden model in count mode (`spikeflow.golden.run_counts_heads`) on the images' uint8 pixels, its
integer membranes times each head's output scale; the QAT model sees the same pixels times 2^-8.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from spikeflow.data.loader import SampleLoader
from spikeflow.data.sample import DetectionDataset
from spikeflow.errors import CheckpointError
from spikeflow.frontend.evaluate import Evaluation, evaluate_outputs
from spikeflow.ir import FewdIFNetwork


@dataclass
class SnnEvaluation:
    qat: Evaluation
    snn: Evaluation
    values: int  # head values compared (every head, every image)
    mismatches: int  # of those, SNN != QAT
    mismatched_images: int
    seconds_qat: float
    seconds_snn: float

    def as_dict(self) -> dict:
        return {"images": len(self.qat.samples), "map50_qat": self.qat.map50, "map50_95_qat": self.qat.map50_95,
                "map50_snn": self.snn.map50, "map50_95_snn": self.snn.map50_95, "values_compared": self.values,
                "mismatches": self.mismatches, "mismatched_images": self.mismatched_images,
                "seconds_qat": round(self.seconds_qat, 1), "seconds_snn": round(self.seconds_snn, 1)}


def check_ir_matches(model: torch.nn.Module, net: FewdIFNetwork, where: str) -> None:
    """CheckpointError when the IR cannot be this checkpoint's conversion (input size, heads, head shapes)."""
    size = model.cfg.input_size
    if tuple(net.input_shape) != (3, size, size):
        raise CheckpointError(f"{where}: the IR's input is {list(net.input_shape)}, the checkpoint's [3, {size}, "
                              f"{size}]: convert this checkpoint's export")
    with torch.no_grad():
        outs = model(torch.zeros(1, 3, size, size))
    shapes = [tuple(o.shape[1:]) for o in (outs if isinstance(outs, (tuple, list)) else (outs,))]
    ir_shapes = [tuple(h.out_shape) for h in net.heads]
    if shapes != ir_shapes:
        raise CheckpointError(f"{where}: the IR's heads {ir_shapes} differ from the checkpoint's {shapes}: convert "
                              f"this checkpoint's export")


@torch.no_grad()
def evaluate_qat_and_snn(model: torch.nn.Module, net: FewdIFNetwork, dataset: DetectionDataset,
                         names: Sequence[str], batch_size: int = 32, progress: bool = True) -> SnnEvaluation:
    """Both models on every image of `dataset`, batch by batch; mAPs through the same decode and NMS."""
    import time

    from spikeflow.golden import run_counts_heads

    model.eval()
    specs = model.head_specs
    qat_out: list[list[np.ndarray]] = [[] for _ in specs]
    snn_out: list[list[np.ndarray]] = [[] for _ in specs]
    samples = []
    mismatches = mismatched = values = 0
    t_qat = t_snn = 0.0
    loader = SampleLoader(dataset, batch_size, shuffle=False, seed=0)
    for images, batch in tqdm(loader, total=len(loader), desc="QAT model and SNN", disable=not progress,
                              file=sys.stderr, dynamic_ncols=True):
        t0 = time.perf_counter()
        out = model(images)
        qat = [o.float().numpy() for o in (out if isinstance(out, (tuple, list)) else (out,))]
        t1 = time.perf_counter()
        frames = np.stack([s.image for s in batch])
        snn = [(v.astype(np.float64) * head.out_scale[None, :, None, None]).astype(np.float32)
               for head, v in zip(net.heads, run_counts_heads(net, frames), strict=True)]
        t_qat, t_snn = t_qat + t1 - t0, t_snn + time.perf_counter() - t1
        differs = np.zeros(len(batch), dtype=bool)
        for store_q, store_s, q, s in zip(qat_out, snn_out, qat, snn, strict=True):
            bad = q != s
            mismatches += int(bad.sum())
            values += bad.size
            differs |= bad.reshape(len(bad), -1).any(axis=1)
            store_q.append(q)
            store_s.append(s)
        mismatched += int(differs.sum())
        samples.extend(batch)
    qat_ev = evaluate_outputs([np.concatenate(o) for o in qat_out], samples, specs, names)
    snn_ev = evaluate_outputs([np.concatenate(o) for o in snn_out], samples, specs, names)
    return SnnEvaluation(qat_ev, snn_ev, values, mismatches, mismatched, t_qat, t_snn)


def load_ir_for(model: torch.nn.Module, ir: str | Path) -> FewdIFNetwork:
    from spikeflow.ir import load_network

    net = load_network(ir)
    check_ir_matches(model, net, str(ir))
    return net


def evaluate_with_ir(checkpoint: str | Path, ir: str | Path, data: str | None = None, val_data: str | None = None,
                     image: str | Path | None = None, report: str | Path | None = None,
                     quiet: bool = False) -> SnnEvaluation:
    """`spikeflow eval CHECKPOINT --ir IR`: the QAT model and the SNN of its IR on the validation set; prints both
    mAPs and the compared head values, and writes the model card (`report`: model.json's keys, the SNN's mAP, the
    per-class APs, the training epochs and time) when asked."""
    import json

    from spikeflow.frontend.checkpoint import load_detector
    from spikeflow.frontend.evaluate import draw_evaluation, evaluation_set

    model, doc = load_detector(checkpoint)
    net = load_ir_for(model, ir)
    dataset, source = evaluation_set(model, doc, checkpoint, data, val_data, quiet)
    result = evaluate_qat_and_snn(model, net, dataset, model.names, progress=not quiet)
    if not quiet:
        n = len(result.qat.samples)
        for what, ev, seconds in (("QAT", result.qat, result.seconds_qat), ("SNN", result.snn, result.seconds_snn)):
            print(f"{what}: mAP@0.5 {ev.map50:.3f}  mAP@0.5:0.95 {ev.map50_95:.3f}  on {n} validation images "
                  f"({source}; {seconds:.0f} s)")
        print(f"SNN head values against the QAT model's: {result.mismatches} of {result.values:,} differ, in "
              f"{result.mismatched_images} of {n} images")
        if image:
            print(f"predictions: {draw_evaluation(result.snn, model.names, image)}")
    if report is not None:
        path = Path(report)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(model_card(model, doc, net, result, source, checkpoint, ir), indent=2) + "\n")
        if not quiet:
            print(f"model card: {path}")
    return result


def model_card(model: torch.nn.Module, doc: dict, net: FewdIFNetwork, result: SnnEvaluation, source: str,
               checkpoint: str | Path, ir: str | Path) -> dict:
    """model.json's keys (../shared/REPORTS.md) for a checkpoint evaluated with its IR, plus the SNN's mAP, each
    class's APs and box count, and the training record the checkpoint holds."""
    from spikeflow.frontend.modelinfo import weight_accounting

    cfg = model.cfg
    metrics = doc.get("metrics", {})
    qat_classes, snn_classes = result.qat.per_class, result.snn.per_class
    return {
        "model": cfg.name, "checkpoint": str(checkpoint), "ir": str(ir),
        "input_shape": [3, cfg.input_size, cfg.input_size], **weight_accounting(model), "act_bits": cfg.act_bits,
        "weight_bits": cfg.weight_bits, "head_weight_bits": cfg.head_weight_bits, "timesteps": net.timesteps,
        "dataset": source, "split": "val", "images": len(result.qat.samples),
        "map50_float": metrics.get("map50_float"), "map50_95_float": metrics.get("map50_95_float"),
        "float_note": "the float model's evaluation at the end of the float phase, on the same validation split",
        **result.as_dict(),
        "per_class": {name: {"boxes": qat_classes[name]["boxes"], "ap50_qat": qat_classes[name]["ap50"],
                             "ap50_95_qat": qat_classes[name]["ap50_95"], "ap50_snn": snn_classes[name]["ap50"],
                             "ap50_95_snn": snn_classes[name]["ap50_95"]} for name in qat_classes},
        "training": {"epochs": doc.get("epoch", -1) + 1, "seconds": doc.get("seconds"), "command": doc.get("command"),
                     "data": doc.get("data"), "batch_size": doc.get("batch_size")},
    }
