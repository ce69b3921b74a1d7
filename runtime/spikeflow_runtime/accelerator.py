"""The driver's one interface over every device: `Accelerator`.

The data path is a named chain, each link timed (like FINN's driver_base.py, but each platform is its own class,
looked up by name in spikeflow_runtime.registry, and the shared code has no platform branches):

    prepare (read, letterbox) -> pack (frames -> the stream's bytes) -> transfer -> compute -> unpack -> decode
    (dequantize, decode, NMS) -> write

A batch is `submit`ted, then `collect`ed: a device that runs on its own (a board's DMA, the replay device) works on
batch k while the host packs batch k+1 and decodes batch k-1 (`max_in_flight` batches at once). A back end either
implements `_submit` / `_collect` (asynchronous devices) or `_execute(frames, payload)` (simulated ones, run when
the batch is collected).

Several heads (model.heads): the device's one output stream carries them one after the other per frame
(spikeflow_runtime.stream); `collect` then returns a list with each head's values in stream order, `infer` each
head's V, and decoding runs `decode_heads` (one NMS over all heads' candidates). With one head every call returns
what it returned before. `batch_frames` and `frame_values` read either form.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

import numpy as np

from spikeflow_runtime.decode import decode_heads, decode_values
from spikeflow_runtime.detections import Detection, to_original
from spikeflow_runtime.errors import DriverError
from spikeflow_runtime.frames import PreparedFrame, prepare_image
from spikeflow_runtime.model import DeployedModel
from spikeflow_runtime.settings import DecodeSettings

STAGES = ("prepare", "pack", "transfer", "compute", "unpack", "decode", "write")
HOST_STAGES = ("prepare", "pack", "unpack", "decode")  # the host's own work per frame (write runs on its thread)


@dataclass
class DeviceOutput:
    """What a back end returns for one batch: the output stream's payload and, when it knows them, cycles."""

    payload: Any  # bytes, or an array of the stream's value dtype (a device buffer)
    done_cycles: list[int] | None = None  # cycle at which each frame's last value left (simulated devices)
    frames_out: int | None = None  # the device's count of frames sent, when it has one
    device_seconds: float | None = None  # the device's own busy time for the batch, when it knows it


@dataclass
class Ticket:
    """A batch on its way through the device."""

    frames: int
    handle: Any
    submitted: float


@dataclass
class StageTimes:
    """Host seconds per stage of the data path, summed over the frames run."""

    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))

    def add(self, stage: str, seconds: float) -> None:
        self.seconds[stage] += seconds

    def per_frame_ms(self, frames: int) -> dict[str, float]:
        return {k: 1e3 * v / max(frames, 1) for k, v in self.seconds.items()}


@dataclass
class FrameResult:
    """The result of one input frame: its index in the source, its detections (or why it has none)."""

    index: int
    source: str
    detections: list[Detection]
    values: Any = None  # head V [K,G,G] (a copy), or with several heads a list of each head's
    prepared: PreparedFrame | None = None
    error: str = ""  # a frame that could not be read: reported and skipped
    latency_s: float = 0.0


