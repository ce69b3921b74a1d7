"""Where a QAT model loses accuracy: what each kind of quantization costs the float model, and the QAT model's mAP
with one kind of quantization undone at a time.

With `--float` (a run's float.pt), the float-phase model is quantized without training (post-training
quantization, the state QAT starts from: activation scales calibrated as at the start of QAT on 256 training
images), at the config's bits and at other activation and weight bits (`--bits a/w ...`), each also with its
weights left at their float values, so the cost of the activation quantizer and of the weight quantizer are
measured apart. Then the QAT model is evaluated as trained, then with (a) every activation left unrounded,
clipped to its quantizer's range or not clipped at all, (b) every backbone weight at its float value (the
BN-folded weight before the quantizer), (c) one layer's activations unrounded at a time. Each variant keeps the
quantizer's scales (the biases stay quantized with them), so only the rounding or clipping it names is removed.
All variants see the same images (the first `--images` of the checkpoint's validation set, or of `--data`'s).

    .venv/bin/python bench/qat_sensitivity.py model/fod-default.pt --float runs/fod-default/float.pt \
        --data datasets/fod-a.yaml --images 1000 --out build/bench/qat-sensitivity.json

This is an analysis of one trained model, not a training recipe: a quantizer whose removal recovers most of the
gap is where more bits, a better range or more QAT steps would pay.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from itertools import islice
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spikeflow.data.loader import SampleLoader, build_dataset  # noqa: E402
from spikeflow.frontend.checkpoint import load_detector, load_float_start, resolve_stored_data  # noqa: E402
from spikeflow.frontend.config import ModelConfig  # noqa: E402
from spikeflow.frontend.evaluate import evaluate_model, evaluation_set  # noqa: E402
from spikeflow.frontend.model import QuantDetector  # noqa: E402
from spikeflow.frontend.model.blocks import FoldedConvBNReLU  # noqa: E402


class FirstImages:
    """The first `count` samples of a dataset, decoded once and held in memory."""

    def __init__(self, dataset, count: int) -> None:
        self.names, self.input_size, self.report = dataset.names, dataset.input_size, dataset.report
        self.samples = [dataset[i] for i in range(min(count, len(dataset)))]

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int):
        return self.samples[i]


class ExactActivation(nn.Module):
    """The quantized ReLU's output tensor with its value replaced by the unrounded ReLU (clipped to the
    quantizer's largest level when `clip`); its scale is kept for the next layer's bias quantizer."""

    def __init__(self, act: nn.Module, clip: bool) -> None:
        super().__init__()
        self.act, self.clip = act, clip

    def forward(self, y: torch.Tensor):
        q = self.act(y)
        exact = F.relu(y)
        if self.clip:
            top = q.scale * (2 ** int(q.bit_width) - 1)
            exact = torch.minimum(exact, top)
        return q.set(value=exact)


class ExactWeight(nn.Module):
    """The weight quantizer's output tensor with its value replaced by the float weight (scale kept)."""

    def __init__(self, quant: nn.Module) -> None:
        super().__init__()
        self.quant = quant

    def forward(self, weight: torch.Tensor):
        return self.quant(weight).set(value=weight)


@contextmanager
def patched(layers: list[FoldedConvBNReLU], attr: str, wrap: Callable[[nn.Module], nn.Module]) -> Iterator[None]:
    """Replace `attr` (act, or conv.weight_quant) of each layer by `wrap(original)` for the duration."""
    saved = []
    for layer in layers:
        owner = layer.conv if attr == "weight_quant" else layer
        original = getattr(owner, attr)
        saved.append((owner, original))
        owner._modules[attr] = wrap(original)
    try:
        yield
    finally:
        for owner, original in saved:
            owner._modules[attr] = original


