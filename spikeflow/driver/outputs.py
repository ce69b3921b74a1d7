"""What a run writes: one JSON line per input frame, annotated images, an annotated video. Every writer flushes
as it goes and closes cleanly, so an interrupted run keeps every result it produced."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from spikeflow.detect.draw import class_color
from spikeflow.driver.accelerator import FrameResult
from spikeflow.driver.detections import Detection


def annotate(image: np.ndarray, detections: list[Detection]) -> np.ndarray:
    """HxWx3 uint8 image with boxes and "name 0.87" labels drawn in class colours."""
    canvas = Image.fromarray(np.ascontiguousarray(image))
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default()
    width = max(1, round(max(canvas.size) / 300))
    for d in detections:
        color = class_color(d.class_id)
        x0, y0, x1, y1 = d.box
        draw.rectangle([x0, y0, max(x1, x0), max(y1, y0)], outline=color, width=width)
        text = f"{d.name} {d.score:.2f}"
        bb = draw.textbbox((x0, max(y0 - 11, 0)), text, font=font)
        draw.rectangle([bb[0] - 1, bb[1] - 1, bb[2] + 1, bb[3] + 1], fill=color)
        draw.text((x0, max(y0 - 11, 0)), text, fill=(0, 0, 0), font=font)
    return np.asarray(canvas)


def result_record(r: FrameResult) -> dict[str, object]:
    doc: dict[str, object] = {"frame": r.index, "source": r.source}
    if r.error:
        doc["error"] = r.error
        return doc
    if r.prepared is not None:
        doc["width"], doc["height"] = r.prepared.letterbox.orig_w, r.prepared.letterbox.orig_h
    doc["detections"] = [d.as_dict() for d in r.detections]
    return doc


class ResultWriter:
    """detections.jsonl, and optionally annotated images (DIR/NNNNNN_name.png) and an annotated video."""

    def __init__(self, out: Path | None, images: Path | None = None, video: Path | None = None, fps: float = 10.0):
        self.out = out
        self.images = images
        self.video_path = video
        self.fps = fps
        self.lines = 0
        self._jsonl: IO[str] | None = None
        self._video = None
        self._video_size: tuple[int, int] | None = None
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            self._jsonl = out.open("w")
        if images is not None:
            images.mkdir(parents=True, exist_ok=True)

    def write(self, r: FrameResult) -> None:
        if self._jsonl is not None:
            self._jsonl.write(json.dumps(result_record(r)) + "\n")
            self._jsonl.flush()
            self.lines += 1
        if r.error or r.prepared is None or (self.images is None and self.video_path is None):
            return
        picture = annotate(r.prepared.image, r.detections)
        if self.images is not None:
            stem = Path(r.source).stem.replace("#", "_").replace("[", "_").replace("]", "")
            Image.fromarray(picture).save(self.images / f"{r.index:06d}_{stem}.png")
        if self.video_path is not None:
            self._append_video(picture)

    def _append_video(self, picture: np.ndarray) -> None:
        import imageio.v2 as imageio

        if self._video is None:
            self.video_path.parent.mkdir(parents=True, exist_ok=True)
            h, w = picture.shape[:2]
            self._video_size = (w - w % 2, h - h % 2)  # yuv420p needs even sides
            self._video = imageio.get_writer(str(self.video_path), format="FFMPEG", fps=self.fps, codec="libx264",
                                             macro_block_size=1, pixelformat="yuv420p")
        if (picture.shape[1], picture.shape[0]) != self._video_size:
            picture = np.asarray(Image.fromarray(picture).resize(self._video_size, Image.Resampling.BILINEAR))
        self._video.append_data(picture)

    def close(self) -> None:
        if self._jsonl is not None:
            self._jsonl.close()
            self._jsonl = None
        if self._video is not None:
            self._video.close()
            self._video = None