class Accelerator:
    """A build's accelerator on one back end. Subclasses: one per platform, registered by name."""

    name = ""
    default_batch = 1
    max_in_flight = 1  # batches the device holds at once (2: double buffering)
    bus_padded = False  # pack each beat into a bus word (DMA / m_axi), as the bitstream shells do

    def __init__(self, model: DeployedModel, decode: DecodeSettings | None = None):
        self.model = model
        self.fmt = model.stream  # the stream contract (StreamFormat)
        self.decode = decode or DecodeSettings()
        self.times = StageTimes()
        self.frames_run = 0
        self.device_seconds = 0.0  # the device's own busy time, where the back end knows it
        self.intervals: list[int] = []  # device cycles between consecutive frames' last outputs
        self.latencies_cycles: list[int] = []  # device cycles from a batch's start to its first frame's result

    def close(self) -> None:
        """Free the device's buffers (boards); nothing to do for simulated devices."""
        return None

    def __enter__(self) -> Accelerator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the device -------------------------------------------------------------------------------------------
    def pack(self, frames: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """uint8 frames [N,H,W,C] or [N,C,H,W] -> the bytes the device reads, as a uint8 array (into `out`, a
        device buffer, when given); timed as the pack stage."""
        t0 = time.perf_counter()
        if self.bus_padded:
            data = self.fmt.pack_frames_bus_into(frames, out)
        else:
            hwc = np.ascontiguousarray(self.fmt.check_frames(frames)).reshape(-1)
            data = hwc if out is None else _copy_into(hwc, out)
        self.times.add("pack", time.perf_counter() - t0)
        return data

    def submit(self, frames: np.ndarray) -> Ticket:
        """Start a batch of letterboxed uint8 frames on the device."""
        frames = self.fmt.check_frames(frames)
        return Ticket(len(frames), self._submit(frames), time.perf_counter())

    def collect(self, ticket: Ticket) -> np.ndarray:
        """Wait for a submitted batch; its head values in stream order [N, Gh, Gw, K] (a view of the payload), or
        with several heads a list of each head's (views)."""
        out = self._collect(ticket.handle)
        t0 = time.perf_counter()
        values = self._check_output(out, ticket.frames)
        self.times.add("unpack", time.perf_counter() - t0)
        self._record_cycles(out.done_cycles)
        if out.device_seconds is not None:
            self.device_seconds += out.device_seconds
        self.frames_run += ticket.frames
        return values

    def _submit(self, frames: np.ndarray) -> Any:
        """Start the batch; the default keeps it for `_execute` when it is collected (simulated devices)."""
        return frames

    def _collect(self, handle: Any) -> DeviceOutput:
        frames = handle
        return self._execute(frames, self.pack(frames))

    def _execute(self, frames: np.ndarray, payload: np.ndarray) -> DeviceOutput:
        """Transfer and compute, for a back end that runs a batch when it is collected."""
        raise NotImplementedError(f"{type(self).__name__} implements neither _execute nor _submit/_collect")

    def _check_output(self, out: DeviceOutput, n: int) -> np.ndarray:
        """The output payload of `n` frames -> values, after checking that exactly `n` frames came back."""
        data = out.payload
        size = data.nbytes if isinstance(data, np.ndarray) else len(data)
        expected = n * self.fmt.output_frame_bytes
        if size != expected:
            raise DriverError(f"{self.name}: short transfer: {size} of {expected} output bytes for {n} frame(s)")
        if out.frames_out is not None and out.frames_out != n:
            raise DriverError(f"{self.name}: the device sent {out.frames_out} frame(s) for the {n} sent to it")
        return self.fmt.stream_heads(data) if self.fmt.heads else self.fmt.stream_values(data)

    def _record_cycles(self, done: list[int] | None) -> None:
        if done:
            self.latencies_cycles.append(int(done[0]))
            self.intervals.extend(int(b - a) for a, b in zip(done[:-1], done[1:]))

    def infer(self, frames: np.ndarray) -> Any:
        """Letterboxed uint8 frames [N,C,H,W] or [N,H,W,C] (or one frame) -> raw head values V int64 [N,K,G,G]
        (several heads: a list of each head's)."""
        return _to_kgg(self.collect(self.submit(frames)), np.int64)

    # -- decode -----------------------------------------------------------------------------------------------
    def decode_batch(self, values: np.ndarray, prepared: list[PreparedFrame]) -> list[list[Detection]]:
        """Stream-order values [N, Gh, Gw, K] (several heads: a list of each head's) of letterboxed frames ->
        detections in their original pixels."""
        t0 = time.perf_counter()
        s = self.decode
        if isinstance(values, list):  # several heads: one NMS over all heads' candidates
            dets = decode_heads(values, self.model.heads, s.conf_threshold, s.iou_threshold, s.max_det,
                                layout="stream")
        else:
            dets = decode_values(values, self.model.head, s.conf_threshold, s.iou_threshold, s.max_det,
                                 layout="stream")
        out = [to_original(d, p.letterbox, self.model.names) for d, p in zip(dets, prepared)]
        self.times.add("decode", time.perf_counter() - t0)
        return out

    def prepare(self, image: np.ndarray, where: str = "frame") -> PreparedFrame:
        t0 = time.perf_counter()
        prepared = prepare_image(image, self.model.input_size, self.fmt.channels, where)
        self.times.add("prepare", time.perf_counter() - t0)
        return prepared

    def detect_prepared(self, prepared: list[PreparedFrame]) -> tuple[Any, list[list[Detection]]]:
        """Prepared frames -> (head values V [N,K,G,G] (several heads: a list of each head's), detections per
        frame)."""
        values = self.collect(self.submit(np.stack([p.frame for p in prepared])))
        return _to_kgg(values), self.decode_batch(values, prepared)

    def detect(self, images: Iterable[np.ndarray] | np.ndarray) -> list[list[Detection]]:
        """Images of any size (HxWx3 uint8, or letterboxed frames) -> detections per image, in the original
        image's pixels."""
        prepared = [self.prepare(im, f"frame {i}") for i, im in enumerate(images)]
        if not prepared:
            return []
        return self.detect_prepared(prepared)[1]

    def stream_results(self, source: Iterable, batch: int | None = None, workers: int = 2,
                       limit: int | None = None) -> Iterator[FrameResult]:
        """Frames of a source (spikeflow_runtime.sources; the first `limit`) -> one FrameResult per input frame, in
        frame order: read and letterboxed by `workers` threads, `max_in_flight` batches on the device."""
        from spikeflow_runtime.streaming import stream_results

        yield from stream_results(self, source, batch or self.default_batch, workers, limit)

    def stream(self, source: Iterable, batch: int | None = None) -> Iterator[tuple[int, list[Detection]]]:
        """Yield (frame_index, detections) for every readable frame of `source`, in frame order."""
        for r in self.stream_results(source, batch):
            if not r.error:
                yield r.index, r.detections

    # -- performance ------------------------------------------------------------------------------------------
    def device_cycles_per_frame(self) -> float | None:
        """Mean device cycles between consecutive frames (devices that count cycles)."""
        return float(np.mean(self.intervals)) if self.intervals else None

    def device_fps(self) -> float | None:
        """Frames per second of the device alone: from its cycle count at the clock, else its busy time."""
        cpf = self.device_cycles_per_frame()
        if cpf:
            return self.model.clock_mhz * 1e6 / cpf
        return self.frames_run / self.device_seconds if self.device_seconds > 0 else None

    def timeout_s(self, frames: int) -> float:
        """Seconds a device may take for `frames` frames: the cycle limit at the build's clock, at least 2 s."""
        return self.model.timeout_s(frames)

    def throughput_test(self, n: int = 256, batch: int | None = None, seed: int = 0) -> dict[str, Any]:
        """`n` random already-sized frames streamed `batch` at a time with `max_in_flight` batches on the device:
        device-only, host-only and end-to-end frames/s, latency p50/p99 and host ms per frame and stage."""
        from spikeflow_runtime.streaming import performance, run_frames

        frames = self.throughput_frames(n, seed)
        self.reset_counters()
        seconds, latencies = run_frames(self, frames, batch or self.default_batch)
        return performance(self, n, seconds, latencies)

    def throughput_frames(self, n: int, seed: int = 0) -> np.ndarray:
        """`n` already-sized frames [N,H,W,C] for throughput_test: random pixels."""
        rng = np.random.default_rng(seed)
        return rng.integers(0, 256, size=(n, *self.fmt.frame_shape), dtype=np.uint8)

    def reset_counters(self) -> None:
        self.times = StageTimes()
        self.frames_run = 0
        self.device_seconds = 0.0
        self.intervals = []
        self.latencies_cycles = []


def batch_frames(values: Any) -> int:
    """Frames in what `collect` returned (an array, or a list with one array per head)."""
    return len(values[0]) if isinstance(values, list) else len(values)


def frame_values(values: Any, i: int) -> Any:
    """Frame i of what `collect` returned, as V [K,G,G] (a copy; several heads: a list of each head's)."""
    if isinstance(values, list):
        return [v[i].transpose(2, 0, 1).copy() for v in values]
    return values[i].transpose(2, 0, 1).copy()


def _to_kgg(values: Any, dtype: Any = None) -> Any:
    """Stream-order [N,Gh,Gw,K] (or a list of them) -> [N,K,Gh,Gw] (views, or `dtype` copies)."""
    if isinstance(values, list):
        return [_to_kgg(v, dtype) for v in values]
    v = values.transpose(0, 3, 1, 2)
    return v if dtype is None else v.astype(dtype)


def _copy_into(data: np.ndarray, out: np.ndarray) -> np.ndarray:
    if out.dtype != np.uint8 or out.ndim != 1 or out.size < data.size:
        raise DriverError(f"the device buffer holds {out.size} bytes, the batch needs {data.size}")
    out[:data.size] = data
    return out[:data.size]
