"""The rtlsim and golden back ends give identical raw values and detections on >= 64 streamed frames, from an
array and from a video made here with imageio (stage driver_rtlsim in verify.json); spikeflow run end to end."""

from __future__ import annotations

import json

import numpy as np

from spikeflow.cli import main
from spikeflow.driver import open_accelerator, open_source
from spikeflow.driver.step import compare_backends
from spikeflow.flow.report import read_report
from spikeflow.verify.report import record_stages
from tests.backends.rtl.simtools import require_verilator
from tests.driver.builds import SIZE, scene, write_video

FRAMES = 64


def test_64_frames_and_a_video_bit_exact(driver_build, tmp_path):
    require_verilator()
    frames = np.random.default_rng(3).integers(0, 256, size=(FRAMES, 3, SIZE, SIZE), dtype=np.uint8)
    stage, perf = compare_backends(driver_build.root, frames, pictures=2)
    assert stage.frames == FRAMES and stage.mismatches == 0 and stage.extra["in_order"]
    assert stage.extra["detection_mismatched_frames"] == 0
    assert perf["device_cycles_per_frame"] and perf["device_fps"] and perf["host_fps"]
    assert perf["device_fps"] == perf["clock_mhz"] * 1e6 / perf["device_cycles_per_frame"]

    video = write_video(tmp_path / "scene.avi", FRAMES)
    streamed = {}
    for backend in ("golden", "rtlsim"):
        with open_accelerator(driver_build.root, backend) as acc:
            streamed[backend] = list(acc.stream_results(open_source(video)))
    gold, rtl = streamed["golden"], streamed["rtlsim"]
    assert [r.index for r in rtl] == list(range(FRAMES)) == [r.index for r in gold]
    assert not any(r.error for r in rtl)
    assert np.array_equal(np.stack([r.values for r in rtl]), np.stack([r.values for r in gold]))
    assert [r.detections for r in rtl] == [r.detections for r in gold]
    assert all(r.prepared.letterbox.orig_w == 32 and r.prepared.letterbox.orig_h == 24 for r in rtl)

    record_stages(driver_build.root, {"driver_rtlsim": stage})
    row = read_report(driver_build.root, "verify")["stages"]["driver_rtlsim"]
    assert row["frames"] >= 64 and row["mismatches"] == 0 and row["compared_to"] == "golden"


def test_spikeflow_run_writes_detections_images_and_video(driver_build, tmp_path, capsys):
    require_verilator()
    folder = tmp_path / "photos"
    folder.mkdir()
    from PIL import Image

    for i in range(5):
        Image.fromarray(scene(i, 30 + i, 40)).save(folder / f"p{i}.png")
    out = tmp_path / "det.jsonl"
    rc = main(["run", str(driver_build.root), "--backend", "rtlsim", "--source", str(folder), "--out", str(out),
               "--save-images", str(tmp_path / "img"), "--video-out", str(tmp_path / "out.mp4"), "--conf", "0.01",
               "--no-progress"])
    assert rc == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [d["frame"] for d in lines] == list(range(5)) and lines[0]["source"] == "p0.png"
    assert lines[2]["height"] == 32 and lines[2]["width"] == 40
    for d in (det for line in lines for det in line["detections"]):
        assert d["class"] in ("cat", "dog") and 0 <= d["score"] <= 1 and len(d["box"]) == 4
    assert len(list((tmp_path / "img").glob("*.jpg"))) == 5 and (tmp_path / "out.mp4").stat().st_size > 0
    text = capsys.readouterr().out
    assert "5 frames on rtlsim" in text and "FPS at" in text and "latency p50" in text and "host-only" in text


def test_throughput_test_reports_every_stage(driver_build):
    with open_accelerator(driver_build.root, "golden") as acc:
        perf = acc.throughput_test(8, batch=4)
    assert perf["frames"] == 8 and perf["host_fps"] > 0 and perf["latency_ms_p99"] >= perf["latency_ms_p50"]
    assert set(perf["stage_ms_per_frame"]) == {"prepare", "pack", "transfer", "compute", "unpack", "decode", "write"}
    assert perf["device_fps"] is None  # the golden model has no clock
    assert perf["host_only_fps"] > 0 and perf["host_ms_per_frame"] > 0
