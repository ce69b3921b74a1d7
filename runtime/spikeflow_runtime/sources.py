"""Frame sources: a folder of images (Pillow), a video file (ffmpeg), a numpy array (.npy, .npz or in memory), or a
camera index (OpenCV). Each yields SourceFrame(index, name, image | None, error) in order; a frame that cannot be
read comes with `error` set, so that the stream reports it, skips it and goes on. Sources are looked up by kind
(`open_source`), not chosen with if chains.

`prepared_frames` reads and letterboxes a source's frames ahead of the device in a thread pool (Pillow's decode and
resize and numpy's copies release the GIL), and hands them over strictly in source order.

Nothing here is imported before it is needed: Pillow, imageio-ffmpeg and OpenCV are optional. ffmpeg is the binary
imageio-ffmpeg ships when that package is installed, else an `ffmpeg` on PATH.
"""

from __future__ import annotations

import functools
import queue
import re
import shutil
import subprocess
import threading
import time
import zipfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spikeflow_runtime.errors import ConfigError, DatasetError, FrameError, ToolMissingError, missing_package
from spikeflow_runtime.frames import PreparedFrame, prepare_image
from spikeflow_runtime.letterbox import open_rgb

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".gif")
ARRAY_SUFFIXES = (".npy", ".npz")
ARRAY_KEY = "frames"  # the array of an .npz file that holds several


@dataclass
class SourceFrame:
    index: int
    name: str
    image: np.ndarray | None  # uint8 HxWx3 RGB (or whatever the array source holds), None when unreadable
    error: str = ""


