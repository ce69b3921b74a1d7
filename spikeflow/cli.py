"""The spikeflow command line: train and eval a detector; build a build folder step by step (build), or run one
stage of it (export, convert, verify, sim)."""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Callable

from spikeflow_runtime.cli import guarded

from spikeflow.errors import SpikeflowError


def _train(args: argparse.Namespace) -> None:
    from pathlib import Path

    from spikeflow.data.loader import check_data_argument
    from spikeflow.errors import ConfigError
    from spikeflow.frontend.config import load_config, training_epochs

    cfg = load_config(args.config)  # the config, epochs and data paths are checked before torch is imported
    training_epochs(cfg.train, args.epochs_float, args.epochs_qat)
    check_data_argument(args.data, "--data")
    check_data_argument(args.val_data, "--val-data")
    if args.from_float is not None and not Path(args.from_float).is_file():
        raise ConfigError(f"--from-float {args.from_float}: no such checkpoint (a run's float.pt)")
    from spikeflow.frontend.train import train

    result = train(cfg, args.out, data=args.data, resume=args.resume, epochs_float=args.epochs_float,
                   epochs_qat=args.epochs_qat, val_data=args.val_data, device=args.device,
                   from_float=args.from_float)
    if result.qat_eval is not None:  # rank 0 of a distributed run, or the only process
        print(result.summary())
        print(f"checkpoint: {result.checkpoint}")


def _eval(args: argparse.Namespace) -> None:
    from pathlib import Path

    from spikeflow.data.loader import check_data_argument
    from spikeflow.errors import CheckpointError, ConfigError

    if not Path(args.checkpoint).is_file():  # checked before torch is imported
        raise CheckpointError(f"checkpoint not found: {args.checkpoint}")
    check_data_argument(args.data, "--data")
    check_data_argument(args.val_data, "--val-data")
    if args.report and not args.ir:
        raise ConfigError("--report writes a model card with the SNN's mAP: give the IR with --ir too")
    if args.ir:
        from spikeflow.ir import load_network

        load_network(args.ir)  # a missing or broken IR is an error before the evaluation, not after
        from spikeflow.frontend.snn_eval import evaluate_with_ir

        evaluate_with_ir(args.checkpoint, args.ir, data=args.data, val_data=args.val_data, image=args.image,
                         report=args.report)
        return
    from spikeflow.frontend.evaluate import evaluate_checkpoint

    evaluate_checkpoint(args.checkpoint, data=args.data, image=args.image, val_data=args.val_data)


def _build(args: argparse.Namespace) -> None:
    from spikeflow.flow.config import load_build_config

    cfg = _overrides(load_build_config(args.config), args)
    _run(args.build, cfg, args.first, args.last, config_path=args.config)


def _overrides(cfg, args: argparse.Namespace):
    from spikeflow.hw.boards import Board

    board = Board.parse(args.board, "--board") if getattr(args, "board", None) else None
    return cfg.with_overrides(frames=getattr(args, "frames", None), board=board,
                              clock_mhz=getattr(args, "clock_mhz", None))


def _run(build: str, cfg, first: str | None = None, last: str | None = None, config_path: str | None = None) -> None:
    from spikeflow.flow.runner import run_build

    run_build(build, cfg, first, last, config_path=config_path or f"{build}/build.yaml")
    _check_verified(build)


def _check_verified(build: str) -> None:
    """A mismatch in any stage the build verified is an error (exit code 2)."""
    from spikeflow.flow.report import read_report

    stages = read_report(build, "verify").get("stages", {})
    bad = [name for name, s in stages.items() if s.get("mismatches", 0)]
    if bad:
        raise SpikeflowError(f"verification found mismatches in: {', '.join(bad)} (see {build}/report/verify.json)")


def _existing_config(build: str, **model: str | None):
    """The build's saved build.yaml, with the model source replaced when one is given; or a new config."""
    from dataclasses import replace
    from pathlib import Path

    from spikeflow.flow.config import ModelSource, build_config_from_dict, load_build_config

    saved = Path(build) / "build.yaml"
    source = {k: v for k, v in model.items() if v}
    if saved.is_file():
        cfg = load_build_config(saved)
        for kind, path in source.items():
            cfg = replace(cfg, model=ModelSource(kind, Path(path).resolve()))  # type: ignore[arg-type]
        return cfg
    if not source:
        options = " or ".join(f"--{kind}" for kind in model)  # the model options this command takes
        give = f"give a model ({options}) or " if options else ""
        raise SpikeflowError(f"{build} has no build.yaml: {give}make the build first with 'spikeflow build {build} "
                             f"--config BUILD.yaml'")
    return build_config_from_dict({"model": source}, source="command line")


