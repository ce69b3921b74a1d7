"""Frame sources: a folder of images, a video file (ffmpeg, from imageio-ffmpeg), a numpy array (.npy or in
memory), or a camera index (OpenCV, when installed). Each yields SourceFrame(index, name, image | None, error) in
order; a frame that cannot be read comes with `error` set, so that the stream reports it, skips it and goes on.

Sources are looked up by kind (`open_source`), not chosen with if chains.
"""

from __future__ import annotations

import queue
import re
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spikeflow.errors import DatasetError, ToolMissingError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".gif")


@dataclass
class SourceFrame:
    index: int
    name: str
    image: np.ndarray | None  # uint8 HxWx3 RGB (or whatever the array source holds), None when unreadable
    error: str = ""


class FolderSource:
    """The images of a folder, sorted by name; an unreadable file is a frame with an error."""

    kind = "folder"

    def __init__(self, path: Path):
        self.path = path
        self.files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.files:
            raise DatasetError(f"{path}: no images ({', '.join(IMAGE_SUFFIXES)})")

    def __len__(self) -> int:
        return len(self.files)

    def __iter__(self) -> Iterator[SourceFrame]:
        from spikeflow.data.letterbox import open_rgb

        for i, f in enumerate(self.files):
            try:
                yield SourceFrame(i, f.name, np.asarray(open_rgb(f)))
            except (OSError, ValueError, SyntaxError) as exc:
                yield SourceFrame(i, f.name, None, f"unreadable image: {exc}")


class ArraySource:
    """The frames of a numpy array [N,H,W,C] or [N,C,S,S] (or a .npy file of one)."""

    kind = "array"

    def __init__(self, frames: np.ndarray, name: str = "array"):
        self.frames = np.asarray(frames)
        self.name = name
        if self.frames.ndim not in (3, 4):
            raise DatasetError(f"{name}: an array source holds frames [N, H, W, C] or [N, C, H, W], got shape "
                               f"{list(self.frames.shape)}")

    def __len__(self) -> int:
        return len(self.frames)

    def __iter__(self) -> Iterator[SourceFrame]:
        for i, frame in enumerate(self.frames):
            yield SourceFrame(i, f"{self.name}[{i}]", frame)


SHOWINFO = re.compile(r"Parsed_showinfo.*\bn:\s*(\d+)\s+pts:\s*(-?\d+)\s+pts_time:\s*(-?[\d.]+)")


