"""Grid picture of detections (and optional ground truth) with Pillow."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from spikeflow_runtime.draw import class_color

from spikeflow.detect.head import Detections

Color = tuple[int, int, int]


def _to_hwc(img: np.ndarray) -> np.ndarray:
    a = np.asarray(img)
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3:
        raise ValueError(f"draw_detections: image of shape {a.shape}, expected [3,H,W]")
    if a.shape[0] not in (1, 3) and a.shape[-1] in (1, 3):
        a = a.transpose(2, 0, 1)
    if a.shape[0] == 1:
        a = np.repeat(a, 3, axis=0)
    if a.dtype != np.uint8:
        a = np.clip(a, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(a.transpose(1, 2, 0))


def _dashed_rect(draw: ImageDraw.ImageDraw, box: Sequence[float], fill: Color, dash: int = 4) -> None:
    x0, y0, x1, y1 = box
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    for (ax, ay), (bx, by) in zip(corners[:-1], corners[1:]):
        length = math.hypot(bx - ax, by - ay)
        n = max(int(length // dash), 1)
        for k in range(0, n, 2):
            t0, t1 = k / n, min((k + 1) / n, 1.0)
            p0 = (ax + (bx - ax) * t0, ay + (by - ay) * t0)
            p1 = (ax + (bx - ax) * t1, ay + (by - ay) * t1)
            draw.line([p0, p1], fill=fill, width=1)


def draw_detections(
    images: list[np.ndarray],
    detections: list[Detections],
    names: list[str],
    path: str | Path,
    ground_truth: list[tuple[np.ndarray, np.ndarray]] | None = None,
    score_threshold: float = 0.25,
    scale: int = 4,
    cols: int = 4,
) -> Path:
    """Write one PNG grid (min(cols, n) columns, tiles H*scale x W*scale, no padding); returns the path.

    Predictions (score >= threshold) are drawn in class colours with "name 0.87" labels, ground truth as
    thin dashed white boxes.
    """
    if len(images) != len(detections):
        raise ValueError(f"draw_detections: {len(images)} images but {len(detections)} detection sets")
    if ground_truth is not None and len(ground_truth) != len(images):
        raise ValueError(f"draw_detections: {len(images)} images but {len(ground_truth)} ground truths")
    if not images:
        raise ValueError("draw_detections: no images")
    tiles = [_to_hwc(im) for im in images]
    th = max(t.shape[0] for t in tiles) * scale
    tw = max(t.shape[1] for t in tiles) * scale
    ncols = max(1, min(cols, len(tiles)))
    nrows = math.ceil(len(tiles) / ncols)
    canvas = Image.new("RGB", (ncols * tw, nrows * th), (0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default()
    for i, (tile, det) in enumerate(zip(tiles, detections, strict=True)):
        ox, oy = (i % ncols) * tw, (i // ncols) * th
        img = Image.fromarray(tile).resize((tile.shape[1] * scale, tile.shape[0] * scale), Image.NEAREST)
        canvas.paste(img, (ox, oy))
        if ground_truth is not None:
            for box in np.asarray(ground_truth[i][0], dtype=np.float64).reshape(-1, 4):
                _dashed_rect(draw, [float(v) for v in box * scale + (ox, oy, ox, oy)], (255, 255, 255))
        boxes = np.asarray(det.boxes, dtype=np.float64).reshape(-1, 4)
        scores = np.asarray(det.scores).reshape(-1)
        for box, score, lab in zip(boxes, scores, np.asarray(det.labels).reshape(-1), strict=True):
            if score < score_threshold:
                continue
            color = class_color(int(lab))
            x0, y0, x1, y1 = (float(v) for v in box * scale + (ox, oy, ox, oy))
            draw.rectangle([x0, y0, max(x1, x0), max(y1, y0)], outline=color, width=2)
            name = names[int(lab)] if 0 <= int(lab) < len(names) else str(int(lab))
            text = f"{name} {float(score):.2f}"
            tx, ty = max(x0, ox), max(y0 - 11, oy)
            bb = draw.textbbox((tx, ty), text, font=font)
            draw.rectangle([bb[0] - 1, bb[1] - 1, bb[2] + 1, bb[3] + 1], fill=color)
            draw.text((tx, ty), text, fill=(0, 0, 0), font=font)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(out, format="PNG")
    return out