def _export(args: argparse.Namespace) -> None:
    cfg = _existing_config(args.build, checkpoint=args.checkpoint).with_overrides(data=args.data, frames=args.frames)
    _run(args.build, cfg.with_overrides(steps=("export",)))


def _convert(args: argparse.Namespace) -> None:
    cfg = _existing_config(args.build, qonnx=args.qonnx).with_overrides(data=args.data)
    steps = ("export", "convert") if args.qonnx else ("convert",)
    _run(args.build, cfg.with_overrides(steps=steps))


def _verify(args: argparse.Namespace) -> None:
    cfg = _existing_config(args.build).with_overrides(frames=args.frames)
    _run(args.build, cfg.with_overrides(steps=("frames", "verify")))


def _sim(args: argparse.Namespace) -> None:
    cfg = _overrides(_existing_config(args.build), args)
    steps = ("frames", "fold", "rtl", "rtlsim") + (() if args.no_cocotb else ("cocotb",)) + ("report",)
    _run(args.build, cfg.with_overrides(steps=steps))


def _bitstream(args: argparse.Namespace) -> None:
    """The board's bitstream scripts from the build's IR and RTL (the rtl step runs first when rtl/ is missing);
    Vivado or v++ runs when on PATH, --dry-run prints the commands instead."""
    from pathlib import Path

    from spikeflow.backends.bitstream.steps import bitstream_flow
    from spikeflow.backends.rtl.steps import step_rtl
    from spikeflow.errors import StepError
    from spikeflow.flow.builddir import BuildDir

    build = BuildDir(Path(args.build))
    if not build.ir_json.is_file():
        raise StepError(f"{build.ir_json} is missing: run the flow down to the IR first, e.g. 'make demo' for "
                        f"build/demo, or 'spikeflow build {args.build} --config model/builds/sim.yaml --to rtl' "
                        f"(the shipped checkpoint model/tiny.pt)")
    cfg = _overrides(_existing_config(args.build), args)
    if not (build.rtl / "filelist.f").is_file():
        print(f"== rtl: {build.rtl} is missing, generating it first")
        step_rtl(build, cfg)
    print(f"== bitstream: {cfg.board.value}{' (dry run)' if args.dry_run else ''}")
    bitstream_flow(build, cfg, dry_run=args.dry_run)