class FolderSource:
    """The images of a folder, sorted by name; an unreadable file is a frame with an error. A folder that goes away
    while it is read is an error of the whole source (DatasetError)."""

    kind = "folder"

    def __init__(self, path: Path):
        self.path = Path(path)
        if not self.path.is_dir():
            raise DatasetError(f"{self.path}: not a folder")
        self.files = sorted(p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.files:
            raise DatasetError(f"{self.path}: no images ({', '.join(IMAGE_SUFFIXES)})")
        try:
            import PIL  # noqa: F401
        except ImportError as exc:
            raise missing_package("Pillow", f"{self.path}: reading image files", "images") from exc

    def __len__(self) -> int:
        return len(self.files)

    def __iter__(self) -> Iterator[SourceFrame]:
        for read in self.deferred():
            yield read()

    def deferred(self) -> Iterator[Callable[[], SourceFrame]]:
        """One call per frame, in order, that decodes it: prepared_frames runs them in its worker threads."""
        for i, f in enumerate(self.files):
            yield functools.partial(self.read, i, f)

    def read(self, index: int, path: Path) -> SourceFrame:
        try:
            return SourceFrame(index, path.name, np.asarray(open_rgb(path)))
        except (OSError, ValueError, SyntaxError) as exc:
            if isinstance(exc, FileNotFoundError) and not self.path.is_dir():
                raise DatasetError(f"{self.path}: the folder went away while it was read (at frame {index}, "
                                   f"{path.name})") from None
            return SourceFrame(index, path.name, None, f"unreadable image: {exc}")


class ArraySource:
    """The frames of a numpy array [N,H,W,C] or [N,C,S,S] (or a .npy/.npz file of one)."""

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


def load_array(path: Path) -> np.ndarray:
    """The frames of a .npy file, or of an .npz file (its array 'frames', or its only array)."""
    try:
        data = np.load(path, allow_pickle=False)
        if isinstance(data, np.ndarray):
            return data
        with data:
            keys = list(data.keys())
            if ARRAY_KEY in keys or len(keys) == 1:
                return data[ARRAY_KEY if ARRAY_KEY in keys else keys[0]]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DatasetError(f"{path}: not a readable numpy array file ({exc})") from None
    raise DatasetError(f"{path}: an .npz source holds one array, or an array named '{ARRAY_KEY}'; it has "
                       f"{', '.join(keys) or 'none'}")


# -- video ------------------------------------------------------------------------------------------------------------
SHOWINFO = re.compile(r"Parsed_showinfo.*\bn:\s*(\d+)\s+pts:\s*(-?\d+)\s+pts_time:\s*(-?[\d.]+)")
STREAM = re.compile(r"Stream #\S+.*?: Video: .*?\s(\d+)x(\d+)[\s,]")
FPS = re.compile(r"([\d.]+)(k?) (?:fps|tbr)\b")
ROTATION = re.compile(r"(?:rotate\s*:\s*|rotation of\s+)(-?[\d.]+)")
FRAME_COUNT = re.compile(r"frame=\s*(\d+)")
VERSION = re.compile(r"ffmpeg version n?(\d+)\.")


def find_ffmpeg(purpose: str, use_imageio: bool = True) -> str:
    """The ffmpeg binary: imageio-ffmpeg's when that package is installed (and `use_imageio`), else one on PATH."""
    if use_imageio:
        try:
            import imageio_ffmpeg
        except ImportError:
            pass
        else:
            return imageio_ffmpeg.get_ffmpeg_exe()
    found = shutil.which("ffmpeg")
    if found is None:
        raise ToolMissingError(f"{missing_package('imageio-ffmpeg', purpose, 'video')}, or an ffmpeg binary on PATH")
    return found


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    count: int  # frames, 0 when ffmpeg cannot count them


def probe_video(path: Path, ffmpeg: str, use_imageio: bool = True) -> VideoInfo:
    """Frame size, rate and count: imageio-ffmpeg's probe when installed (and `use_imageio`), else ffmpeg's own
    report (`ffmpeg -i`, then a stream copy to count the frames). DatasetError when it is not a readable video."""
    if use_imageio:
        try:
            import imageio_ffmpeg
        except ImportError:
            pass
        else:
            return _probe_imageio(imageio_ffmpeg, path)
    header = subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-i", str(path)], capture_output=True)
    text = header.stderr.decode("utf-8", "replace")
    stream = STREAM.search(text)
    if stream is None:
        last = text.strip().splitlines()[-1:] or ["no video stream"]
        raise DatasetError(f"{path}: not a readable video ({last[0]})")
    line = text[stream.start():].splitlines()[0]
    width, height = int(stream.group(1)), int(stream.group(2))
    rotation = ROTATION.search(text)
    if rotation is not None and round(abs(float(rotation.group(1)))) % 180 == 90:
        width, height = height, width  # ffmpeg turns the frames upright when it decodes them
    fps = FPS.search(line)
    rate = float(fps.group(1)) * (1000 if fps.group(2) else 1) if fps else 0.0
    counted = subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:v:0", "-c", "copy",
                              "-f", "null", "-"], capture_output=True)
    counts = FRAME_COUNT.findall(counted.stderr.decode("utf-8", "replace"))
    return VideoInfo(width, height, rate, int(counts[-1]) if counts else 0)


def _probe_imageio(imageio_ffmpeg, path: Path) -> VideoInfo:
    gen = imageio_ffmpeg.read_frames(str(path))
    try:
        meta = next(gen)
    except (OSError, RuntimeError, StopIteration) as exc:
        raise DatasetError(f"{path}: not a readable video ({exc})") from exc
    finally:
        gen.close()
    width, height = (int(v) for v in meta["size"])
    try:
        count = imageio_ffmpeg.count_frames_and_secs(str(path))[0]
    except (OSError, RuntimeError):
        count = 0
    return VideoInfo(width, height, float(meta.get("fps") or 0.0), count)


@functools.lru_cache(maxsize=8)
def ffmpeg_major(ffmpeg: str) -> int:
    """ffmpeg's major version (a build from git, with no number: taken as new)."""
    try:
        out = subprocess.run([ffmpeg, "-version"], capture_output=True, timeout=30).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.TimeoutExpired):
        return 99
    m = VERSION.search(out)
    return int(m.group(1)) if m else 99