def post_training(float_ckpt: str, cfg: ModelConfig, act_bits: int, weight_bits: int,
                  calib: list[torch.Tensor]) -> QuantDetector:
    """The float-phase model as `cfg` with `act_bits` activations and `weight_bits` backbone weights, quantized
    without training: the activation scales calibrated on `calib` as QAT's start does."""
    cfg = replace(cfg, act_bits=act_bits, weight_bits=weight_bits,
                  layers=tuple(replace(spec, weight_bits=None) for spec in cfg.layers))
    model, _ = load_float_start(float_ckpt, cfg)
    model.eval()
    model.start_qat(calib)
    return model.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", help="the QAT checkpoint (a run's model.pt)")
    parser.add_argument("--float", dest="float_ckpt", help="the same run's float-phase checkpoint (float.pt)")
    parser.add_argument("--data", help="data YAML whose val split to use (default: the checkpoint's)")
    parser.add_argument("--images", type=int, default=1000, help="validation images to use (default 1000)")
    parser.add_argument("--bits", nargs="*", default=[], metavar="A/W",
                        help="with --float: also quantize at these activation/weight bits, e.g. 3/4 2/6")
    parser.add_argument("--per-layer", action="store_true", help="also undo one layer's activation rounding at a time")
    parser.add_argument("--out", default="build/bench/qat-sensitivity.json")
    args = parser.parse_args()

    model, doc = load_detector(args.checkpoint)
    dataset, source = evaluation_set(model, doc, args.checkpoint, args.data)
    images = FirstImages(dataset, args.images)
    layers = [m for m in model.backbone if isinstance(m, FoldedConvBNReLU)]
    rows: list[dict] = []

    def run(name: str, forward: Callable, specs=model.head_specs) -> None:
        start = time.time()
        ev = evaluate_model(forward, images, specs)
        rows.append({"variant": name, "map50": round(ev.map50, 4), "map50_95": round(ev.map50_95, 4)})
        print(f"{name:58s} mAP@0.5 {ev.map50:.3f}  mAP@0.5:0.95 {ev.map50_95:.3f}  ({time.time() - start:.0f} s)",
              flush=True)

    print(f"{len(images)} images of {source}; {args.checkpoint}: {len(layers)} quantized conv layers", flush=True)
    if args.float_ckpt:
        float_model, _ = load_detector(args.float_ckpt)
        run("float model (float phase's checkpoint)", float_model, float_model.head_specs)
        train_data = args.data or resolve_stored_data(doc.get("data"), args.checkpoint)
        train_set = build_dataset(train_data, "train", model.cfg.input_size, seed=model.cfg.train.seed)
        calib = [x for x, _ in islice(SampleLoader(train_set, 64, False, 0), 4)]
        cfg = model.cfg
        settings = [(cfg.act_bits, cfg.weight_bits)] + [tuple(int(v) for v in b.split("/")) for b in args.bits]
        for a, w in settings:
            ptq = post_training(args.float_ckpt, cfg, a, w, calib)
            ptq_layers = [m for m in ptq.backbone if isinstance(m, FoldedConvBNReLU)]
            run(f"float model quantized untrained, a={a} w={w}", ptq)
            with patched(ptq_layers, "weight_quant", ExactWeight):
                run(f"  the same with float weights (activations a={a} only)", ptq)
    run("QAT model as trained", model)
    with patched(layers, "act", lambda a: ExactActivation(a, clip=False)):
        run("activations unrounded, unclipped (every layer)", model)
    with patched(layers, "act", lambda a: ExactActivation(a, clip=True)):
        run("activations unrounded, clipped to the 2^a-1 level (every layer)", model)
    with patched(layers, "weight_quant", ExactWeight):
        run("backbone weights at their float values", model)
    with patched(layers, "weight_quant", ExactWeight), patched(layers, "act", lambda a: ExactActivation(a, False)):
        run("both: weights float, activations unrounded and unclipped", model)
    if args.per_layer:
        for i, layer in enumerate(layers):
            with patched([layer], "act", lambda a: ExactActivation(a, clip=True)):
                run(f"layer {i} ({layer.conv.out_channels} ch) activations unrounded, clipped", model)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"checkpoint": str(args.checkpoint), "float": args.float_ckpt, "data": source,
                               "images": len(images), "rows": rows}, indent=2) + "\n")
    print(f"written: {out}")


if __name__ == "__main__":
    with torch.no_grad():
        main()
