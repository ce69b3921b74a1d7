"""What a run writes: JSON lines as results come, annotated JPEGs (PNG when asked) and a video drawn on a writer
thread; its errors reach the caller; the runtime's image modules import numpy alone."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pytest
import spikeflow_runtime.writer as writer_module
from PIL import Image
from spikeflow_runtime.draw import annotate, class_color
from spikeflow_runtime.errors import ConfigError, ToolMissingError
from spikeflow_runtime.frames import PreparedFrame, prepare_image
from spikeflow_runtime.writer import ResultWriter, result_record

from tests.driver.builds import scene


def detection(class_id: int, name: str, score: float, box: tuple[float, float, float, float]) -> SimpleNamespace:
    """Anything with class_id, name, score, box and as_dict() is a detection to the writer."""
    d = SimpleNamespace(class_id=class_id, name=name, score=score, box=box)
    d.as_dict = lambda: {"class": name, "class_id": class_id, "score": score, "box": list(box)}
    return d


@dataclass
class Result:
    index: int
    source: str
    detections: list = field(default_factory=list)
    error: str = ""
    prepared: PreparedFrame | None = None


def result(i: int, h: int = 60, w: int = 80) -> Result:
    prepared = prepare_image(scene(i, h, w), 16)
    return Result(i, f"clip.mp4#{i}", [detection(1, "dog", 0.875, (10.0, 20.0, 50.0, 40.0))], prepared=prepared)


def test_records_and_jpeg_pictures(tmp_path):
    out, images = tmp_path / "det.jsonl", tmp_path / "img"
    writer = ResultWriter(out, images)
    writer.write(result(0))
    assert json.loads(out.read_text())["frame"] == 0  # flushed at once, before close
    writer.write(Result(1, "clip.mp4#1", error="corrupt video frame"))
    writer.write(result(2))
    writer.close()
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines[0] == {"frame": 0, "source": "clip.mp4#0", "width": 80, "height": 60, "detections": [
        {"class": "dog", "class_id": 1, "score": 0.875, "box": [10.0, 20.0, 50.0, 40.0]}]}
    assert lines[1] == {"frame": 1, "source": "clip.mp4#1", "error": "corrupt video frame"}
    assert sorted(p.name for p in images.iterdir()) == ["000000_clip.jpg", "000002_clip.jpg"]
    with Image.open(images / "000002_clip.jpg") as im:
        assert im.format == "JPEG" and im.size == (80, 60)
    assert writer.lines == 3 and writer.times.pictures == 2
    assert writer.times.draw_s > 0 and writer.times.encode_s > 0 and writer.seconds >= writer.times.encode_s


def test_png_when_asked_draws_boxes_in_class_colours(tmp_path):
    writer = ResultWriter(None, tmp_path, image_format="png")
    writer.write(result(3))
    writer.close()
    pixels = np.asarray(Image.open(tmp_path / "000003_clip.png"))
    assert (pixels == class_color(1)).all(axis=-1).any() and not (pixels == class_color(0)).all(axis=-1).any()
    assert np.array_equal(pixels, annotate(scene(3, 60, 80), result(3).detections))
    with pytest.raises(ConfigError, match="image format 'gif': choose one of jpg, png"):
        ResultWriter(None, tmp_path, image_format="gif")


def test_a_writer_thread_error_reaches_the_caller(tmp_path, monkeypatch):
    calls = []

    def failing(image, detections):
        calls.append(1)
        raise OSError("disk full")

    monkeypatch.setattr(writer_module, "annotate", failing)
    writer = ResultWriter(tmp_path / "det.jsonl", tmp_path / "img", queue_size=1)
    writer.write(result(0))
    with pytest.raises(OSError, match="disk full"):
        deadline = time.monotonic() + 30  # on a loaded machine the thread may take a while to run at all
        i = 1
        while time.monotonic() < deadline:  # never blocks: the thread drains its queue after the error
            writer.write(result(i))
            i += 1
            time.sleep(0.001)
    writer.close()  # raised once, not twice
    assert calls == [1]

    writer = ResultWriter(None, tmp_path / "img2")
    writer.write(result(0))
    with pytest.raises(OSError, match="disk full"):
        writer.close()  # an error on the last picture surfaces at close
    assert not any(t.name == "spikeflow-writer" and t.is_alive() for t in threading.enumerate())


def test_a_full_queue_makes_write_wait_and_close_drains_it(tmp_path, monkeypatch):
    drawn = []

    def slow(image, detections):
        time.sleep(0.02)
        drawn.append(image.shape)
        return image

    monkeypatch.setattr(writer_module, "annotate", slow)
    writer = ResultWriter(None, tmp_path, queue_size=2)
    for i in range(6):
        writer.write(result(i))
        assert writer._queue.qsize() <= 2
    assert len(drawn) < 6  # still drawing: written off the caller's path
    writer.close()
    assert len(drawn) == 6 and len(list(tmp_path.glob("*.jpg"))) == 6 and writer.times.wait_s > 0


def test_the_caller_can_reuse_its_image_buffer(tmp_path):
    buffer = np.zeros((60, 80, 3), np.uint8)
    prepared = prepare_image(buffer, 16)
    writer = ResultWriter(None, tmp_path, image_format="png")
    writer.write(Result(0, "cam#0", prepared=prepared))
    buffer[...] = 255  # the next camera frame lands in the same buffer
    writer.close()
    assert (np.asarray(Image.open(tmp_path / "000000_cam_0.png")) == 0).all()


def test_an_annotated_video(tmp_path, ffmpeg):
    import imageio.v2 as imageio

    video = tmp_path / "out.mp4"
    writer = ResultWriter(None, video=video, fps=5.0)
    for i in range(4):
        writer.write(result(i, 61, 81))  # odd sides: the video takes 80x60
    writer.close()
    reader = imageio.get_reader(str(video))
    frames = [f for f in reader]
    reader.close()
    assert len(frames) == 4 and frames[0].shape == (60, 80, 3)


def test_missing_packages_are_named_before_the_run(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ToolMissingError, match="drawing annotated pictures needs the Python package Pillow"):
        ResultWriter(tmp_path / "det.jsonl", tmp_path / "img")
    writer = ResultWriter(tmp_path / "det.jsonl")  # JSON lines alone need nothing
    writer.write(result(0))
    writer.close()
    assert json.loads((tmp_path / "det.jsonl").read_text())["frame"] == 0
    monkeypatch.delitem(sys.modules, "PIL")
    monkeypatch.setitem(sys.modules, "imageio", None)
    with pytest.raises(ToolMissingError, match="out.mp4: writing a video needs the Python package imageio"):
        ResultWriter(None, video=tmp_path / "out.mp4")


def test_result_record_of_a_frame_without_prepared_frame():
    assert result_record(Result(4, "x", [])) == {"frame": 4, "source": "x", "detections": []}


def test_the_image_modules_import_numpy_alone():
    code = ("import sys\n"
            "import spikeflow_runtime.letterbox, spikeflow_runtime.frames, spikeflow_runtime.sources\n"
            "import spikeflow_runtime.draw, spikeflow_runtime.writer\n"
            "allowed = set(sys.stdlib_module_names) | {'numpy', 'spikeflow_runtime', '_distutils_hack'}\n"
            "print(sorted({m.split('.')[0] for m in sys.modules if not m.startswith('__')} - allowed))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
