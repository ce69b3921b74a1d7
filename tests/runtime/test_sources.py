"""Frame sources (folder, array, .npy/.npz, video, camera) and the read-ahead pool: frames in source order, an
unreadable frame reported in its place, a failing source raised after the frames before it, nothing left running."""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from spikeflow_runtime.errors import ConfigError, DatasetError, ToolMissingError
from spikeflow_runtime.frames import prepare_image
from spikeflow_runtime.sources import (
    ArraySource,
    CameraSource,
    FolderSource,
    SourceFrame,
    VideoSource,
    ffmpeg_major,
    open_source,
    prepared_frames,
    probe_video,
)

from tests.driver.builds import corrupt_video_frame, scene, write_video

SIZE = 16


def photo_folder(root: Path, count: int = 5) -> Path:
    folder = root / "photos"
    folder.mkdir()
    for i in range(count):
        Image.fromarray(scene(i, 30 + i, 40)).save(folder / f"p{i}.png")
    return folder


# -- sources ------------------------------------------------------------------------------------------------------
def test_a_folder_is_read_in_name_order_with_unreadable_files_in_their_place(tmp_path):
    folder = photo_folder(tmp_path, 3)
    (folder / "p1b.jpg").write_bytes(b"")
    (folder / "notes.txt").write_text("not an image")
    frames = list(open_source(folder))
    assert [f.name for f in frames] == ["p0.png", "p1.png", "p1b.jpg", "p2.png"]
    assert [f.index for f in frames] == [0, 1, 2, 3]
    assert frames[2].image is None and frames[2].error.startswith("unreadable image:")
    assert np.array_equal(frames[3].image, scene(2, 32, 40)) and not frames[3].error


def test_a_folder_without_images_or_without_pillow_is_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="empty: no images"):
        FolderSource(tmp_path / "empty")
    folder = photo_folder(tmp_path, 1)
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ToolMissingError, match="reading image files needs the Python package Pillow: pip install"):
        FolderSource(folder)


def test_a_folder_that_goes_away_fails_the_source(tmp_path):
    folder = photo_folder(tmp_path, 3)
    source = FolderSource(folder)
    for f in folder.iterdir():
        f.unlink()
    folder.rmdir()
    with pytest.raises(DatasetError, match="went away while it was read \\(at frame 0, p0.png\\)"):
        list(source)


def test_array_sources_hwc_and_chw(tmp_path):
    hwc = np.stack([scene(i) for i in range(4)])
    assert [f.name for f in ArraySource(hwc, "cam")] == [f"cam[{i}]" for i in range(4)]
    chw = hwc[:, :SIZE, :SIZE].transpose(0, 3, 1, 2)
    ready = [prepare_image(f.image, SIZE).frame for f in ArraySource(chw)]
    assert all(np.array_equal(r, hwc[i, :SIZE, :SIZE]) for i, r in enumerate(ready))
    with pytest.raises(DatasetError, match="got shape \\[4, 3\\]"):
        ArraySource(np.zeros((4, 3), np.uint8))


def test_npy_and_npz_files(tmp_path):
    frames = np.stack([scene(i) for i in range(3)])
    np.save(tmp_path / "a.npy", frames)
    np.savez(tmp_path / "named.npz", frames=frames, boxes=np.zeros((2, 4)))
    np.savez(tmp_path / "single.npz", frames[:2])
    for name, count in (("a.npy", 3), ("named.npz", 3), ("single.npz", 2)):
        source = open_source(tmp_path / name)
        assert len(source) == count and np.array_equal(np.stack([f.image for f in source]), frames[:count])
    np.savez(tmp_path / "two.npz", a=frames, b=frames)
    with pytest.raises(DatasetError, match="one array, or an array named 'frames'; it has a, b"):
        open_source(tmp_path / "two.npz")
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DatasetError, match="bad.npz: not a readable numpy array file"):
        open_source(tmp_path / "bad.npz")


