"""Front-end steps: train, evaluate and export. The only steps that load torch model code (spikeflow.frontend),
and they load it inside the functions, so that the steps after them never import it."""

from __future__ import annotations

import shutil
from pathlib import Path

from spikeflow.errors import ConfigError, ExportError
from spikeflow.flow.builddir import BuildDir
from spikeflow.flow.config import BuildConfig
from spikeflow.flow.frames import dataset_frames
from spikeflow.flow.model_info import SYNTHETIC, ModelInfo
from spikeflow.flow.report import file_sha256, read_report, write_report
from spikeflow.verify.compare import compare
from spikeflow.verify.report import record_stages, start_stage_table


def checkpoint_of(build: BuildDir, cfg: BuildConfig) -> Path:
    """The checkpoint a build exports: the config's, or the one the train step wrote."""
    if cfg.model.kind == "train":
        if not build.checkpoint.is_file():
            raise ConfigError(f"{build.checkpoint} is missing: the train step writes it (model: train)")
        return build.checkpoint
    if cfg.model.kind != "checkpoint":
        raise ConfigError(f"the model source is {cfg.model.kind} {cfg.model.path}: there is no checkpoint")
    return cfg.model.path


def step_train(build: BuildDir, cfg: BuildConfig) -> None:
    if cfg.model.kind != "train":
        print(f"   nothing to train: the model source is a {cfg.model.kind} ({cfg.model.path})")
        return
    from spikeflow.frontend.config import load_config
    from spikeflow.frontend.train import train

    model_cfg = load_config(cfg.model.path)
    data = None if cfg.data in (None, SYNTHETIC) else cfg.data
    print(f"   {model_cfg.name} ({model_cfg.input_size}x{model_cfg.input_size}, a={model_cfg.act_bits}, "
          f"T={model_cfg.timesteps}) on {data or 'the built-in dataset'}")
    result = train(model_cfg, build.train, data=data)
    if result.checkpoint.resolve() != build.checkpoint.resolve():
        shutil.copy(result.checkpoint, build.checkpoint)
    print(f"   {result.summary()} -> {build.checkpoint}")


def _validation_set(model, data: str | None):
    from spikeflow.data.loader import build_dataset

    cfg = model.cfg
    return build_dataset(None if data in (None, SYNTHETIC) else data, "val", cfg.input_size,
                         synthetic_count=cfg.train.val_images, seed=cfg.train.seed)


def step_evaluate(build: BuildDir, cfg: BuildConfig) -> None:
    """mAP of the (QAT) checkpoint on its validation set: report/evaluation.json and report/predictions.png."""
    if cfg.model.kind == "qonnx":
        print("   skipped: a QONNX source has no torch model to evaluate")
        return
    from spikeflow.frontend.checkpoint import load_detector, resolve_stored_data
    from spikeflow.frontend.evaluate import draw_evaluation, evaluate_model

    checkpoint = checkpoint_of(build, cfg)
    model, doc = load_detector(checkpoint)
    data = cfg.data or resolve_stored_data(doc.get("data"), checkpoint) or SYNTHETIC
    ev = evaluate_model(model, _validation_set(model, data), model.head_specs)
    build.report.mkdir(parents=True, exist_ok=True)
    picture = draw_evaluation(ev, model.names, build.report / "predictions.png")
    write_report(build.root, "evaluation", {"checkpoint": str(checkpoint), "sha256": file_sha256(checkpoint),
                                            "dataset": data,
                                            "images": len(ev.samples), "map50": ev.map50, "map50_95": ev.map50_95})
    print(f"   mAP@0.5 {ev.map50:.3f}  mAP@0.5:0.95 {ev.map50_95:.3f} on {len(ev.samples)} validation images "
          f"({data}); predictions drawn: {picture}")


def step_export(build: BuildDir, cfg: BuildConfig) -> None:
    start_stage_table(build.root)  # the rows of the model exported before describe that model, not this one
    if cfg.model.kind == "qonnx":
        _import_qonnx(build, cfg)
    else:
        _export_checkpoint(build, cfg)


