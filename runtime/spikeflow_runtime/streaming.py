"""Streaming: frames of a source through an accelerator, pipelined, one result per input frame, in frame order.

Frames are read and letterboxed ahead by a thread pool (spikeflow_runtime.sources.prepared_frames), gathered into
batches, and up to `max_in_flight` batches are on the device at once: while the device computes batch k the host
decodes batch k-1 and packs batch k+1. A frame that cannot be read or prepared is reported on stderr and yields a
result with `error` set, in its place in the order; the rest go on.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Iterable, Iterator

import numpy as np

from spikeflow_runtime.errors import DriverError

if TYPE_CHECKING:
    from spikeflow_runtime.accelerator import Accelerator, FrameResult


def stream_results(acc: Accelerator, source: Iterable, batch: int, workers: int = 2,
                   limit: int | None = None) -> Iterator[FrameResult]:
    from spikeflow_runtime.accelerator import FrameResult, batch_frames, frame_values
    from spikeflow_runtime.sources import prepared_frames

    if batch < 1:
        raise DriverError(f"batch must be >= 1, got {batch}")
    in_flight: deque[tuple[str, Any, list]] = deque()  # ("batch", ticket, items) or ("error", result, [])
    gathering: list = []
    next_index = None

    def batches_in_flight() -> int:
        return sum(1 for kind, _, _ in in_flight if kind == "batch")

    def drain(keep: int) -> Iterator[FrameResult]:
        """Yield results in order until at most `keep` batches are left on the device."""
        while in_flight and (in_flight[0][0] == "error" or batches_in_flight() > keep):
            kind, what, items = in_flight.popleft()
            if kind == "error":
                yield what
                continue
            values = acc.collect(what)
            if batch_frames(values) != len(items):
                raise DriverError(f"{acc.name}: {batch_frames(values)} results for the {len(items)} frames sent")
            dets = acc.decode_batch(values, [it.prepared for it, _ in items])
            now = time.perf_counter()
            for i, ((it, t_in), d) in enumerate(zip(items, dets)):
                yield FrameResult(it.index, it.name, d, frame_values(values, i), it.prepared, latency_s=now - t_in)

    def submit() -> None:
        if gathering:
            ticket = acc.submit(np.stack([it.prepared.frame for it, _ in gathering]))
            in_flight.append(("batch", ticket, list(gathering)))
            gathering.clear()

    frames = prepared_frames(source, acc.model.input_size, acc.fmt.channels, workers=workers, limit=limit)
    try:
        for item in frames:
            if next_index is not None and item.index != next_index:
                raise DriverError(f"source frames out of sequence: frame {item.index} after frame {next_index - 1}")
            next_index = item.index + 1
            acc.times.add("prepare", item.seconds)
            if item.error:
                where = f"frame {item.index} ({item.name})"
                said = item.error if item.error.startswith(where) else f"{where}: {item.error}"
                print(f"warning: {said}; skipped", file=sys.stderr)
                submit()  # the frames before it go first, so the order holds
                in_flight.append(("error", FrameResult(item.index, item.name, [], error=item.error), []))
            else:
                gathering.append((item, time.perf_counter()))
                if len(gathering) >= batch:
                    submit()
            yield from drain(acc.max_in_flight - 1)  # the device keeps max_in_flight - 1 batches while we wait
        submit()
        yield from drain(0)
    finally:
        close = getattr(frames, "close", None)
        if close is not None:
            close()


def run_frames(acc: Accelerator, frames: np.ndarray, batch: int) -> tuple[float, list[float]]:
    """Already-sized frames [N,H,W,C] through the device, pipelined as stream_results does: (seconds, latency of
    each frame from its batch's submission to its decoded result)."""
    from spikeflow_runtime.frames import PreparedFrame
    from spikeflow_runtime.letterbox import Letterbox

    identity = Letterbox.identity(acc.model.input_size)
    latencies: list[float] = []
    in_flight: deque[tuple[Any, list]] = deque()

    def finish() -> None:
        ticket, prepared = in_flight.popleft()
        values = acc.collect(ticket)
        acc.decode_batch(values, prepared)
        latencies.extend([time.perf_counter() - ticket.submitted] * len(prepared))

    started = time.perf_counter()
    for i in range(0, len(frames), batch):
        chunk = frames[i:i + batch]
        prepared = [PreparedFrame(f, identity, f) for f in chunk]
        in_flight.append((acc.submit(chunk), prepared))
        if len(in_flight) >= acc.max_in_flight:
            finish()
    while in_flight:
        finish()
    return time.perf_counter() - started, latencies


def percentile_ms(latencies: list[float], q: float) -> float | None:
    return float(np.percentile(np.asarray(latencies) * 1e3, q)) if latencies else None


def performance(acc: Accelerator, frames: int, seconds: float, latencies: list[float]) -> dict[str, Any]:
    """The figures of a run: end-to-end, device-only and host-only frames/s, latency p50/p99, host ms per frame
    and stage, device cycles per frame at the clock where the device counts them."""
    from spikeflow_runtime.accelerator import HOST_STAGES

    stages = acc.times.per_frame_ms(acc.frames_run or frames)
    host_ms = sum(stages[s] for s in HOST_STAGES)
    return {
        "backend": acc.name, "frames": frames, "seconds": seconds,
        "host_fps": frames / seconds if seconds > 0 else None,  # end to end, as the user sees it
        "device_fps": acc.device_fps(),
        "host_only_fps": 1e3 / host_ms if host_ms > 0 else None,
        "host_ms_per_frame": host_ms,
        "latency_ms_p50": percentile_ms(latencies, 50), "latency_ms_p99": percentile_ms(latencies, 99),
        "stage_ms_per_frame": stages,
        "clock_mhz": acc.model.clock_mhz,
        "device_cycles_per_frame": acc.device_cycles_per_frame(),
        "device_latency_cycles": acc.latencies_cycles[0] if acc.latencies_cycles else None,
        "estimated_cycles_per_frame": acc.model.estimated_cycles_per_frame,
    }


def summary_line(perf: dict[str, Any]) -> str:
    """One line of a run's figures, as run.py, `spikeflow run` and the drive step print them."""
    def num(key: str, fmt: str) -> str:
        value = perf.get(key)
        return format(value, fmt) if isinstance(value, (int, float)) else "n/a"

    if perf.get("device_cycles_per_frame"):
        device = (f"device {num('device_fps', ',.0f')} FPS at {num('clock_mhz', 'g')} MHz "
                  f"({num('device_cycles_per_frame', ',.0f')} cycles/frame)")
    elif perf.get("device_fps"):
        device = f"device {num('device_fps', ',.0f')} FPS"
    else:
        device = "device FPS n/a (no cycle count on this back end)"
    return (f"{perf['frames']} frames on {perf['backend']}: end-to-end {num('host_fps', ',.1f')} FPS, {device}, "
            f"host-only {num('host_only_fps', ',.0f')} FPS ({num('host_ms_per_frame', '.3f')} ms/frame), "
            f"latency p50 {num('latency_ms_p50', '.1f')} ms p99 {num('latency_ms_p99', '.1f')} ms")
