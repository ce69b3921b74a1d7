"""FewdIF vs a conventionally converted rate-coded SNN: mAP@0.5 of both and the speed ratio on one device.

    python bench/speedup.py [--checkpoint model/tiny.pt] [--build build/tiny] [--frames 128] [--batch 32]
                            [--device auto|cpu|cuda]

Writes BUILD/report/speedup.json (see spikeflow/baseline/speedup.py for the method).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_CHECKPOINT = Path("model/tiny.pt")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help=f"trained detector checkpoint (default: {DEFAULT_CHECKPOINT})")
    parser.add_argument("--float-checkpoint", type=Path, default=None,
                        help="float-trained ANN for the conventional conversion (default: float.pt beside the "
                             "checkpoint, or CHECKPOINT with .float.pt, when present)")
    parser.add_argument("--build", type=Path, default=None,
                        help="build directory with the FewdIF IR (default: build/<checkpoint name>; exported "
                             "and converted first when it has no IR)")
    parser.add_argument("--frames", type=int, default=128, help="validation frames (default: %(default)s)")
    parser.add_argument("--batch", type=int, default=32, help="batch size (default: %(default)s)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default: %(default)s)")
    parser.add_argument("--t-max", type=int, default=512, help="largest rate-coded T tried (default: %(default)s)")
    parser.add_argument("--percentile", type=float, default=99.9,
                        help="threshold-normalisation percentile (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    args = parser.parse_args(argv)

    checkpoint = args.checkpoint or DEFAULT_CHECKPOINT
    if not checkpoint.is_file():
        hint = "" if args.checkpoint else (" (the default; train one with 'spikeflow train model/configs/tiny.yaml'"
                                           " or pass --checkpoint PATH)")
        print(f"error: checkpoint not found: {checkpoint}{hint}", file=sys.stderr)
        return 2

    import torch

    from spikeflow.baseline.speedup import run_speedup
    from spikeflow.errors import SpikeflowError

    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        float_ckpt = args.float_checkpoint or next(
            (p for p in (checkpoint.with_name("float.pt"), checkpoint.with_suffix(".float.pt")) if p.is_file()), None)
        print(f"conventional conversion of: {float_ckpt or checkpoint}")
        r = run_speedup(checkpoint, args.build, frames=args.frames, batch_size=args.batch, device=args.device,
                        t_max=args.t_max, percentile=args.percentile, float_checkpoint=float_ckpt)
    except SpikeflowError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    f, rc = r["fewdif"], r["rate_coded"]
    print(f"device: {r['device']}   {r['frames']} frames, batch {r['batch_size']}")
    print("rate-coded mAP@0.5 by T: " + "  ".join(f"T={t}: {m:.3f}" for t, m in rc["map50_by_timesteps"].items())
          + f"   (float ANN {r['float_ann_map50']:.3f})")
    print(f"FewdIF     T={f['timesteps']:<4} mAP@0.5 {f['map50']:.3f}  {f['seconds_per_frame'] * 1e3:9.3f} ms/frame"
          f"  (equals golden: {f['matches_golden']})")
    note = "" if rc["within_tolerance"] else f"  (no T <= {args.t_max} within {r['tolerance']} of FewdIF: best T)"
    print(f"rate-coded T={rc['timesteps']:<4} mAP@0.5 {rc['map50']:.3f}  {rc['seconds_per_frame'] * 1e3:9.3f} ms/frame"
          f"{note}")
    print(f"speedup of FewdIF over the rate-coded SNN: {r['ratio']:.1f}x   report: {r['path']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