def _export_checkpoint(build: BuildDir, cfg: BuildConfig) -> None:
    """QONNX export of the checkpoint, checked with execute_onnx against Brevitas on the verification frames
    (stage `qonnx` of verify.json); writes model.onnx, model_info.json and report/model.json."""
    from spikeflow.frontend.checkpoint import load_detector, resolve_stored_data
    from spikeflow.frontend.evaluate import evaluate_model
    from spikeflow.frontend.export import check_export, export_detector
    from spikeflow.frontend.modelinfo import weight_accounting
    from spikeflow.verify.qonnx_exec import qonnx_input

    checkpoint = checkpoint_of(build, cfg)
    model, doc = load_detector(checkpoint)
    mcfg = model.cfg
    trained_on = resolve_stored_data(doc.get("data"), checkpoint) or SYNTHETIC
    info = ModelInfo(name=mcfg.name, input_shape=(3, mcfg.input_size, mcfg.input_size), names=tuple(model.names),
                     anchors=tuple(a for spec in model.head_specs for a in spec.anchors),  # head after head
                     data=trained_on, source=str(checkpoint),
                     synthetic_val_images=mcfg.train.val_images, seed=mcfg.train.seed)
    path = export_detector(model, build.onnx)
    frames = dataset_frames(info, cfg.data, cfg.frames)
    check = check_export(model, path, qonnx_input(frames.frames))
    print(f"   QONNX: {path}; export check: {check.summary()}")
    if not check.passed:
        raise ExportError(f"{path}: {check.summary()}")
    info.save(build.model_info)
    result = compare("qonnx", "brevitas", check.qonnx_outputs, check.brevitas_outputs, tolerance=check.tolerance)
    record_stages(build.root, {"qonnx": result})
    evaluation = read_report(build.root, "evaluation")
    metrics = doc.get("metrics", {})
    if evaluation.get("sha256") == file_sha256(checkpoint):  # the evaluate step's, of this very file
        qat = {"map50_qat": evaluation["map50"], "map50_95_qat": evaluation["map50_95"],
               "dataset": evaluation["dataset"]}
    elif "map50_qat" in metrics:
        qat = {"map50_qat": metrics["map50_qat"], "map50_95_qat": metrics.get("map50_95_qat"), "dataset": trained_on}
    else:
        ev = evaluate_model(model, _validation_set(model, trained_on), model.head_specs)
        qat = {"map50_qat": ev.map50, "map50_95_qat": ev.map50_95, "dataset": trained_on}
    accounting = weight_accounting(model)
    write_report(build.root, "model", {
        "model": mcfg.name, "input_shape": list(info.input_shape), **accounting, "act_bits": mcfg.act_bits,
        "timesteps": mcfg.timesteps, "weight_bits": mcfg.weight_bits, "head_weight_bits": mcfg.head_weight_bits,
        "scaling": mcfg.scaling, "map50_float": metrics.get("map50_float"),
        "map50_float_dataset": trained_on if "map50_float" in metrics else None, **qat,
        "val_images": mcfg.train.val_images, "checkpoint": str(checkpoint), "train_command": doc.get("command", ""),
        "export_check": {"frames": check.frames, "data": frames.data, "max_abs_diff": check.max_abs_diff,
                         "max_rel_diff": check.max_rel_diff, "tolerance": check.tolerance},
    })
    print(f"   parameters {accounting['params']:,}  weight bytes {accounting['weight_bytes']:,}  "
          f"QAT mAP@0.5 {qat['map50_qat']:.3f} on {qat['dataset']}")


def _import_qonnx(build: BuildDir, cfg: BuildConfig) -> None:
    """A QONNX source: cleaned with qonnx into model.onnx (self-contained); model_info.json from the graph."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.cleanup import cleanup_model

    from spikeflow.convert.lower import input_quant
    from spikeflow.errors import ConversionError

    source = cfg.model.path
    if not source.is_file():
        raise ConversionError(f"QONNX model not found: {source}")
    try:
        raw = ModelWrapper(str(source))
        input_name = raw.graph.input[0].name
        model = cleanup_model(raw)
    except Exception as exc:  # noqa: BLE001 - any failure to read the file means it is not a usable model
        raise ConversionError(f"{source}: not a readable QONNX model ({exc})") from exc
    input_quant(model, str(source), input_name)  # a plain ONNX model is refused here, naming the user's file
    shape = [int(d) for d in model.get_tensor_shape(model.graph.input[0].name)]
    if len(shape) != 4 or shape[0] != 1:
        raise ConversionError(f"{source}: input {model.graph.input[0].name!r} has shape {shape}, expected "
                              f"[1, C, H, W]")
    build.root.mkdir(parents=True, exist_ok=True)
    model.save(str(build.onnx))
    info = ModelInfo(name=source.stem, input_shape=tuple(shape[1:]), names=cfg.names, anchors=(),
                     data=cfg.data or SYNTHETIC, source=str(source))
    info.save(build.model_info)
    write_report(build.root, "model", {"model": info.name, "input_shape": list(info.input_shape),
                                       "qonnx": str(source), "dataset": info.data})
    print(f"   QONNX model {source} -> {build.onnx} (input {shape[1:]}); no Brevitas model to check it against")

