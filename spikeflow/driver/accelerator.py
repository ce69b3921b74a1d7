"""The host driver's one interface: `Accelerator.open(build_dir, backend=...)`.

Like FINN's driver_base.py the data path is a named chain, each link timed:

    pack (letterboxed frames -> the stream's bytes, StreamFormat) -> transfer -> compute -> unpack (bytes -> head V)
    -> decode (dequantize, decode, NMS: spikeflow.detect)

Unlike it, each platform is its own class (spikeflow.driver.backends), looked up by name; the shared code here has
no platform branches. A back end implements `_execute(frames, payload)`: send the packed payload, run, and return
the output payload and the device cycles when it knows them.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

from spikeflow.driver.detections import Detection, decode_values, to_original
from spikeflow.driver.frames import PreparedFrame, prepare_image
from spikeflow.driver.model import DriverModel
from spikeflow.driver.registry import get_backend
from spikeflow.driver.settings import DecodeSettings
from spikeflow.errors import DriverError

STAGES = ("pack", "transfer", "compute", "unpack", "decode")
MIN_TIMEOUT_S = 2.0  # a board's timeout never goes below this, however few cycles the frames need


@dataclass
class DeviceOutput:
    """What a back end returns for one batch: the output stream's payload and, when it knows them, cycles."""

    payload: bytes
    done_cycles: list[int] | None = None  # cycle at which each frame's last value left (simulated devices)
    frames_out: int | None = None  # the device's count of frames sent, when it has one


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
    values: np.ndarray | None = None  # head V [K,G,G]
    prepared: PreparedFrame | None = None
    error: str = ""  # a frame that could not be read: reported and skipped
    latency_s: float = 0.0


