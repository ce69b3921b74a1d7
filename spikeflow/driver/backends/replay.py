"""The replay back end on the host: the runtime's recorded device, recording the golden model's outputs first.

`record` runs the golden model on frames the recording does not hold yet (untimed), so that `spikeflow run
--backend replay --device-fps 3000` measures the host path end to end against a device at that rate, with the
golden model's answers. A build's deploy/replay.npz (the deploy step's recording of its frames) is loaded first.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from typing import Any

import numpy as np
from spikeflow_runtime.backends.replay import DEFAULT_DEVICE_FPS, REPLAY_FILE, Recording, ReplayAccelerator
from spikeflow_runtime.model import DeployedModel
from spikeflow_runtime.settings import DecodeSettings

from spikeflow.driver.model import DriverModel
from spikeflow.golden import run_counts, run_counts_heads

RECORD_BATCH = 32


class GoldenReplayAccelerator(ReplayAccelerator):
    def __init__(self, model: DeployedModel, decode: DecodeSettings | None = None, *, driver_model: DriverModel,
                 device_fps: float = DEFAULT_DEVICE_FPS, recording: Recording | None = None, **_: Any):
        saved = driver_model.build.deploy / REPLAY_FILE
        fmt = model.stream
        if recording is None:
            recording = (Recording.load(saved, fmt.values_per_frame, fmt.value_dtype) if saved.is_file()
                         else Recording(fmt.values_per_frame, fmt.value_dtype))
        super().__init__(model, decode, recording=recording, device_fps=device_fps)
        self.net = driver_model.net

    def record(self, frames: np.ndarray) -> int:
        """Record the golden model's outputs for those of `frames` ([N,H,W,C] or [N,C,H,W]) not recorded yet;
        returns how many were added."""
        hwc = np.ascontiguousarray(self.fmt.check_frames(frames))
        fb = self.fmt.frame_bytes
        flat = hwc.reshape(len(hwc), fb)
        from spikeflow_runtime.backends.replay import frame_digest

        new = [i for i, d in enumerate(self.recording.rows([frame_digest(f) for f in flat])) if d is None]
        for start in range(0, len(new), RECORD_BATCH):
            idx = new[start:start + RECORD_BATCH]
            seen = hwc[idx].transpose(0, 3, 1, 2)
            v = run_counts_heads(self.net, seen) if self.fmt.heads else run_counts(self.net, seen)
            self.recording.add([flat[i] for i in idx], self.fmt.pack_values(v))
        return len(new)

    def throughput_frames(self, n: int, seed: int = 0) -> np.ndarray:
        """Random frames, recorded first (untimed)."""
        frames = super(ReplayAccelerator, self).throughput_frames(n, seed)
        self.record(frames)
        return frames

    def record_source(self, source: Iterable, workers: int = 2) -> int:
        """Read and letterbox `source` once and record what the golden model answers for its frames."""
        from spikeflow_runtime.sources import prepared_frames

        t0 = time.perf_counter()
        batch: list[np.ndarray] = []
        added = 0
        for item in prepared_frames(source, self.model.input_size, self.fmt.channels, workers=workers):
            if not item.error:
                batch.append(item.prepared.frame)
            if len(batch) >= RECORD_BATCH:
                added += self.record(np.stack(batch))
                batch.clear()
        if batch:
            added += self.record(np.stack(batch))
        print(f"replay: recorded the golden model's outputs for {added} new frame(s) in "
              f"{time.perf_counter() - t0:.1f} s (not timed; {len(self.recording)} in the recording)", file=sys.stderr)
        return added
