"""Host cost of the runtime (spikeflow_runtime) per frame, on one core, for the tiny and default models.

    python bench/host_bench.py [--tiny build/sim] [--default build/default] [--frames 3000]
        [--out build/bench/host.json]

Per stage, in ms per frame (median of repeated batches of 32): pack (bus-padded, into a reused buffer), unpack (the
output buffer viewed as stream-order values), decode + NMS (decode_batch: decode_values at conf 0.25, NMS and the
mapping to original pixels, on the golden model's outputs of the build's real frames), prepare of an already-sized
frame and letterbox of a 640x480 photo (each installed resample back end), then end to end: already-sized frames
streamed through the replay back end at 3,000 device frames/s (the golden outputs of the build's frames recorded
first, the frames repeated to --frames; the median of three runs). Targets: host work <= 0.25 ms per already-sized
frame, letterbox of 640x480 <= 1 ms, end to end >= 2,850 frames/s at 3,000.

The process is pinned to one core (os.sched_setaffinity). The replay device's thread (it hashes every frame to find
its recording, the hardware's work) is pinned to a second core when there is one; the end-to-end run is repeated
with everything on the one core. A build folder without an IR is replaced by a random network of the same
architecture, named as such in the figures. Writes OUT (JSON) and prints the figures with pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from spikeflow_runtime.backends.replay import Recording, ReplayAccelerator
from spikeflow_runtime.frames import PreparedFrame, prepare_image
from spikeflow_runtime.letterbox import LETTERBOX_BACKENDS, Letterbox, backend_installed, letterbox_backend
from spikeflow_runtime.settings import DecodeSettings
from spikeflow_runtime.streaming import performance, run_frames

from spikeflow.driver.model import DriverModel
from spikeflow.flow.builddir import BuildDir
from spikeflow.golden import run_counts
from spikeflow.ir import FewdIFNetwork, load_network
from spikeflow.ir.random import random_network

TARGET_HOST_MS = 0.25  # host work per already-sized frame: prepare + pack + unpack + decode
TARGET_LETTERBOX_MS = 1.0  # letterbox of a 640x480 photo, the default resample back end
DEVICE_FPS = 3000.0
TARGET_E2E_FPS = 2850.0  # end to end at DEVICE_FPS (95 %)
CONF = 0.25
BATCH = 32
PHOTO = (480, 640)  # height, width
E2E_RUNS = 3  # end-to-end runs per setting; the median counts (the others are listed)
# the architectures of model/configs/tiny.yaml and default.yaml, for a random stand-in when a build is missing
ARCHITECTURES = {
    "tiny": {"input_shape": (3, 64, 64), "channels": (12, 24, 48, 64), "pool_after": (True, True, True, False)},
    "default": {"input_shape": (3, 256, 256), "channels": (8, 16, 32, 64, 128, 256),
                "pool_after": (True, True, True, True, True, False)},
}


def pin(cpu: int) -> None:
    """Pin the calling thread (and the threads it starts from now on) to `cpu`."""
    os.sched_setaffinity(0, {cpu})


def per_frame_ms(fn: Callable[[], Any], frames: int, min_seconds: float = 0.3, min_repeats: int = 7) -> float:
    """Median wall ms per frame of `fn()`, which handles `frames` frames: repeated for at least `min_seconds`."""
    fn()  # warm-up
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < min_repeats or time.perf_counter() - started < min_seconds:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)) * 1e3 / frames


def model_build(name: str, build_dir: Path, scratch: Path) -> tuple[DriverModel, str]:
    """The build's driver model, or one of a random network of the architecture in `scratch`."""
    if (build_dir / "ir" / "network.json").is_file():
        return DriverModel.of(build_dir), f"{build_dir}/ir"
    arch = ARCHITECTURES[name]
    net = random_network(np.random.default_rng(0), input_shape=arch["input_shape"], channels=arch["channels"],
                         pool_after=arch["pool_after"], head_channels=27, name=f"{name}-random")
    build = BuildDir(scratch / f"random-{name}")
    net.save(build.ir)
    return DriverModel.of(build.root), f"random network of the {name} architecture ({build_dir} has no IR)"


def sample_frames(model: DriverModel, count: int) -> tuple[np.ndarray, str]:
    """Already-sized uint8 frames [N,H,W,C]: the build's verification frames, else random ones."""
    if model.build.frames.is_file():
        with np.load(model.build.frames, allow_pickle=False) as npz:
            frames = npz["frames"][:count]
        return np.ascontiguousarray(frames.transpose(0, 2, 3, 1)), f"{len(frames)} frames of {model.build.frames}"
    rng = np.random.default_rng(1)
    fmt = model.deployed.stream
    return rng.integers(0, 256, size=(count, *fmt.frame_shape), dtype=np.uint8), f"{count} random frames"