class Accelerator(ABC):
    """A build's accelerator on one back end. Subclasses: one per platform, registered by name."""

    name: ClassVar[str] = ""
    default_batch: ClassVar[int] = 1
    bus_padded: ClassVar[bool] = False  # pack each beat into a bus word (DMA / m_axi), as the bitstream shells do

    def __init__(self, model: DriverModel, decode: DecodeSettings | None = None):
        self.model = model
        self.fmt = model.stream  # the stream contract (StreamFormat)
        self.decode = decode or DecodeSettings()
        self.times = StageTimes()
        self.frames_run = 0
        self.intervals: list[int] = []  # device cycles between consecutive frames' last outputs
        self.latencies_cycles: list[int] = []  # device cycles from a batch's start to its first frame's result

    # -- opening ----------------------------------------------------------------------------------------------
    @classmethod
    def open(cls, build_dir: str | Path, backend: str = "golden", decode: DecodeSettings | None = None,
             **options: object) -> Accelerator:
        """Open the build's accelerator on the back end named `backend` (golden, rtlsim, pynq, alveo)."""
        return get_backend(backend)(DriverModel.of(build_dir), decode=decode, **options)

    def close(self) -> None:
        """Free the device's buffers (boards); nothing to do for simulated devices."""
        return None

    def __enter__(self) -> Accelerator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the data path ----------------------------------------------------------------------------------------
    def pack(self, frames: np.ndarray) -> bytes:
        """uint8 frames [N,C,H,W] -> the bytes the device reads (rejects wrong shapes and dtypes first)."""
        frames = self.fmt.check_frames(frames)
        return self.fmt.pack_frames_bus(frames) if self.bus_padded else self.fmt.pack_frames(frames)

    @abstractmethod
    def _execute(self, frames: np.ndarray, payload: bytes) -> DeviceOutput:
        """Transfer and compute: each back end runs the packed frames on its device."""

    def infer(self, frames: np.ndarray) -> np.ndarray:
        """Letterboxed uint8 frames [N,C,H,W] (or one [C,H,W]) -> raw head values V int64 [N,K,G,G]."""
        frames = self.fmt.check_frames(frames)
        n = len(frames)
        t0 = time.perf_counter()
        payload = self.pack(frames)
        self.times.add("pack", time.perf_counter() - t0)
        out = self._execute(frames, payload)
        t0 = time.perf_counter()
        v = self.unpack(out, n)
        self.times.add("unpack", time.perf_counter() - t0)
        self._record_cycles(out.done_cycles)
        self.frames_run += n
        return v

    def unpack(self, out: DeviceOutput, n: int) -> np.ndarray:
        """The output payload of `n` frames -> V, after checking that exactly `n` frames came back."""
        expected = n * self.fmt.values_per_frame * self.fmt.value_bytes
        if len(out.payload) != expected:
            raise DriverError(f"{self.name}: short transfer: {len(out.payload)} of {expected} output bytes for "
                              f"{n} frame(s)")
        if out.frames_out is not None and out.frames_out != n:
            raise DriverError(f"{self.name}: the device sent {out.frames_out} frame(s) for the {n} sent to it")
        return self.fmt.unpack_values(out.payload)

    def _record_cycles(self, done: list[int] | None) -> None:
        if done:
            self.latencies_cycles.append(int(done[0]))
            self.intervals.extend(int(b - a) for a, b in zip(done[:-1], done[1:]))

    def detect_prepared(self, prepared: list[PreparedFrame]) -> tuple[np.ndarray, list[list[Detection]]]:
        v = self.infer(np.stack([p.frame for p in prepared]))
        t0 = time.perf_counter()
        dets = decode_values(self.model.net, self.model.head, v, self.decode)
        out = [to_original(d, p.letterbox, self.model.names) for d, p in zip(dets, prepared, strict=True)]
        self.times.add("decode", time.perf_counter() - t0)
        return v, out

    def prepare(self, image: np.ndarray, where: str = "frame") -> PreparedFrame:
        return prepare_image(image, self.model.input_size, self.fmt.channels, where)

    def detect(self, images: Iterable[np.ndarray] | np.ndarray) -> list[list[Detection]]:
        """Images of any size (HxWx3 uint8, or letterboxed [C,S,S] frames) -> detections per image, in the
        original image's pixels."""
        prepared = [self.prepare(im, f"frame {i}") for i, im in enumerate(images)]
        if not prepared:
            return []
        return self.detect_prepared(prepared)[1]

    def stream_results(self, source: Iterable, batch: int | None = None) -> Iterator[FrameResult]:
        """Frames of a source (spikeflow.driver.sources) -> one FrameResult per input frame, in frame order."""
        from spikeflow.driver.streaming import stream_results

        yield from stream_results(self, source, batch or self.default_batch)

    def stream(self, source: Iterable, batch: int | None = None) -> Iterator[tuple[int, list[Detection]]]:
        """Yield (frame_index, detections) for every frame of `source`, in frame order (unreadable frames are
        reported on stderr and skipped)."""
        for r in self.stream_results(source, batch):
            if not r.error:
                yield r.index, r.detections

    # -- performance ------------------------------------------------------------------------------------------
    def device_cycles_per_frame(self) -> float | None:
        """Mean device cycles between consecutive frames (simulated devices; None on devices without a count)."""
        return float(np.mean(self.intervals)) if self.intervals else None

    def device_fps(self) -> float | None:
        cpf = self.device_cycles_per_frame()
        return self.model.clock_mhz * 1e6 / cpf if cpf else None

    def timeout_s(self, frames: int) -> float:
        """Seconds a board may take for `frames` frames: the cycle limit at the build's clock, at least 2 s."""
        return max(MIN_TIMEOUT_S, self.model.cycle_limits(frames).run / (self.model.clock_mhz * 1e6))

    def throughput_test(self, n: int = 64, batch: int | None = None, seed: int = 0) -> dict[str, object]:
        """Run `n` random frames, `batch` at a time: host FPS, latency p50/p99 (ms, per batch call), host time per
        stage (ms per frame) and, where known, device cycles per frame and FPS at the build's clock."""
        from spikeflow.driver.streaming import performance

        batch = batch or self.default_batch
        rng = np.random.default_rng(seed)
        frames = rng.integers(0, 256, size=(n, *self.fmt.input_shape), dtype=np.uint8)
        self.reset_counters()
        latencies = []
        started = time.perf_counter()
        for i in range(0, n, batch):
            t0 = time.perf_counter()
            v = self.infer(frames[i:i + batch])
            t1 = time.perf_counter()
            decode_values(self.model.net, self.model.head, v, self.decode)
            self.times.add("decode", time.perf_counter() - t1)
            latencies.extend([time.perf_counter() - t0] * len(v))
        return performance(self, n, time.perf_counter() - started, latencies)

    def reset_counters(self) -> None:
        self.times = StageTimes()
        self.frames_run = 0
        self.intervals = []
        self.latencies_cycles = []
