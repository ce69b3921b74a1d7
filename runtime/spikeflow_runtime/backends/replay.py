"""The replay back end: a recorded device. It returns the outputs recorded for the frames it is given (the golden
model's, recorded by the flow: deploy/replay.npz, or `spikeflow run --backend replay` records its source first),
paced at a set device rate, so the whole host path can be measured end to end without a board.

The device runs on its own thread like a DMA engine: a submitted batch waits its turn, takes `frames / device_fps`
seconds, and its outputs are copied into a fresh buffer. Frames are recognised by a digest of their packed bytes;
a frame that was not recorded is a DriverError naming it (never a silent wrong answer).
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spikeflow_runtime.accelerator import Accelerator, DeviceOutput
from spikeflow_runtime.errors import ConfigError, DeviceTimeoutError, DriverError
from spikeflow_runtime.model import DeployedModel
from spikeflow_runtime.settings import DecodeSettings

REPLAY_FILE = "replay.npz"
SAMPLE_FILE = "sample_frames.npy"  # the recorded frames, next to the recording (throughput tests replay them)
DEFAULT_DEVICE_FPS = 3000.0
DIGEST_BYTES = 20  # sha1


def frame_digest(data: Any) -> bytes:
    """The digest that names a frame: sha1 of its packed stream bytes (hashlib releases the GIL for it)."""
    return hashlib.sha1(memoryview(data)).digest()


class Recording:
    """Recorded device outputs: frame digest -> the frame's output values in stream order."""

    def __init__(self, values_per_frame: int, dtype: str):
        self.values_per_frame = values_per_frame
        self.dtype = np.dtype(dtype)
        self._rows: dict[bytes, int] = {}
        self._chunks: list[np.ndarray] = []
        self._outputs: np.ndarray | None = np.zeros((0, values_per_frame), self.dtype)

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, payloads: list[Any], outputs: np.ndarray) -> None:
        """Record `outputs` [N, values_per_frame] for the frames whose packed bytes are `payloads`."""
        outputs = np.asarray(outputs).reshape(len(payloads), self.values_per_frame).astype(self.dtype)
        for payload, out in zip(payloads, outputs):
            key = frame_digest(payload)
            if key not in self._rows:
                self._rows[key] = len(self._rows)
                self._chunks.append(out)
        self._outputs = None

    @property
    def outputs(self) -> np.ndarray:
        if self._outputs is None:
            self._outputs = np.stack(self._chunks) if self._chunks else np.zeros((0, self.values_per_frame),
                                                                                 self.dtype)
        return self._outputs

    def rows(self, digests: list[bytes]) -> list[int | None]:
        return [self._rows.get(d) for d in digests]

    def save(self, path: Path) -> Path:
        keys = np.frombuffer(b"".join(self._rows), np.uint8).reshape(len(self._rows), DIGEST_BYTES)
        np.savez_compressed(path, digests=keys, outputs=self.outputs)
        return path

    @classmethod
    def load(cls, path: str | Path, values_per_frame: int, dtype: str) -> Recording:
        try:
            with np.load(path, allow_pickle=False) as data:
                digests, outputs = data["digests"], data["outputs"]
        except (OSError, KeyError, ValueError) as exc:
            raise ConfigError(f"{path}: not a replay recording ({exc})") from exc
        if outputs.ndim != 2 or outputs.shape[1] != values_per_frame or digests.shape != (len(outputs),
                                                                                          DIGEST_BYTES):
            raise ConfigError(f"{path}: recording of shape {list(outputs.shape)} does not match this model's "
                              f"{values_per_frame} values per frame: record it again")
        rec = cls(values_per_frame, dtype)
        rec._rows = {bytes(d): i for i, d in enumerate(digests)}
        rec._chunks = list(outputs.astype(rec.dtype))
        rec._outputs = None
        return rec


@dataclass
class _Job:
    payload: np.ndarray
    frames: int
    done: threading.Event = field(default_factory=threading.Event)
    output: np.ndarray | None = None
    error: str = ""
    busy_s: float = 0.0


class ReplayAccelerator(Accelerator):
    name = "replay"
    default_batch = 32
    max_in_flight = 2

    def __init__(self, model: DeployedModel, decode: DecodeSettings | None = None,
                 recording: Recording | str | Path | None = None, device_fps: float = DEFAULT_DEVICE_FPS,
                 folder: str | Path | list | None = None, **_: object):
        super().__init__(model, decode)
        self.samples: np.ndarray | None = None  # recorded frames [N,H,W,C], when the folder has them
        if not device_fps or device_fps <= 0:
            raise ConfigError(f"--device-fps must be > 0, got {device_fps}")
        self.rate_fps = float(device_fps)
        fmt = self.fmt
        if recording is None:
            folders = list(folder) if isinstance(folder, (list, tuple)) else [folder or "."]
            paths = [Path(f) / REPLAY_FILE for f in folders]
            found = [p for p in paths if p.is_file()]
            if not found:
                raise ConfigError(f"{paths[0]} is missing: the replay back end needs recorded outputs (the deploy "
                                  f"step writes them for the build's frames)")
            recording = found[0]
            samples = found[0].parent / SAMPLE_FILE
            if samples.is_file():
                self.samples = np.load(samples, allow_pickle=False)
        if not isinstance(recording, Recording):
            recording = Recording.load(recording, fmt.values_per_frame, fmt.value_dtype)
        self.recording = recording
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._free_at = 0.0
        self._thread = threading.Thread(target=self._device, name="replay-device", daemon=True)
        self._thread.start()

    def close(self) -> None:
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join()

    def _device(self) -> None:
        fb = self.fmt.frame_bytes
        while True:
            job = self._jobs.get()
            if job is None:
                return
            start = max(time.perf_counter(), self._free_at)
            digests = [frame_digest(job.payload[i * fb:(i + 1) * fb]) for i in range(job.frames)]
            rows = self.recording.rows(digests)
            if None in rows:
                job.error = (f"replay: frame {rows.index(None)} of the batch was not recorded (a frame the "
                             f"recording does not hold: record the source first)")
            else:
                job.output = self.recording.outputs[rows]  # a fresh buffer, as the device writes one
            done_at = max(start + job.frames / self.rate_fps, time.perf_counter())
            delay = done_at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            self._free_at = done_at
            job.busy_s = done_at - start
            job.done.set()

    def throughput_frames(self, n: int, seed: int = 0) -> np.ndarray:
        """The recorded sample frames, repeated to `n` (random frames would not be in the recording)."""
        if self.samples is None or not len(self.samples):
            raise ConfigError(f"replay: no recorded frames ({SAMPLE_FILE}) next to the recording to run a throughput "
                              f"test with: give --source")
        return self.fmt.check_frames(np.resize(self.samples, (n, *self.samples.shape[1:])))

    def _submit(self, frames: np.ndarray) -> _Job:
        job = _Job(self.pack(frames), len(frames))
        self._jobs.put(job)
        return job

    def _collect(self, job: _Job) -> DeviceOutput:
        t0 = time.perf_counter()
        limit = self.timeout_s(job.frames) + job.frames / self.rate_fps * (1 + self.max_in_flight)
        if not job.done.wait(limit):
            raise DeviceTimeoutError(f"replay: no answer for a batch of {job.frames} frame(s) within {limit:.3g} s")
        self.times.add("compute", time.perf_counter() - t0)
        if job.error:
            raise DriverError(job.error)
        return DeviceOutput(job.output, device_seconds=job.busy_s)
