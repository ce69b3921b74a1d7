"""The flow's steps as plain functions over a build directory: evaluate, export, convert, verify, demo."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import torch

from spikeflow.builddir import BuildDir
from spikeflow.checkpoint import load_detector
from spikeflow.data.loader import build_dataset
from spikeflow.data.sample import Sample
from spikeflow.errors import ExportError
from spikeflow.evaluate import Evaluation, draw_evaluation, evaluate_model
from spikeflow.export import check_export, export_detector, run_qonnx
from spikeflow.ir import FewdIFNetwork, load_network
from spikeflow.model import QuantDetector
from spikeflow.modelinfo import weight_accounting
from spikeflow.report import read_report, write_report
from spikeflow.verify import StageResult, compare


def _val_set(model: QuantDetector, data: str | None):
    cfg = model.cfg
    return build_dataset(None if data in (None, "synthetic") else data, "val", cfg.input_size,
                         synthetic_count=cfg.train.val_images, seed=cfg.train.seed)


def validation_frames(model: QuantDetector, data: str | None, count: int) -> tuple[np.ndarray, list[Sample]]:
    """The first `count` validation images as uint8 frames [N, 3, H, W], with their samples."""
    dataset = _val_set(model, data)
    samples = [dataset[i] for i in range(min(count, len(dataset)))]
    return np.stack([s.image for s in samples]), samples


def evaluate_checkpoint(checkpoint: str | Path, data: str | None = None, image: str | Path | None = None
                        ) -> Evaluation:
    model, doc = load_detector(checkpoint)
    data = data or doc.get("data")
    ev = evaluate_model(model, _val_set(model, data), model.head_spec)
    print(f"{checkpoint}: mAP@0.5 {ev.map50:.3f}  mAP@0.5:0.95 {ev.map50_95:.3f}  on {len(ev.samples)} "
          f"validation images ({data or 'synthetic'})")
    if image:
        print(f"predictions: {draw_evaluation(ev, model.names, image)}")
    return ev


def export_checkpoint(checkpoint: str | Path, out: str | Path, data: str | None = None, check_frames: int = 16,
                      qat_eval: Evaluation | None = None) -> Path:
    """Export to QONNX, check it against Brevitas, record flow.json and report/model.json in its folder."""
    out = Path(out)
    build = BuildDir(out.parent)
    model, doc = load_detector(checkpoint)
    data = data or doc.get("data", "synthetic")
    started = time.time()
    path = export_detector(model, out)
    frames, _ = validation_frames(model, data, check_frames)
    check = check_export(model, path, frames.astype(np.float32) / 256.0)
    print(f"QONNX: {path} ({time.time() - started:.1f} s)")
    print(f"export check: {check.summary()}")
    if not check.passed:
        raise ExportError(f"{path}: {check.summary()}")
    metrics = doc.get("metrics", {})
    if qat_eval is None and "map50_qat" not in metrics:
        qat_eval = evaluate_model(model, _val_set(model, data), model.head_spec)
    accounting = weight_accounting(model)
    build.write_flow({"checkpoint": str(Path(checkpoint).resolve()), "onnx": str(path.resolve()), "data": data,
                      "names": model.names, "input_size": model.cfg.input_size, "config": model.cfg.to_dict()})
    write_report(build.root, "model", {
        "model": model.cfg.name, "input_shape": [3, model.cfg.input_size, model.cfg.input_size],
        **accounting, "act_bits": model.cfg.act_bits, "timesteps": model.cfg.timesteps,
        "weight_bits": model.cfg.weight_bits, "head_weight_bits": model.cfg.head_weight_bits,
        "scaling": model.cfg.scaling,
        "map50_float": metrics.get("map50_float"),
        "map50_qat": qat_eval.map50 if qat_eval else metrics.get("map50_qat"),
        "map50_95_qat": qat_eval.map50_95 if qat_eval else metrics.get("map50_95_qat"),
        "dataset": data, "val_images": model.cfg.train.val_images, "checkpoint": str(checkpoint),
        "train_command": doc.get("command", ""),
        "export_check": {"frames": check.frames, "max_abs_diff": check.max_abs_diff,
                         "max_rel_diff": check.max_rel_diff, "tolerance": check.tolerance},
    })
    print(f"parameters {accounting['params']:,}  weight bytes {accounting['weight_bytes']:,}")
    return path


def convert_model(onnx_path: str | Path, out: str | Path) -> FewdIFNetwork:
    from spikeflow.convert import convert_qonnx

    build = BuildDir(Path(out))
    started = time.time()
    net = convert_qonnx(onnx_path, name=build.name)
    if build.flow_json.is_file():
        net.meta.update({k: v for k, v in build.read_flow().items() if k in ("names", "input_size")})
    net.save(build.ir)
    print(f"FewdIF IR: {build.ir} ({len(net.layers)} layers, T={net.timesteps}, "
          f"{time.time() - started:.1f} s)")
    for layer in net.layers:
        extra = f"acc {layer.acc_bits} bits" if hasattr(layer, "acc_bits") else ""
        print(f"  {layer.kind:<8} {layer.name:<12} {str(layer.in_shape):>16} -> {str(layer.out_shape):<16} {extra}")
    return net


def verify_build(build_dir: str | Path, frames: int = 64, stages: list[str] | None = None) -> dict[str, StageResult]:
    """Run each available stage on validation frames and write report/verify.json and spike statistics."""
    from spikeflow.golden import run_counts, run_spikes
    from spikeflow.golden.count import dequantize
    from spikeflow.spikestats import plot_spike_statistics, spike_statistics

    build = BuildDir(Path(build_dir))
    flow = build.read_flow()
    model, _ = load_detector(flow["checkpoint"])
    net = load_network(build.ir)
    images, _ = validation_frames(model, flow.get("data"), frames)
    wanted = set(stages) if stages else None
    results: dict[str, StageResult] = {}

    def want(name: str) -> bool:
        return wanted is None or name in wanted

    float_in = images.astype(np.float32) / 256.0
    qonnx_out = run_qonnx(flow["onnx"], float_in)
    po2 = bool(net.meta.get("power_of_two_scales", True))
    if want("qonnx"):
        with torch.no_grad():
            brevitas_out = model.deploy()(torch.from_numpy(float_in)).numpy()
        results["qonnx"] = compare("qonnx", "brevitas", qonnx_out, brevitas_out, tolerance=0.0 if po2 else 1e-5)
    layer_counts: list[np.ndarray] = []
    golden_v = run_counts(net, images, collect=layer_counts)
    if want("golden"):
        results["golden"] = compare("golden", "qonnx", dequantize(net, golden_v), qonnx_out)
        if not po2:
            results["golden"] = _golden_with_near_ties(flow["onnx"], net, images, results["golden"])
    if want("golden_spike"):
        spike_v = run_spikes(net, images)
        if po2:
            results["golden_spike"] = compare("golden_spike", "qonnx", dequantize(net, spike_v), qonnx_out)
        else:  # float scales: the golden count mode (exact thresholds) is the reference
            results["golden_spike"] = compare("golden_spike", "golden", spike_v, golden_v)
    previous = read_report(build.root, "verify").get("stages", {})
    previous.update({name: r.as_dict() for name, r in results.items()})
    write_report(build.root, "verify", {"stages": previous})
    rows = spike_statistics(net, layer_counts)
    write_report(build.root, "spikes", {"frames": len(images), "timesteps": net.timesteps, "layers": rows})
    plot_spike_statistics(rows, build.report / "spikes.png", f"{net.name}: spikes per layer")
    print(f"verification over {len(images)} validation frames:")
    for r in results.values():
        print("  " + r.line())
    print(f"report: {build.report / 'verify.json'}  spike statistics: {build.report / 'spikes.png'}")
    return results


def _golden_with_near_ties(onnx_path: str, net: FewdIFNetwork, images: np.ndarray,
                           end_to_end: StageResult) -> StageResult:
    """With float scales, layer-wise check: differences are allowed only at near-ties, and all are counted."""
    from spikeflow.neartie import layerwise_check

    report = layerwise_check(onnx_path, net, images)
    unexplained = report.unexplained_end_to_end_frames
    return StageResult("golden", "qonnx", len(images), report.real_mismatches + unexplained,
                       end_to_end.mismatched_frames, end_to_end.max_abs_diff, note=(
                           f"float scales: {report.near_ties} near-ties at quantization boundaries, "
                           f"{end_to_end.mismatches} output values differ end to end because of them"),
                       extra={"near_ties": report.as_dict()})


def prepare_build(build_dir: str | Path, checkpoint: str | Path) -> BuildDir:
    """Make sure a build has its QONNX model and IR, exporting and converting `checkpoint` if not."""
    build = BuildDir(Path(build_dir))
    if not (build.ir / "network.json").is_file():
        print(f"{build.root} has no FewdIF IR yet: exporting and converting {checkpoint}")
        onnx_path = export_checkpoint(checkpoint, build.onnx)
        convert_model(onnx_path, build.root)
    return build


def run_demo(config: str | Path, out: str | Path, checkpoint: str | Path | None = None, frames: int = 64,
             rtl_frames: int = 8) -> None:
    """The main job on the built-in default: train tiny, evaluate, export, convert, verify, RTL simulation."""
    from spikeflow.config import load_config
    from spikeflow.train import train

    started = time.time()
    build = BuildDir(Path(out))
    build.root.mkdir(parents=True, exist_ok=True)
    qat_eval = None
    if checkpoint is None:
        cfg = load_config(config)
        print(f"== train {cfg.name} ({cfg.input_size}x{cfg.input_size}, a={cfg.act_bits}, T={cfg.timesteps}) "
              f"on the built-in dataset")
        result = train(cfg, build.root / "train")
        checkpoint = result.checkpoint
        qat_eval = result.qat_eval
        print(f"float mAP@0.5 {result.map50_float:.3f}   QAT mAP@0.5 {result.map50_qat:.3f}   "
              f"QAT mAP@0.5:0.95 {result.map50_95_qat:.3f}   ({result.seconds:.0f} s)")
    else:
        checkpoint = Path(shutil.copy(checkpoint, build.root / "checkpoint.pt"))
    model, _ = load_detector(checkpoint)
    if qat_eval is None:
        qat_eval = evaluate_model(model, _val_set(model, None), model.head_spec)
    picture = draw_evaluation(qat_eval, model.names, build.root / "predictions.png")
    print(f"predictions drawn: {picture}")
    print("== export to QONNX")
    onnx_path = export_checkpoint(checkpoint, build.onnx, qat_eval=qat_eval)
    print("== convert to FewdIF")
    convert_model(onnx_path, build.root)
    print("== verify")
    results = verify_build(build.root, frames=frames)
    print("== RTL: generate and run the fast Verilator harness")
    from spikeflow.hardware import simulate_build

    results.update(simulate_build(build.root, frames=rtl_frames, cocotb=False))
    bad = [r for r in results.values() if not r.passed]
    print(f"demo finished in {time.time() - started:.0f} s: {build.root}")
    if bad:
        from spikeflow.errors import SpikeflowError

        raise SpikeflowError("verification found mismatches in: " + ", ".join(r.stage for r in bad))