def photo() -> np.ndarray:
    """A 640x480 RGB stand-in for a camera photo: gradients and noise (the resample cost does not depend on it)."""
    h, w = PHOTO
    y, x = np.mgrid[0:h, 0:w]
    rng = np.random.default_rng(2)
    img = np.stack([x * 255 // w, y * 255 // h, (x + y) * 255 // (w + h)], axis=2) + rng.integers(0, 32, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def tile(frames: np.ndarray, n: int) -> np.ndarray:
    return np.ascontiguousarray(np.resize(frames, (n, *frames.shape[1:])))


def end_to_end(model: DriverModel, recording: Recording, frames: np.ndarray, device_cpu: int | None,
               host_cpu: int | None) -> dict[str, Any]:
    """Already-sized frames through the replay back end at DEVICE_FPS, its device thread pinned to `device_cpu`:
    the run of median frames/s of E2E_RUNS, and every run's frames/s."""
    if device_cpu is not None:
        pin(device_cpu)  # the replay device's thread, started by the constructor, inherits this
    acc = ReplayAccelerator(model.deployed, DecodeSettings(conf_threshold=CONF), recording=recording,
                            device_fps=DEVICE_FPS)
    if host_cpu is not None:
        pin(host_cpu)
    runs = []
    try:
        run_frames(acc, frames[:4 * BATCH], BATCH)  # warm-up
        for _ in range(E2E_RUNS):
            acc.reset_counters()
            seconds, latencies = run_frames(acc, frames, BATCH)
            runs.append(performance(acc, len(frames), seconds, latencies))
    finally:
        acc.close()
    perf = sorted(runs, key=lambda p: p["host_fps"])[len(runs) // 2]
    return {"frames": len(frames), "batch": BATCH, "seconds": round(perf["seconds"], 4), "fps": perf["host_fps"],
            "fps_runs": [round(p["host_fps"], 1) for p in runs], "device_fps": perf["device_fps"],
            "latency_ms_p50": perf["latency_ms_p50"], "latency_ms_p99": perf["latency_ms_p99"],
            "stage_ms_per_frame": {k: round(v, 5) for k, v in perf["stage_ms_per_frame"].items()}}


def bench_model(name: str, build_dir: Path, scratch: Path, n_e2e: int, host_cpu: int | None,
                device_cpu: int | None) -> dict[str, Any]:
    model, what = model_build(name, build_dir, scratch)
    fmt = model.deployed.stream
    net: FewdIFNetwork = load_network(model.build.ir)
    frames, frames_what = sample_frames(model, BATCH)
    print(f"{name}: {what}; input {list(fmt.frame_shape)}, output {list(fmt.output_shape)}; {frames_what}")
    values = fmt.pack_values(run_counts(net, frames.transpose(0, 3, 1, 2)))  # [N, values_per_frame], golden
    batch = tile(frames, BATCH)
    device_out = np.ascontiguousarray(np.resize(values, (BATCH, values.shape[1])).astype(fmt.value_dtype))
    stream_values = fmt.stream_values(device_out)  # [N, Gh, Gw, K]
    bus = np.empty(BATCH * fmt.bus_frame_bytes, np.uint8)
    identity = Letterbox.identity(fmt.height)
    prepared = [PreparedFrame(f, identity, f) for f in batch]
    recording = Recording(fmt.values_per_frame, fmt.value_dtype)
    recording.add(list(frames.reshape(len(frames), -1)), values)
    decoder = ReplayAccelerator(model.deployed, DecodeSettings(conf_threshold=CONF), recording=recording)
    decoder.close()
    detections = decoder.decode_batch(stream_values, prepared)
    photo_rgb = photo()

    stages = {
        "prepare": per_frame_ms(lambda: [prepare_image(f, fmt.height) for f in batch], BATCH),
        "pack": per_frame_ms(lambda: fmt.pack_frames_bus_into(batch, bus), BATCH),
        "unpack": per_frame_ms(lambda: fmt.stream_values(device_out), BATCH),
        "decode": per_frame_ms(lambda: decoder.decode_batch(stream_values, prepared), BATCH),
    }
    host_ms = sum(stages.values())
    letterbox_ms = {b: per_frame_ms(lambda b=b: prepare_image(photo_rgb, fmt.height, backend=b), 1)
                    for b in LETTERBOX_BACKENDS if backend_installed(b)}
    e2e_frames = tile(frames, n_e2e)
    split = end_to_end(model, recording, e2e_frames, device_cpu, host_cpu)
    one_core = end_to_end(model, recording, e2e_frames, host_cpu, host_cpu)
    default_backend = letterbox_backend()
    return {
        "model": what, "frames": frames_what, "input": list(fmt.frame_shape), "output": list(fmt.output_shape),
        "bus_frame_bytes": fmt.bus_frame_bytes, "values_per_frame": fmt.values_per_frame, "conf": CONF,
        "detections_per_frame": sum(len(d) for d in detections) / len(detections),
        "stage_ms_per_frame": {k: round(v, 5) for k, v in stages.items()},
        "host_ms_per_sized_frame": round(host_ms, 5),
        "letterbox_640x480_ms": {k: round(v, 4) for k, v in letterbox_ms.items()},
        "letterbox_backend": default_backend,
        "end_to_end": split, "end_to_end_one_core": one_core,
        "pass": {"host_ms": host_ms <= TARGET_HOST_MS,
                 "letterbox_640x480": letterbox_ms[default_backend] <= TARGET_LETTERBOX_MS,
                 "end_to_end_fps": split["fps"] >= TARGET_E2E_FPS},
    }


def verdict(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def report(name: str, r: dict[str, Any], device_note: str) -> None:
    s = r["stage_ms_per_frame"]
    print(f"  {name}: prepare {s['prepare']:.4f}, pack {s['pack']:.4f}, unpack {s['unpack']:.4f}, decode + NMS "
          f"{s['decode']:.4f} ms/frame ({r['detections_per_frame']:.1f} detections/frame at conf {CONF})")
    print(f"  {name}: host work {r['host_ms_per_sized_frame']:.4f} ms per already-sized frame (target <= "
          f"{TARGET_HOST_MS}): {verdict(r['pass']['host_ms'])}")
    lb = ", ".join(f"{k} {v:.3f} ms" for k, v in r["letterbox_640x480_ms"].items())
    print(f"  {name}: letterbox 640x480: {lb} (target <= {TARGET_LETTERBOX_MS} ms with {r['letterbox_backend']}): "
          f"{verdict(r['pass']['letterbox_640x480'])}")
    e, o = r["end_to_end"], r["end_to_end_one_core"]
    print(f"  {name}: end to end {e['fps']:,.0f} frames/s at {DEVICE_FPS:,.0f} device frames/s ({device_note}; "
          f"target >= {TARGET_E2E_FPS:,.0f}): {verdict(r['pass']['end_to_end_fps'])}; latency p50 "
          f"{e['latency_ms_p50']:.1f} ms p99 {e['latency_ms_p99']:.1f} ms (runs: {e['fps_runs']}); all on one core: "
          f"{o['fps']:,.0f} frames/s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiny", type=Path, default=Path("build/sim"), help="the tiny model's build (model/tiny.pt)")
    ap.add_argument("--default", type=Path, default=Path("build/default"), help="the default model's build")
    ap.add_argument("--frames", type=int, default=3000, help="frames of the end-to-end runs (default: %(default)s)")
    ap.add_argument("--out", type=Path, default=Path("build/bench/host.json"))
    args = ap.parse_args(argv)
    if args.frames < 4 * BATCH:
        ap.error(f"--frames must be at least {4 * BATCH}")
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    host_cpu = cpus[0] if cpus else None
    device_cpu = cpus[1] if len(cpus) > 1 else host_cpu
    if host_cpu is not None:
        pin(host_cpu)
        device_note = (f"replay device thread on core {device_cpu}" if device_cpu != host_cpu
                       else "replay device thread on the same core")
        print(f"pinned to core {host_cpu} (os.sched_setaffinity); {device_note}")
    else:
        device_note = "not pinned: os.sched_setaffinity is not available here"
        print(device_note)
    scratch = args.out.parent / "host"
    results = {name: bench_model(name, build, scratch, args.frames, host_cpu, device_cpu)
               for name, build in (("tiny", args.tiny), ("default", args.default))}
    print("figures (ms per frame, one core):")
    for name, r in results.items():
        report(name, r, device_note)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "commit": commit, "date": time.strftime("%Y-%m-%d %H:%M"), "python": platform.python_version(),
        "numpy": np.__version__, "machine": platform.machine(), "cpu": cpu_name(),
        "load_average_1min": round(os.getloadavg()[0], 2),  # other work on the machine skews the figures
        "pinning": {"method": "os.sched_setaffinity" if host_cpu is not None else None, "host_core": host_cpu,
                    "replay_device_core": device_cpu, "cores_allowed": len(cpus)},
        "targets": {"host_ms_per_sized_frame": TARGET_HOST_MS, "letterbox_640x480_ms": TARGET_LETTERBOX_MS,
                    "end_to_end_fps": TARGET_E2E_FPS, "device_fps": DEVICE_FPS},
        "models": results,
    }, indent=1) + "\n")
    print(f"figures: {args.out}")
    return 0


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    sys.exit(main())