def test_an_unknown_source_names_what_is_taken(tmp_path):
    (tmp_path / "x.txt").write_text("")
    with pytest.raises(DatasetError, match="not a folder of images, a video .* a .npy/.npz array or a camera index"):
        open_source(tmp_path / "x.txt")


def test_a_camera_without_opencv_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "cv2", None)
    with pytest.raises(ToolMissingError, match="camera 0: reading a camera needs .*: pip install opencv-python"):
        open_source("0")
    with pytest.raises(ToolMissingError, match="opencv-python-headless"):
        CameraSource(1, limit=2)


# -- video --------------------------------------------------------------------------------------------------------
def test_a_video_is_decoded_frame_by_frame(tmp_path, ffmpeg):
    video = write_video(tmp_path / "scene.avi", 12)
    source = open_source(video)
    assert isinstance(source, VideoSource) and len(source) == 12 and source.fps == 10.0
    frames = list(source)
    assert [f.index for f in frames] == list(range(12)) and not any(f.error for f in frames)
    assert frames[3].name == "scene.avi#3" and frames[3].image.shape == (24, 32, 3)
    assert np.abs(frames[3].image.astype(int) - scene(3)).mean() < 12  # MJPEG: close, not exact


def test_a_corrupt_video_frame_is_reported_in_its_place(tmp_path, ffmpeg):
    good = write_video(tmp_path / "good.avi", 12)
    bad = corrupt_video_frame(good, 5, tmp_path / "bad.avi")
    frames, clean = list(open_source(bad)), list(open_source(good))
    assert [f.index for f in frames] == list(range(12))
    assert [f.index for f in frames if f.error] == [5] and "corrupt video frame" in frames[5].error
    for a, b in zip(frames, clean):
        if not a.error:
            assert np.array_equal(a.image, b.image)  # the frames around it decode as in the clean video


def test_ffmpeg_on_path_does_without_imageio_ffmpeg(tmp_path, monkeypatch, ffmpeg):
    """No imageio-ffmpeg: an ffmpeg on PATH decodes, and its own report gives the size, rate and count."""
    video = corrupt_video_frame(write_video(tmp_path / "good.avi", 12), 5, tmp_path / "bad.avi")
    with_imageio = VideoSource(video)
    frames_imageio = list(with_imageio)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ffmpeg").symlink_to(ffmpeg)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)
    on_path = VideoSource(video)
    assert on_path.ffmpeg == str(bin_dir / "ffmpeg")
    assert (on_path.width, on_path.height, on_path.fps, on_path.count) == (32, 24, 10.0, 12)
    assert probe_video(video, ffmpeg, use_imageio=False) == probe_video(video, ffmpeg)
    frames = list(on_path)
    assert [f.index for f in frames if f.error] == [5]
    assert all(np.array_equal(a.image, b.image) for a, b in zip(frames, frames_imageio) if not a.error)
    (tmp_path / "text.mp4").write_text("not a video")
    with pytest.raises(DatasetError, match="text.mp4: not a readable video"):
        VideoSource(tmp_path / "text.mp4")
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    with pytest.raises(ToolMissingError, match="needs the Python package imageio-ffmpeg: pip install imageio-ffmpeg"
                                               ".*, or an ffmpeg binary on PATH"):
        VideoSource(video)


def test_ffmpeg_version_decides_the_passthrough_option(ffmpeg):
    assert ffmpeg_major(ffmpeg) >= 5  # imageio-ffmpeg's binary: -fps_mode passthrough


# -- the read-ahead pool ------------------------------------------------------------------------------------------
class SlowReads:
    """A source whose frames take random times to read (deferred, so the pool's workers read them)."""

    def __init__(self, count: int, seed: int = 0):
        self.count = count
        self.delays = [random.Random(seed + i).uniform(0, 0.01) for i in range(count)]

    def deferred(self):
        for i in range(self.count):
            yield lambda i=i: self._read(i)

    def _read(self, i: int) -> SourceFrame:
        time.sleep(self.delays[i])
        return SourceFrame(i, f"slow{i}", scene(i, 20 + i % 5, 30))


