"""A run: stream a source through an accelerator, write the detections (and pictures), and report frames, end-to-end
/ device / host-only frames/s and latency. Ctrl-C stops cleanly: what was written stays written. Shared by the
deploy folder's run.py and the flow's `spikeflow run`."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from spikeflow_runtime.accelerator import Accelerator, FrameResult
from spikeflow_runtime.errors import ConfigError, DatasetError
from spikeflow_runtime.settings import DecodeSettings
from spikeflow_runtime.streaming import performance, summary_line


@dataclass
class RunOptions:
    source: str
    out: Path | None = None
    save_images: Path | None = None
    video_out: Path | None = None
    batch: int | None = None
    limit: int | None = None
    decode: DecodeSettings = field(default_factory=DecodeSettings)
    progress: bool = True
    workers: int = 2  # threads that read and letterbox frames ahead
    image_format: str = "jpg"

    def __post_init__(self) -> None:
        """Reject values that would run silently to no purpose, naming the option."""
        for option, value in (("--batch", self.batch), ("--limit", self.limit), ("--workers", self.workers)):
            if value is not None and value < 1:
                raise ConfigError(f"{option} must be >= 1, got {value}")
        if self.image_format not in ("jpg", "png"):
            raise ConfigError(f"--image-format must be jpg or png, got {self.image_format!r}")


@dataclass
class RunResult:
    frames: int  # input frames (results written)
    skipped: int  # frames reported unreadable and skipped
    performance: dict[str, Any]
    interrupted: bool = False


class Progress:
    """A progress bar on stderr: tqdm's where it is installed, else a line rewritten every half second."""

    def __init__(self, total: int | None, desc: str, enabled: bool):
        self.enabled, self.total, self.desc, self.count = enabled, total, desc, 0
        self._bar = None
        self._shown = 0.0
        if enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(total=total or None, unit="frame", file=sys.stderr, desc=desc)

    def update(self) -> None:
        self.count += 1
        if self._bar is not None:
            self._bar.update(1)
        elif self.enabled and time.monotonic() - self._shown > 0.5:
            self._shown = time.monotonic()
            print(f"\r{self.desc}: {self.count}{f'/{self.total}' if self.total else ''} frames", end="",
                  file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self.enabled and self.count:
            print(f"\r{self.desc}: {self.count} frames", file=sys.stderr)


def run_source(acc: Accelerator, opts: RunOptions, source: Iterable | None = None) -> RunResult:
    """Stream `opts.source` (or the given source) through `acc`; KeyboardInterrupt is re-raised after the outputs
    are closed. The accelerator is closed at the end."""
    from spikeflow_runtime.sources import open_source
    from spikeflow_runtime.writer import ResultWriter

    source = source if source is not None else open_source(opts.source)
    total = len(source) if hasattr(source, "__len__") else None
    if opts.limit:
        total = min(total or opts.limit, opts.limit)
    writer = ResultWriter(opts.out, opts.save_images, opts.video_out, fps=getattr(source, "fps", 0) or 10.0,
                          image_format=opts.image_format)
    acc.reset_counters()
    latencies: list[float] = []
    frames = skipped = 0
    first_error = ""
    interrupted = False
    bar = Progress(total, acc.name, opts.progress)
    started = time.perf_counter()
    try:
        for r in acc.stream_results(source, opts.batch, opts.workers, opts.limit):
            writer.write(r)
            frames += 1
            if r.error:
                skipped += 1
                first_error = first_error or r.error
            else:
                latencies.append(r.latency_s)
            bar.update()
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        bar.close()
        seconds = time.perf_counter() - started  # the results are out; pictures may still be encoding
        try:
            writer.close()
        finally:
            acc.times.add("write", writer_seconds(writer))
            perf = performance(acc, frames - skipped, seconds, latencies)
            acc.close()
            if interrupted:
                print(f"interrupted after {frames} frame(s); {writer.lines} result line(s) written to {opts.out}",
                      file=sys.stderr)
    if frames and skipped == frames:
        raise DatasetError(f"{opts.source}: none of its {frames} frame(s) could be read (first: {first_error})")
    return RunResult(frames, skipped, perf, interrupted)


def writer_seconds(writer: Any) -> float:
    """Seconds the writer spent drawing and encoding (on its own thread)."""
    return float(getattr(writer, "seconds", 0.0) or 0.0)


def print_run(result: RunResult, opts: RunOptions) -> None:
    print(summary_line(result.performance) + (f"; {result.skipped} unreadable frame(s) skipped" if result.skipped
                                              else ""))
    stages = result.performance["stage_ms_per_frame"]
    print("host ms per frame: " + ", ".join(f"{k} {v:.3f}" for k, v in stages.items())
          + " (prepare and write run on their own threads)")
    written = [str(p) for p in (opts.out, opts.save_images, opts.video_out) if p is not None]
    if written:
        print(f"wrote {', '.join(written)}")


__all__ = ["FrameResult", "Progress", "RunOptions", "RunResult", "print_run", "run_source"]
