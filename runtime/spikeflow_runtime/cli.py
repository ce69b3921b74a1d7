"""`python run.py` in a deploy folder (or `spikeflow-run`): stream a source through the deployed accelerator.

    python run.py --backend pynq --source photos/ --out detections.jsonl
    python run.py --backend replay --device-fps 3000 --source frames.npy
    python run.py --backend pynq --throughput 1024

Needs numpy (and pynq for the boards); reading image files needs Pillow, video needs imageio-ffmpeg or ffmpeg.
A user's mistake prints one line and exits with 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from spikeflow_runtime.errors import SpikeflowError
from spikeflow_runtime.settings import CONF_THRESHOLD, IOU_THRESHOLD, DecodeSettings


def add_run_options(p: argparse.ArgumentParser, backends: Sequence[str], default_backend: str) -> None:
    """The options of a run, shared by run.py and the flow's `spikeflow run`."""
    p.add_argument("--backend", default=default_backend, choices=list(backends),
                   help="the device (default: %(default)s)")
    p.add_argument("--source", help="folder of images, video file, .npy / .npz array [N,H,W,3], or a camera index "
                                    "(OpenCV)")
    p.add_argument("--out", default="detections.jsonl", help="one JSON line per input frame (default: %(default)s)")
    p.add_argument("--save-images", metavar="DIR", help="write annotated images to DIR (JPEG unless --image-format)")
    p.add_argument("--image-format", default="jpg", choices=("jpg", "png"), help="annotated images' format")
    p.add_argument("--video-out", metavar="FILE.mp4", help="write an annotated video")
    p.add_argument("--batch", type=int, help="frames per device transfer (default: the back end's)")
    p.add_argument("--limit", type=int, help="stop after this many frames")
    p.add_argument("--workers", type=int, default=2, help="threads reading and letterboxing ahead (default: 2)")
    p.add_argument("--conf", type=float, default=CONF_THRESHOLD, help="score threshold (default: %(default)s)")
    p.add_argument("--iou", type=float, default=IOU_THRESHOLD, help="NMS IoU threshold (default: %(default)s)")
    p.add_argument("--board", help="the board folder's name when deploy/ holds several")
    p.add_argument("--device-fps", type=float, default=3000.0,
                   help="replay back end: the device rate to emulate (default: %(default)s)")
    p.add_argument("--throughput", type=int, metavar="N",
                   help="instead of a source: N random frames, reporting device, host-only and end-to-end FPS")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run_options(args: argparse.Namespace) -> Any:
    from spikeflow_runtime.runner import RunOptions

    if not args.source and not args.throughput:
        raise SpikeflowError("give --source (a folder, video, .npy/.npz array or camera index) or --throughput N")
    return RunOptions(source=args.source or "", out=Path(args.out) if args.out else None,
                      save_images=Path(args.save_images) if args.save_images else None,
                      video_out=Path(args.video_out) if args.video_out else None, batch=args.batch, limit=args.limit,
                      decode=DecodeSettings(conf_threshold=args.conf, iou_threshold=args.iou),
                      progress=not args.no_progress, workers=args.workers, image_format=args.image_format)


def backend_options(args: argparse.Namespace) -> dict[str, Any]:
    """Options a back end takes from the command line."""
    if args.backend == "replay":
        return {"device_fps": args.device_fps}
    return {"board": args.board} if args.board else {}


def run_command(acc: Any, args: argparse.Namespace, opts: Any) -> None:
    """A source run, or a throughput test, on an open accelerator; prints the figures."""
    from spikeflow_runtime.runner import print_run, run_source
    from spikeflow_runtime.streaming import summary_line

    if args.throughput:
        with acc:
            perf = acc.throughput_test(args.throughput, args.batch)
        print(summary_line(perf))
        print("host ms per frame: " + ", ".join(f"{k} {v:.3f}" for k, v in perf["stage_ms_per_frame"].items()))
        return
    print_run(run_source(acc, opts), opts)


def build_parser(folder: Path) -> argparse.ArgumentParser:
    from spikeflow_runtime.registry import backend_names

    p = argparse.ArgumentParser(prog="run.py", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--folder", default=str(folder), help="the deploy folder (default: this script's, %(default)s)")
    add_run_options(p, backend_names(), "pynq")
    return p


def guarded(prog: str, call: Callable[[], None], verbose: bool = False) -> int:
    """Run `call`: a SpikeflowError is one line on stderr and exit code 2 (a traceback with `verbose`), Ctrl-C 130."""
    try:
        call()
    except SpikeflowError as exc:
        if verbose:
            raise
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


def main(argv: Sequence[str] | None = None, folder: Path | None = None) -> int:
    args = build_parser(folder or Path.cwd()).parse_args(argv)

    def run() -> None:
        from spikeflow_runtime.model import DeployedModel
        from spikeflow_runtime.registry import get_backend

        opts = run_options(args)
        model = DeployedModel.load(args.folder)
        acc = get_backend(args.backend)(model, opts.decode, folder=[Path(args.folder)], **backend_options(args))
        run_command(acc, args, opts)

    return guarded("run.py", run)


if __name__ == "__main__":
    sys.exit(main())