def test_read_ahead_keeps_the_source_order():
    pool = prepared_frames(SlowReads(40), SIZE, workers=4, ahead=8)
    ready = list(pool)
    assert [r.index for r in ready] == list(range(40)) and [r.name for r in ready][:2] == ["slow0", "slow1"]
    for r in ready:
        expected = prepare_image(scene(r.index, 20 + r.index % 5, 30), SIZE)
        assert np.array_equal(r.prepared.frame, expected.frame) and r.prepared.letterbox == expected.letterbox
    assert pool.frames == 40 and pool.skipped == 0 and pool.busy_s > 0


def test_read_ahead_reports_bad_frames_in_their_place(tmp_path):
    folder = photo_folder(tmp_path, 4)
    (folder / "p2.png").write_bytes(b"not a png")
    pool = prepared_frames(open_source(folder), SIZE)
    ready = list(pool)
    assert [r.index for r in ready] == [0, 1, 2, 3] and [r.index for r in ready if r.error] == [2]
    assert ready[2].prepared is None and ready[2].error.startswith("unreadable image")
    assert pool.skipped == 1 and pool.frames == 4
    frames = [scene(0), scene(1).astype(np.float32), scene(2)[..., :2]]
    ready = list(prepared_frames(_frames(frames), SIZE))
    assert [r.index for r in ready] == [0, 1, 2] and ready[0].prepared is not None
    assert "frame 1 (f1): pixels must be uint8" in ready[1].error and "shape [24, 32, 2]" in ready[2].error


def _frames(images):
    for i, image in enumerate(images):
        yield SourceFrame(i, f"f{i}", image)


def test_read_ahead_bounds_the_frames_in_flight():
    pulled: list[int] = []

    def source():
        for i in range(30):
            pulled.append(i)
            yield SourceFrame(i, f"f{i}", scene(i))

    most = 0
    for r in prepared_frames(source(), SIZE, workers=2, ahead=3):
        most = max(most, len(pulled) - r.index)  # frames pulled and not yet handed over, this one included
    assert len(pulled) == 30 and most <= 3


def test_a_failing_source_is_raised_after_the_frames_before_it():
    def source(error: BaseException):
        for i in range(10):
            if i == 4:
                raise error
            yield SourceFrame(i, f"f{i}", scene(i))

    for error in (DatasetError("camera 0: unplugged"), KeyboardInterrupt()):
        seen = []
        with pytest.raises(type(error)):
            for r in prepared_frames(source(error), SIZE, workers=3, ahead=6):
                seen.append(r.index)
        assert seen == [0, 1, 2, 3]


def test_a_bug_in_a_read_is_raised_not_hung():
    class Broken(SlowReads):
        def _read(self, i):
            if i == 3:
                raise RuntimeError("bug in frame 3")
            return super()._read(i)

    seen = []
    with pytest.raises(RuntimeError, match="bug in frame 3"):
        for r in prepared_frames(Broken(10), SIZE):
            seen.append(r.index)
    assert seen == [0, 1, 2]


def test_closing_the_pool_early_stops_the_source():
    closed = []

    def source():
        try:
            for i in range(100):
                yield SourceFrame(i, f"f{i}", scene(i))
        finally:
            closed.append(True)

    pool = prepared_frames(source(), SIZE)
    for r in pool:
        if r.index == 2:
            break
    pool.close()
    assert closed == [True]
    limited = prepared_frames(SlowReads(10), SIZE, limit=4)
    assert [r.index for r in limited] == [0, 1, 2, 3] and limited.frames == 4
    with pytest.raises(ConfigError, match="workers must be >= 1"):
        prepared_frames(source(), SIZE, workers=0)
