"""The drive step: the build's validation frames streamed through the rtlsim back end as a host would stream them,
checked against the golden back end (stage driver_rtlsim: raw values and detections), with annotated pictures in
report/driver/ and the run's figures in report/driver.json."""

from __future__ import annotations

import numpy as np
from spikeflow_runtime.sources import ArraySource
from spikeflow_runtime.streaming import performance, summary_line

from spikeflow.driver.open import open_accelerator
from spikeflow.flow.builddir import BuildDir
from spikeflow.flow.config import BuildConfig
from spikeflow.flow.frames import FrameSet
from spikeflow.flow.report import write_report
from spikeflow.verify.compare import StageResult, compare_heads
from spikeflow.verify.report import print_stages, record_stages

PICTURES = 8  # annotated frames written to report/driver/


def compare_backends(build_root, frames: np.ndarray, pictures: int = 0) -> tuple[StageResult, dict[str, object]]:
    """Stream `frames` through rtlsim and golden; stage driver_rtlsim (values), detections compared frame by
    frame, and the rtlsim run's performance."""
    import time

    from spikeflow_runtime.runner import writer_seconds
    from spikeflow_runtime.writer import ResultWriter

    build = BuildDir.of(build_root)
    results = {}
    perf: dict[str, object] = {}
    for name in ("golden", "rtlsim"):
        with open_accelerator(build.root, name) as acc:
            writer = ResultWriter(None, build.report / "driver" if name == "rtlsim" and pictures else None)
            started = time.perf_counter()
            got = []
            for r in acc.stream_results(ArraySource(frames, "frames.npz")):
                got.append(r)
                if r.index < pictures:
                    writer.write(r)
            seconds = time.perf_counter() - started
            writer.close()
            acc.times.add("write", writer_seconds(writer))
            results[name] = got
            if name == "rtlsim":
                perf = performance(acc, len(got), seconds, [r.latency_s for r in got])
    golden, rtl = results["golden"], results["rtlsim"]
    ok_order = [r.index for r in rtl] == list(range(len(frames))) == [r.index for r in golden]
    det_mismatch = sum(a.detections != b.detections for a, b in zip(rtl, golden, strict=True))
    stage = compare_heads("driver_rtlsim", "golden", _per_head(rtl), _per_head(golden), _head_names(build),
                          note="spikeflow.driver: rtlsim back end against the golden back end, streamed")
    stage.extra |= {"detection_mismatched_frames": int(det_mismatch), "in_order": ok_order,
                   "detections": int(sum(len(r.detections) for r in rtl))}
    if det_mismatch or not ok_order:
        stage.mismatches = max(stage.mismatches, 1)
    return stage, perf


def _per_head(results: list) -> list[np.ndarray]:
    """The results' values stacked per head (a result holds one array, or with several heads one per head)."""
    if not results:
        return [np.zeros((0,))]
    if isinstance(results[0].values, (list, tuple)):
        return [np.stack([r.values[h] for r in results]) for h in range(len(results[0].values))]
    return [np.stack([r.values for r in results])]


def _head_names(build: BuildDir) -> list[str]:
    """The IR's head names, in head order (the drive step reads the IR anyway)."""
    from spikeflow.ir import load_network

    return [head.name for head in load_network(build.ir).heads]


def step_drive(build: BuildDir, cfg: BuildConfig) -> None:
    frames = FrameSet.load(build.frames).frames
    stage, perf = compare_backends(build.root, frames, pictures=min(PICTURES, len(frames)))
    record_stages(build.root, {"driver_rtlsim": stage})
    write_report(build.root, "driver", {**perf, "frames_source": str(build.frames),
                                        "pictures": str(build.report / "driver")})
    print_stages({"driver_rtlsim": stage}, len(frames), build.report / "verify.json")
    print(f"   {summary_line(perf)}")
    print(f"   annotated frames: {build.relative(build.report / 'driver')}, report: "
          f"{build.relative(build.report / 'driver.json')}")
