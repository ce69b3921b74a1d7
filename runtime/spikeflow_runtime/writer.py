"""What a run writes: one JSON line per input frame, annotated images (JPEG by default) and an annotated video.

The JSON lines are written and flushed as results come, so an interrupted run keeps every result it produced. The
pictures are drawn and encoded off the hot path, by a writer thread fed through a bounded queue (a full queue makes
write() wait, so memory stays bounded); close() drains the queue and joins the thread. An exception in the writer
thread is raised again in the caller at the next write() or close(), never lost. Pillow and imageio are imported
when pictures are asked for, never at import.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from spikeflow_runtime.draw import annotate
from spikeflow_runtime.errors import ConfigError, missing_package

IMAGE_FORMATS = {"jpg": "JPEG", "png": "PNG"}  # image_format -> Pillow's format name
JPEG_QUALITY = 90
QUEUE_PICTURES = 8  # pictures waiting for the writer thread at most
_STOP = object()  # the writer thread's last item


def result_record(r: Any) -> dict[str, object]:
    """The JSON line of one result: frame, source, and the original image's size and detections (or the error)."""
    doc: dict[str, object] = {"frame": r.index, "source": r.source}
    if r.error:
        doc["error"] = r.error
        return doc
    if r.prepared is not None:
        doc["width"], doc["height"] = r.prepared.letterbox.orig_w, r.prepared.letterbox.orig_h
    doc["detections"] = [d.as_dict() for d in r.detections]
    return doc


@dataclass
class WriterTimes:
    """Where the writer's time went: JSON lines in the caller, pictures on the writer thread."""

    lines: int = 0  # JSON lines written
    pictures: int = 0  # annotated pictures written (images and video frames of one result count once)
    record_s: float = 0.0  # caller: JSON lines
    wait_s: float = 0.0  # caller: waiting for room in the picture queue
    draw_s: float = 0.0  # writer thread: drawing boxes and labels
    encode_s: float = 0.0  # writer thread: JPEG/PNG files and video frames

    @property
    def seconds(self) -> float:
        """All the time spent writing, on either thread."""
        return self.record_s + self.draw_s + self.encode_s


class ResultWriter:
    """detections.jsonl, and optionally annotated images (DIR/NNNNNN_name.jpg, or .png) and an annotated video.

    A result passed to write() has index, source, detections (objects with as_dict(), and class_id, name, score and
    box for drawing), error and prepared (a PreparedFrame, whose original image is drawn on, or None).
    """

    def __init__(self, out: Path | None, images: Path | None = None, video: Path | None = None, fps: float = 10.0,
                 image_format: str = "jpg", queue_size: int = QUEUE_PICTURES):
        if image_format not in IMAGE_FORMATS:
            raise ConfigError(f"image format {image_format!r}: choose one of {', '.join(IMAGE_FORMATS)}")
        if queue_size < 1:
            raise ConfigError(f"picture queue size must be >= 1, got {queue_size}")
        self.out = out
        self.images = images
        self.video_path = video
        self.fps = fps
        self.image_format = image_format
        self.times = WriterTimes()
        self._jsonl: IO[str] | None = None
        self._video = None
        self._video_size: tuple[int, int] | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        if images is not None or video is not None:
            _require("PIL", "Pillow", "drawing annotated pictures", "images")
        if video is not None:
            _require("imageio", "imageio", f"{video}: writing a video", "video")
            _require("imageio_ffmpeg", "imageio-ffmpeg", f"{video}: writing a video", "video")
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            self._jsonl = out.open("w")
        if images is not None:
            images.mkdir(parents=True, exist_ok=True)

    @property
    def lines(self) -> int:
        return self.times.lines

    @property
    def seconds(self) -> float:
        """Seconds spent writing so far (JSON lines in the caller, pictures on the writer thread)."""
        return self.times.seconds

    def write(self, r: Any) -> None:
        """Write one result's JSON line now and queue its picture for the writer thread."""
        self._raise_writer_error()
        if self._jsonl is not None:
            t0 = time.perf_counter()
            self._jsonl.write(json.dumps(result_record(r)) + "\n")
            self._jsonl.flush()
            self.times.record_s += time.perf_counter() - t0
            self.times.lines += 1
        if r.error or r.prepared is None or (self.images is None and self.video_path is None):
            return
        image = r.prepared.image
        if image.flags.writeable:
            image = image.copy()  # the caller may reuse its buffer before the writer thread draws on it
        if self._thread is None:
            self._thread = threading.Thread(target=self._draw_pictures, name="spikeflow-writer", daemon=True)
            self._thread.start()
        t0 = time.perf_counter()
        self._queue.put((r.index, r.source, image, list(r.detections)))
        self.times.wait_s += time.perf_counter() - t0

    def close(self) -> None:
        """Write what is queued, join the writer thread and close the files; raise the writer thread's error."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None
        if self._jsonl is not None:
            self._jsonl.close()
            self._jsonl = None
        self._raise_writer_error()

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
            return
        try:  # an exception is on its way already: the writer's own error goes to stderr, not over it
            self.close()
        except Exception as writer_exc:
            print(f"warning: the result writer also failed: {writer_exc}", file=sys.stderr)

    def _raise_writer_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    # -- the writer thread ------------------------------------------------------------------------------------------
    def _draw_pictures(self) -> None:
        """Draw and encode queued pictures until _STOP; after an error, drain the queue so write() never blocks."""
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    return
                if self._error is None:
                    try:
                        self._write_picture(*item)
                    except BaseException as exc:  # handed to the caller
                        self._error = exc
        finally:
            try:
                if self._video is not None:
                    self._video.close()
            except BaseException as exc:
                self._error = self._error or exc
            self._video = None

    def _write_picture(self, index: int, source: str, image: np.ndarray, detections: list) -> None:
        from PIL import Image

        t0 = time.perf_counter()
        picture = annotate(image, detections)
        t1 = time.perf_counter()
        if self.images is not None:
            stem = Path(source).stem.replace("#", "_").replace("[", "_").replace("]", "")
            path = self.images / f"{index:06d}_{stem}.{self.image_format}"
            options = {"quality": JPEG_QUALITY} if self.image_format == "jpg" else {}
            Image.fromarray(picture).save(path, IMAGE_FORMATS[self.image_format], **options)
        if self.video_path is not None:
            self._append_video(picture)
        self.times.draw_s += t1 - t0
        self.times.encode_s += time.perf_counter() - t1
        self.times.pictures += 1

    def _append_video(self, picture: np.ndarray) -> None:
        import imageio.v2 as imageio
        from PIL import Image

        if self._video is None:
            self.video_path.parent.mkdir(parents=True, exist_ok=True)
            h, w = picture.shape[:2]
            self._video_size = (w - w % 2, h - h % 2)  # yuv420p needs even sides
            self._video = imageio.get_writer(str(self.video_path), format="FFMPEG", fps=self.fps, codec="libx264",
                                             macro_block_size=1, pixelformat="yuv420p")
        if (picture.shape[1], picture.shape[0]) != self._video_size:
            bilinear = getattr(Image, "Resampling", Image).BILINEAR
            picture = np.asarray(Image.fromarray(picture).resize(self._video_size, bilinear))
        self._video.append_data(picture)


def _require(module: str, package: str, purpose: str, extra: str) -> None:
    """ToolMissingError now, before the run, for an optional package that the outputs asked for need."""
    try:
        __import__(module)
    except ImportError as exc:
        raise missing_package(package, purpose, extra) from exc
