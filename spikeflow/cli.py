"""The spikeflow command line: train, eval, export, convert, verify and the demo flow."""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Callable

from spikeflow.errors import SpikeflowError


def _train(args: argparse.Namespace) -> None:
    from spikeflow.config import load_config
    from spikeflow.train import train

    cfg = load_config(args.config)
    result = train(cfg, args.out, data=args.data, resume=args.resume, epochs_float=args.epochs_float,
                   epochs_qat=args.epochs_qat, val_data=args.val_data)
    print(f"float mAP@0.5 {result.map50_float:.3f}  QAT mAP@0.5 {result.map50_qat:.3f}  "
          f"QAT mAP@0.5:0.95 {result.map50_95_qat:.3f}  ({result.seconds:.0f} s)")
    print(f"checkpoint: {result.checkpoint}")


def _eval(args: argparse.Namespace) -> None:
    from spikeflow.evaluate import evaluate_checkpoint

    evaluate_checkpoint(args.checkpoint, data=args.data, image=args.image, val_data=args.val_data)


def _export(args: argparse.Namespace) -> None:
    from spikeflow.flow import export_checkpoint

    export_checkpoint(args.checkpoint, args.out, data=args.data)


def _convert(args: argparse.Namespace) -> None:
    from spikeflow.flow import convert_model

    convert_model(args.model, args.out)


def _verify(args: argparse.Namespace) -> None:
    from spikeflow.flow import verify_build

    verify_build(args.build, frames=args.frames, stages=args.stages)


def _sim(args: argparse.Namespace) -> None:
    from spikeflow.flow import prepare_build
    from spikeflow.hardware import simulate_build

    prepare_build(args.build, args.checkpoint)
    results = simulate_build(args.build, frames=args.frames, cocotb=not args.no_cocotb, board=args.board)
    bad = [r.stage for r in results.values() if not r.passed]
    if bad:
        raise SpikeflowError("RTL does not match the golden model in: " + ", ".join(bad))


def _demo(args: argparse.Namespace) -> None:
    from spikeflow.flow import run_demo

    run_demo(args.config, args.out, checkpoint=args.checkpoint, frames=args.frames)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spikeflow", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks and library warnings")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="quantization-aware training of a detector")
    p.add_argument("--config", required=True, help="model config YAML (model/configs/*.yaml)")
    p.add_argument("--data", help="YOLO or COCO data YAML, or a COCO JSON; default: the built-in synthetic dataset")
    p.add_argument("--val-data", help="separate validation set (e.g. a COCO val JSON); default: --data's val split")
    p.add_argument("--out", required=True, help="run directory for checkpoints (last.pt, model.pt)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    p.add_argument("--epochs-float", type=int, help="override the config's float warm-up epochs")
    p.add_argument("--epochs-qat", type=int, help="override the config's QAT epochs")
    p.set_defaults(func=_train)

    p = sub.add_parser("eval", help="mAP of a checkpoint on its validation set, and a picture of predictions")
    p.add_argument("checkpoint")
    p.add_argument("--data", help="dataset to evaluate on, its val split (default: the checkpoint's)")
    p.add_argument("--val-data", help="validation set to evaluate on as is (e.g. a COCO val JSON)")
    p.add_argument("--image", help="PNG to write with predicted boxes")
    p.set_defaults(func=_eval)

    p = sub.add_parser("export", help="export a checkpoint to QONNX and check it with execute_onnx")
    p.add_argument("checkpoint")
    p.add_argument("--out", required=True, help="PATH.onnx (its folder becomes the build directory)")
    p.add_argument("--data", help="dataset whose validation images check the export")
    p.set_defaults(func=_export)

    p = sub.add_parser("convert", help="convert a QONNX model to the FewdIF IR")
    p.add_argument("model", help="MODEL.onnx written by 'spikeflow export'")
    p.add_argument("--out", required=True, help="build directory (the IR goes to OUT/ir/)")
    p.set_defaults(func=_convert)

    p = sub.add_parser("verify", help="compare every stage of a build on validation frames")
    p.add_argument("build", help="build directory, e.g. build/demo")
    p.add_argument("--frames", type=int, default=64)
    p.add_argument("--stages", nargs="*", help="stages to run (default: all available)")
    p.set_defaults(func=_verify)

    p = sub.add_parser("sim", help="generate the RTL of a build, simulate it against the golden model")
    p.add_argument("build", nargs="?", default="build/demo")
    p.add_argument("--checkpoint", default="model/tiny.pt",
                   help="checkpoint to export and convert when the build has no IR yet")
    p.add_argument("--frames", type=int, default=32)
    p.add_argument("--board", default="zcu104", help="target board for the clock assumption (zcu104, pynq-z2, u250)")
    p.add_argument("--no-cocotb", action="store_true", help="only the fast Verilator harness")
    p.set_defaults(func=_sim)

    p = sub.add_parser("demo", help="the whole flow on the built-in default: train, export, convert, verify")
    p.add_argument("--config", default="model/configs/tiny.yaml")
    p.add_argument("--out", default="build/demo")
    p.add_argument("--checkpoint", help="skip training and use this checkpoint")
    p.add_argument("--frames", type=int, default=64)
    p.set_defaults(func=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.verbose:
        warnings.filterwarnings("ignore")
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    func: Callable[[argparse.Namespace], None] = args.func
    try:
        func(args)
    except SpikeflowError as exc:
        if args.verbose:
            raise
        print(f"spikeflow {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