class VideoSource:
    """A video file decoded by ffmpeg (the binary imageio-ffmpeg ships) into RGB frames.

    The decoder runs with `-err_detect explode`, so a frame with corrupt data is dropped instead of concealed
    into garbage; its index is known from the presentation times the `showinfo` filter logs, and it is reported
    with ffmpeg's error message and skipped. The frame count and rate come from imageio-ffmpeg's probe.
    """

    kind = "video"

    def __init__(self, path: Path):
        self.path = path
        try:
            import imageio_ffmpeg
        except ImportError as exc:
            raise ToolMissingError("reading video needs imageio-ffmpeg: pip install imageio-ffmpeg") from exc
        self.ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
        gen = imageio_ffmpeg.read_frames(str(path))
        try:
            meta = next(gen)
        except (OSError, RuntimeError, StopIteration) as exc:
            raise DatasetError(f"{path}: not a readable video ({exc})") from exc
        finally:
            gen.close()
        self.width, self.height = (int(v) for v in meta["size"])
        self.fps = float(meta.get("fps") or 0.0)
        try:
            self.count = imageio_ffmpeg.count_frames_and_secs(str(path))[0]
        except (OSError, RuntimeError):
            self.count = 0

    def __len__(self) -> int:
        return self.count

    def _frame_index(self, pts_time: float, n: int) -> int:
        return int(round(pts_time * self.fps)) if self.fps > 0 else n

    def __iter__(self) -> Iterator[SourceFrame]:
        cmd = [self.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "info", "-err_detect", "explode",
               "-i", str(self.path), "-map", "0:v:0", "-vf", "showinfo", "-fps_mode", "passthrough",
               "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None and proc.stderr is not None
        infos: queue.Queue[tuple[int, float] | None] = queue.Queue()
        errors: list[str] = []
        reader = threading.Thread(target=_read_log, args=(proc.stderr, infos, errors), daemon=True)
        reader.start()
        size = self.width * self.height * 3
        expected = 0
        try:
            while True:
                data = proc.stdout.read(size)
                if len(data) < size:
                    break
                info = infos.get(timeout=60)
                if info is None:
                    break
                index = self._frame_index(info[1], info[0])
                while expected < index:  # frames the decoder dropped as corrupt
                    yield SourceFrame(expected, f"{self.path.name}#{expected}", None,
                                      f"corrupt video frame ({errors[-1] if errors else 'dropped by the decoder'})")
                    expected += 1
                if index < expected:
                    continue  # a duplicate presentation time: keep the first
                image = np.frombuffer(data, np.uint8).reshape(self.height, self.width, 3)
                yield SourceFrame(index, f"{self.path.name}#{index}", image)
                expected = index + 1
            while expected < self.count:  # corrupt frames at the end
                yield SourceFrame(expected, f"{self.path.name}#{expected}", None,
                                  f"corrupt video frame ({errors[-1] if errors else 'dropped by the decoder'})")
                expected += 1
        finally:
            proc.kill()
            proc.wait()
            proc.stdout.close()
            proc.stderr.close()


def _read_log(stream, infos: queue.Queue, errors: list[str]) -> None:
    """ffmpeg's log: showinfo lines -> (n, pts_time) in order; decoder errors kept for the report."""
    for raw in stream:
        line = raw.decode("utf-8", "replace").rstrip()
        m = SHOWINFO.search(line)
        if m:
            infos.put((int(m.group(1)), float(m.group(3))))
        elif "rror" in line or "corrupt" in line or "invalid" in line.lower():
            errors.append(re.sub(r"^\[[^]]*\]\s*", "", line)[:160])
    infos.put(None)


class CameraSource:
    """Frames of a camera, by index, through OpenCV (pip install opencv-python-headless)."""

    kind = "camera"

    def __init__(self, index: int, limit: int | None = None):
        try:
            import cv2  # noqa: F401
        except ImportError as exc:
            raise ToolMissingError(f"camera {index}: reading a camera needs OpenCV: pip install "
                                   f"opencv-python-headless") from exc
        self.index = index
        self.limit = limit

    def __len__(self) -> int:
        return self.limit or 0

    def __iter__(self) -> Iterator[SourceFrame]:
        import cv2

        cap = cv2.VideoCapture(self.index)
        if not cap.isOpened():
            raise DatasetError(f"camera {self.index}: cannot be opened")
        try:
            i = 0
            while self.limit is None or i < self.limit:
                ok, bgr = cap.read()
                if not ok:
                    break
                yield SourceFrame(i, f"camera{self.index}#{i}", bgr[..., ::-1].copy())
                i += 1
        finally:
            cap.release()


SourceOpener = Callable[[str], object]


def _is_camera(spec: str) -> bool:
    return spec.isdigit()


def _is_folder(spec: str) -> bool:
    return Path(spec).is_dir()


def _is_array(spec: str) -> bool:
    return spec.endswith(".npy") and Path(spec).is_file()


def _is_video(spec: str) -> bool:
    return Path(spec).is_file() and Path(spec).suffix.lower() in VIDEO_SUFFIXES


_OPENERS: tuple[tuple[Callable[[str], bool], Callable[[str], object]], ...] = (
    (_is_camera, lambda s: CameraSource(int(s))),
    (_is_folder, lambda s: FolderSource(Path(s))),
    (_is_array, lambda s: ArraySource(np.load(s, allow_pickle=False), Path(s).name)),
    (_is_video, lambda s: VideoSource(Path(s))),
)


def open_source(spec: str | Path | np.ndarray):
    """A frame source for a folder, a video file, a .npy file, an in-memory array, or a camera index."""
    if isinstance(spec, np.ndarray):
        return ArraySource(spec)
    text = str(spec)
    for matches, opener in _OPENERS:
        if matches(text):
            return opener(text)
    raise DatasetError(f"{text}: not a folder of images, a video ({', '.join(VIDEO_SUFFIXES)}), a .npy array or a "
                       f"camera index")