def _drive(args: argparse.Namespace) -> None:
    """Stream a source through the build's accelerator on one back end (spikeflow.driver)."""
    from spikeflow.driver.run import run_build

    run_build(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spikeflow", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks and library warnings")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="quantization-aware training of a detector")
    p.add_argument("--config", required=True, help="model config YAML (model/configs/*.yaml)")
    p.add_argument("--data", help="YOLO, COCO or VOC data YAML, or a COCO JSON; default: the built-in synthetic set")
    p.add_argument("--val-data", help="separate validation set (e.g. a COCO val JSON); default: --data's val split")
    p.add_argument("--out", required=True, help="run directory for checkpoints (last.pt, model.pt)")
    p.add_argument("--resume", action="store_true",
                   help="continue from OUT/last.pt exactly where it stopped (saved each epoch, every "
                        "train.checkpoint_minutes and on Ctrl-C)")
    p.add_argument("--device", help="cpu, cuda or cuda:N (default: CUDA when available); under torchrun each "
                                    "process takes its LOCAL_RANK GPU")
    p.add_argument("--epochs-float", type=int, help="override the config's float warm-up epochs")
    p.add_argument("--epochs-qat", type=int, help="override the config's QAT epochs")
    p.add_argument("--from-float", metavar="CKPT",
                   help="start at the QAT phase from a float-phase checkpoint (another run's float.pt) of the same "
                        "architecture: try QAT settings without training the float network again")
    p.set_defaults(func=_train)

    p = sub.add_parser("eval", help="mAP of a checkpoint on its validation set, and a picture of predictions")
    p.add_argument("checkpoint")
    p.add_argument("--data", help="dataset to evaluate on, its val split (default: the checkpoint's)")
    p.add_argument("--val-data", help="validation set to evaluate on as is (e.g. a COCO val JSON)")
    p.add_argument("--image", help="PNG to write with predicted boxes")
    p.add_argument("--ir", help="the checkpoint's converted IR folder (a build's ir/): also evaluate the SNN (golden "
                                "model) on the same images and compare its head values with the QAT model's")
    p.add_argument("--report", help="with --ir: the model card JSON to write (model.json's keys, the SNN's mAP, "
                                    "per-class APs, training record)")
    p.set_defaults(func=_eval)

    p = sub.add_parser("build", help="run a build's steps (export, frames, convert, verify, fold, rtl, rtlsim, ...)")
    p.add_argument("build", help="build folder, e.g. build/demo")
    p.add_argument("--config", required=True, help="build config YAML (model/builds/*.yaml)")
    p.add_argument("--from", dest="first", metavar="STEP", help="first step to run (default: the first)")
    p.add_argument("--to", dest="last", metavar="STEP", help="last step to run (default: the last)")
    _common_options(p)
    p.set_defaults(func=_build)

    p = sub.add_parser("export", help="export a checkpoint to QONNX in a build folder (step export)")
    p.add_argument("build", help="build folder")
    p.add_argument("--checkpoint", help="checkpoint (default: the build's)")
    p.add_argument("--data", help="dataset whose validation frames check the export")
    p.add_argument("--frames", type=int, help="frames for the export check")
    p.set_defaults(func=_export)

    p = sub.add_parser("convert", help="convert the build's QONNX model to the FewdIF IR (step convert)")
    p.add_argument("build", help="build folder")
    p.add_argument("--qonnx", help="a QONNX model to import first (step export of a QONNX source)")
    p.add_argument("--data", help="dataset or folder of images for the verification frames")
    p.set_defaults(func=_convert)

    p = sub.add_parser("verify", help="golden model against QONNX on the build's frames (steps frames, verify)")
    p.add_argument("build", help="build folder")
    p.add_argument("--frames", type=int, help="number of verification frames")
    p.set_defaults(func=_verify)

    p = sub.add_parser("sim", help="RTL of a build against the golden model (steps frames, fold, rtl, rtlsim, "
                                   "cocotb, report)")
    p.add_argument("build", help="build folder")
    _common_options(p)
    p.add_argument("--no-cocotb", action="store_true", help="only the fast Verilator harness")
    p.set_defaults(func=_sim)

    p = sub.add_parser("bitstream", help="Vivado (Zynq) or v++ (Alveo) bitstream of a build's RTL, and its deploy/ "
                                         "listing; without the tool, the scripts and the commands it would run")
    p.add_argument("build", help="build folder with an IR, e.g. build/demo")
    p.add_argument("--board", help="board (pynq-z2, zcu104, u50, u250; ulx3s-85f: the pnr step); default: the "
                   "build config's")
    p.add_argument("--clock-mhz", type=float, help="override the clock (default: the config's, else the board's)")
    p.add_argument("--dry-run", action="store_true", help="write the scripts and print the commands; run nothing")
    p.set_defaults(func=_bitstream)

    from spikeflow_runtime.cli import add_run_options

    from spikeflow.driver.registry import backend_names

    p = sub.add_parser("run", help="stream images, a video, a .npy array or a camera through a build's accelerator "
                                   "(golden model, RTL harness, replay of recorded outputs at a set device rate, or a "
                                   "board) and write the detections")
    p.add_argument("build", help="build folder, e.g. build/demo")
    add_run_options(p, backend_names(), "golden")
    p.set_defaults(func=_drive)
    return parser


def _common_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--frames", type=int, help="override the config's number of verification frames")
    p.add_argument("--board", help="override the config's board (pynq-z2, zcu104, u50, u250, ulx3s-85f)")
    p.add_argument("--clock-mhz", type=float, help="override the config's clock")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.verbose:
        warnings.filterwarnings("ignore")
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    func: Callable[[argparse.Namespace], None] = args.func
    return guarded(f"spikeflow {args.command}", lambda: func(args), args.verbose)

if __name__ == "__main__":
    sys.exit(main())
