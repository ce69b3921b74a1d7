"""Streaming: frames of a source through an accelerator in batches, one result per input frame, in order."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from spikeflow.driver.frames import PreparedFrame
from spikeflow.driver.sources import SourceFrame
from spikeflow.errors import DriverError, FrameError

if TYPE_CHECKING:
    from spikeflow.driver.accelerator import Accelerator, FrameResult


def stream_results(acc: Accelerator, source: Iterable[SourceFrame], batch: int) -> Iterator[FrameResult]:
    """Yield one FrameResult per source frame in source order. A frame the source could not read, or one the
    driver rejects (FrameError), is reported on stderr and yields a result with `error` set; the rest go on.
    Sequence numbers are checked: results come back in exactly the order the frames went in."""
    from spikeflow.driver.accelerator import FrameResult

    pending: list[tuple[SourceFrame, PreparedFrame, float]] = []
    next_index = None

    def flush() -> Iterator[FrameResult]:
        if not pending:
            return
        v, dets = acc.detect_prepared([p for _, p, _ in pending])
        if len(v) != len(pending) or len(dets) != len(pending):
            raise DriverError(f"{acc.name}: {len(v)} results for the {len(pending)} frames sent")
        now = time.perf_counter()
        for (item, prep, t_in), values, d in zip(pending, v, dets, strict=True):
            yield FrameResult(item.index, item.name, d, values, prep, latency_s=now - t_in)
        pending.clear()

    for item in source:
        if next_index is not None and item.index != next_index:
            raise DriverError(f"source frames out of sequence: frame {item.index} after frame {next_index - 1}")
        next_index = item.index + 1
        t_in = time.perf_counter()
        if item.error:
            yield from flush()
            print(f"warning: frame {item.index} ({item.name}): {item.error}; skipped", file=sys.stderr)
            yield FrameResult(item.index, item.name, [], error=item.error)
            continue
        try:
            prepared = acc.prepare(item.image, f"frame {item.index} ({item.name})")
        except FrameError as exc:
            yield from flush()
            print(f"warning: {exc}; skipped", file=sys.stderr)
            yield FrameResult(item.index, item.name, [], error=str(exc))
            continue
        pending.append((item, prepared, t_in))
        if len(pending) >= batch:
            yield from flush()
    yield from flush()


def percentile_ms(latencies: list[float], q: float) -> float | None:
    return float(np.percentile(np.asarray(latencies) * 1e3, q)) if latencies else None


def performance(acc: Accelerator, frames: int, seconds: float, latencies: list[float]) -> dict[str, object]:
    """The figures of a run: host FPS, latency p50/p99, host ms per frame and stage, device cycles and FPS."""
    cpf = acc.device_cycles_per_frame()
    return {
        "backend": acc.name, "frames": frames, "seconds": seconds,
        "host_fps": frames / seconds if seconds > 0 else None,
        "latency_ms_p50": percentile_ms(latencies, 50), "latency_ms_p99": percentile_ms(latencies, 99),
        "stage_ms_per_frame": acc.times.per_frame_ms(acc.frames_run or frames),
        "clock_mhz": acc.model.clock_mhz,
        "device_cycles_per_frame": cpf,
        "device_fps": acc.device_fps(),
        "device_latency_cycles": acc.latencies_cycles[0] if acc.latencies_cycles else None,
        "estimated_cycles_per_frame": acc.model.estimated_cycles_per_frame,
    }


def summary_line(perf: dict[str, object]) -> str:
    """One line of a run's figures, as `spikeflow run` and the drive step print them."""
    def num(key: str, fmt: str) -> str:
        value = perf.get(key)
        return format(value, fmt) if isinstance(value, int | float) else "n/a"

    device = (f"device {num('device_fps', ',.0f')} FPS at {num('clock_mhz', 'g')} MHz "
              f"({num('device_cycles_per_frame', ',.0f')} cycles/frame)" if perf.get("device_fps")
              else "device FPS n/a (no cycle count on this back end)")
    return (f"{perf['frames']} frames on {perf['backend']}: host {num('host_fps', ',.1f')} FPS, {device}, "
            f"latency p50 {num('latency_ms_p50', '.1f')} ms p99 {num('latency_ms_p99', '.1f')} ms")