class VideoSource:
    """A video file decoded by ffmpeg into RGB frames.

    The decoder runs with `-err_detect explode`, so a frame with corrupt data is dropped instead of concealed
    into garbage; its index is known from the presentation times the `showinfo` filter logs, and it is reported
    with ffmpeg's error message and skipped. The frame count and rate come from the probe (`probe_video`).
    """

    kind = "video"

    def __init__(self, path: Path, use_imageio: bool = True):
        self.path = Path(path)
        self.ffmpeg = find_ffmpeg(f"{self.path}: reading a video", use_imageio)
        info = probe_video(self.path, self.ffmpeg, use_imageio)
        self.width, self.height, self.fps, self.count = info.width, info.height, info.fps, info.count

    def __len__(self) -> int:
        return self.count

    def _frame_index(self, pts_time: float, n: int) -> int:
        return int(round(pts_time * self.fps)) if self.fps > 0 else n

    def _command(self) -> list[str]:
        passthrough = ["-fps_mode", "passthrough"] if ffmpeg_major(self.ffmpeg) >= 5 else ["-vsync", "passthrough"]
        return [self.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "info", "-err_detect", "explode",
                "-i", str(self.path), "-map", "0:v:0", "-vf", "showinfo", *passthrough,
                "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]

    def __iter__(self) -> Iterator[SourceFrame]:
        proc = subprocess.Popen(self._command(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
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
                    yield self._corrupt(expected, errors)
                    expected += 1
                if index < expected:
                    continue  # a duplicate presentation time: keep the first
                image = np.frombuffer(data, np.uint8).reshape(self.height, self.width, 3)
                yield SourceFrame(index, f"{self.path.name}#{index}", image)
                expected = index + 1
            while expected < self.count:  # corrupt frames at the end
                yield self._corrupt(expected, errors)
                expected += 1
        finally:
            proc.kill()
            proc.wait()
            proc.stdout.close()
            proc.stderr.close()

    def _corrupt(self, index: int, errors: list[str]) -> SourceFrame:
        return SourceFrame(index, f"{self.path.name}#{index}", None,
                           f"corrupt video frame ({errors[-1] if errors else 'dropped by the decoder'})")


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
            raise missing_package("opencv-python-headless", f"camera {index}: reading a camera", "camera") from exc
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


def _is_camera(spec: str) -> bool:
    return spec.isdigit()


def _is_folder(spec: str) -> bool:
    return Path(spec).is_dir()


def _is_array(spec: str) -> bool:
    return Path(spec).suffix.lower() in ARRAY_SUFFIXES and Path(spec).is_file()


def _is_video(spec: str) -> bool:
    return Path(spec).is_file() and Path(spec).suffix.lower() in VIDEO_SUFFIXES


_OPENERS: tuple[tuple[Callable[[str], bool], Callable[[str], object]], ...] = (
    (_is_camera, lambda s: CameraSource(int(s))),
    (_is_folder, lambda s: FolderSource(Path(s))),
    (_is_array, lambda s: ArraySource(load_array(Path(s)), Path(s).name)),
    (_is_video, lambda s: VideoSource(Path(s))),
)


def open_source(spec: str | Path | np.ndarray):
    """A frame source for a folder, a video file, a .npy/.npz file, an in-memory array, or a camera index."""
    if isinstance(spec, np.ndarray):
        return ArraySource(spec)
    text = str(spec)
    if not _is_camera(text) and not Path(text).exists():
        raise DatasetError(f"{text}: no such file or folder")
    for matches, opener in _OPENERS:
        if matches(text):
            return opener(text)
    raise DatasetError(f"{text}: not a folder of images, a video ({', '.join(VIDEO_SUFFIXES)}), a .npy/.npz array "
                       f"or a camera index")


# -- the read-ahead pool ----------------------------------------------------------------------------------------------
@dataclass
class ReadyFrame:
    """A source frame read and letterboxed: `prepared`, or `error` (why it was skipped)."""

    index: int
    name: str
    prepared: PreparedFrame | None
    error: str = ""
    seconds: float = 0.0  # worker time spent reading and preparing it


class ReadAhead:
    """The frames of a source read and prepared by `workers` threads, `ahead` at most in flight; iterating yields a
    ReadyFrame per source frame, strictly in source order, and `close()` stops early.

    A frame that cannot be read or prepared comes out with its error, never dropped. An exception of the source
    itself (DatasetError for a folder that went away, KeyboardInterrupt) is raised after the frames read before it.
    `frames`, `skipped`, `busy_s` (worker seconds) and `wait_s` (seconds the consumer waited) count what went through.
    """

    def __init__(self, source: Iterable, size: int, channels: int = 3, workers: int = 2, ahead: int | None = None,
                 backend: str | None = None, limit: int | None = None):
        if workers < 1:
            raise ConfigError(f"read-ahead workers must be >= 1, got {workers}")
        self.ahead = 2 * workers if ahead is None else ahead
        if self.ahead < 1:
            raise ConfigError(f"read-ahead frames in flight must be >= 1, got {self.ahead}")
        self.source, self.size, self.channels, self.workers, self.backend = source, size, channels, workers, backend
        self.limit = limit  # frames to take from the source at most (None: all)
        self.frames = self.skipped = 0
        self.busy_s = self.wait_s = 0.0
        self._running: Iterator[ReadyFrame] | None = None

    def __iter__(self) -> Iterator[ReadyFrame]:
        self.close()
        self._running = self._ready_frames()
        return self._running

    def close(self) -> None:
        """Stop reading: frames in flight are dropped, the workers joined and the source closed."""
        if self._running is not None:
            self._running.close()  # type: ignore[attr-defined]
            self._running = None

    def _ready_frames(self) -> Iterator[ReadyFrame]:
        reads = _frame_reads(self.source)
        inflight: deque[Future] = deque()
        source_done, failure, pulled = False, None, 0
        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="spikeflow-read")
        try:
            while True:
                while not source_done and len(inflight) < self.ahead:
                    if self.limit is not None and pulled >= self.limit:
                        source_done = True
                        break
                    try:
                        read = next(reads)
                    except StopIteration:
                        source_done = True
                    except BaseException as exc:  # the source failed: raised after the frames read before it
                        source_done, failure = True, exc
                    else:
                        inflight.append(pool.submit(self._prepare, read))
                        pulled += 1
                if not inflight:
                    break
                t0 = time.perf_counter()
                ready = inflight.popleft().result()
                self.wait_s += time.perf_counter() - t0
                self.frames += 1
                self.skipped += bool(ready.error)
                self.busy_s += ready.seconds
                yield ready
            if failure is not None:
                raise failure
        finally:
            for pending in inflight:
                pending.cancel()
            pool.shutdown(wait=True)
            reads.close()

    def _prepare(self, read: Callable[[], SourceFrame]) -> ReadyFrame:
        t0 = time.perf_counter()
        item = read()
        if item.error or item.image is None:
            return ReadyFrame(item.index, item.name, None, item.error or "no image", time.perf_counter() - t0)
        try:
            prepared = prepare_image(item.image, self.size, self.channels, f"frame {item.index} ({item.name})",
                                     self.backend)
        except FrameError as exc:
            return ReadyFrame(item.index, item.name, None, str(exc), time.perf_counter() - t0)
        return ReadyFrame(item.index, item.name, prepared, "", time.perf_counter() - t0)


def _frame_reads(source: Iterable) -> Iterator[Callable[[], SourceFrame]]:
    """Per frame, a call that reads it: the source's deferred reads when it has them (the decode then runs in a
    worker), else the frame as the source yields it."""
    deferred = getattr(source, "deferred", None)
    if deferred is not None:
        yield from deferred()
        return
    frames = iter(source)
    try:
        for item in frames:
            yield functools.partial(_as_read, item)
    finally:
        close = getattr(frames, "close", None)  # a generator source (a video's ffmpeg) stops now, not when collected
        if close is not None:
            close()


def _as_read(item: SourceFrame) -> SourceFrame:
    return item


def prepared_frames(source: Iterable, size: int, channels: int = 3, workers: int = 2, ahead: int | None = None,
                    backend: str | None = None, limit: int | None = None) -> ReadAhead:
    """The first `limit` (default all) frames of `source` read and letterboxed ahead in `workers` threads (see
    ReadAhead), in source order."""
    return ReadAhead(source, size, channels, workers, ahead, backend, limit)
