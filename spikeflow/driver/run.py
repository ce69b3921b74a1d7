"""`spikeflow run`: stream a source through a build's accelerator, write the detections (and pictures), print
frames, host FPS, device FPS at the clock and latency. Ctrl-C stops cleanly: what was written stays written."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from spikeflow.driver.accelerator import Accelerator
from spikeflow.driver.outputs import ResultWriter
from spikeflow.driver.settings import DecodeSettings
from spikeflow.driver.sources import open_source
from spikeflow.driver.streaming import performance, summary_line
from spikeflow.errors import ConfigError, DatasetError


@dataclass
class RunOptions:
    build: Path
    backend: str
    source: str
    out: Path | None = None
    save_images: Path | None = None
    video_out: Path | None = None
    batch: int | None = None
    limit: int | None = None
    decode: DecodeSettings = DecodeSettings()
    progress: bool = True

    def __post_init__(self) -> None:
        """Reject values that would run silently to no purpose, naming the `spikeflow run` option."""
        for option, value in (("--batch", self.batch), ("--limit", self.limit)):
            if value is not None and value < 1:
                raise ConfigError(f"{option} must be >= 1, got {value}")
        for option, value in (("--conf", self.decode.conf_threshold), ("--iou", self.decode.iou_threshold)):
            if not 0 <= value <= 1:
                raise ConfigError(f"{option} must be between 0 and 1, got {value:g}")


@dataclass
class RunResult:
    frames: int  # input frames (results written)
    skipped: int  # frames reported unreadable and skipped
    performance: dict[str, object]
    interrupted: bool = False


def run_source(opts: RunOptions, acc: Accelerator | None = None, source=None) -> RunResult:
    """Stream `opts.source` through the accelerator; KeyboardInterrupt is re-raised after the outputs are closed."""
    from tqdm import tqdm

    acc = acc or Accelerator.open(opts.build, opts.backend, decode=opts.decode)
    source = source if source is not None else open_source(opts.source)
    total = len(source) if hasattr(source, "__len__") else None
    if opts.limit:
        total = min(total or opts.limit, opts.limit)
    writer = ResultWriter(opts.out, opts.save_images, opts.video_out, fps=getattr(source, "fps", 0) or 10.0)
    acc.reset_counters()
    latencies: list[float] = []
    frames = skipped = 0
    first_error = ""
    interrupted = False
    started = time.perf_counter()
    bar = tqdm(total=total or None, unit="frame", disable=not opts.progress, file=sys.stderr,
               desc=f"{acc.name}")
    try:
        for r in acc.stream_results(_limited(source, opts.limit), opts.batch):
            writer.write(r)
            frames += 1
            if r.error:
                skipped += 1
                first_error = first_error or r.error
            else:
                latencies.append(r.latency_s)
            bar.update(1)
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        bar.close()
        writer.close()
        seconds = time.perf_counter() - started
        perf = performance(acc, frames - skipped, seconds, latencies)
        acc.close()
        if interrupted:
            print(f"interrupted after {frames} frame(s); {writer.lines} result line(s) written to {opts.out}",
                  file=sys.stderr)
    if frames and skipped == frames:
        raise DatasetError(f"{opts.source}: none of its {frames} frame(s) could be read (first: {first_error})")
    return RunResult(frames, skipped, perf, interrupted)


def _limited(source, limit: int | None):
    for item in source:
        if limit is not None and item.index >= limit:
            return
        yield item


def print_run(result: RunResult, opts: RunOptions) -> None:
    print(summary_line(result.performance) + (f"; {result.skipped} unreadable frame(s) skipped" if result.skipped
                                              else ""))
    stages = result.performance["stage_ms_per_frame"]
    assert isinstance(stages, dict)
    print("host ms per frame: " + ", ".join(f"{k} {v:.2f}" for k, v in stages.items()))
    written = [str(p) for p in (opts.out, opts.save_images, opts.video_out) if p is not None]
    if written:
        print(f"wrote {', '.join(written)}")
