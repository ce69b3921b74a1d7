"""Boxes drawn on pictures: one colour per class (shared with the flow's detection grids) and the annotated image of
a frame's detections. Pillow is imported when a picture is drawn, never at import."""

from __future__ import annotations

import colorsys
from collections.abc import Iterable

import numpy as np

from spikeflow_runtime.errors import missing_package

LABEL_HEIGHT = 11  # pixels above a box that its "name 0.87" label takes


def class_color(c: int) -> tuple[int, int, int]:
    """Distinct, saturated colour for class ``c`` (golden-ratio hue walk)."""
    r, g, b = colorsys.hsv_to_rgb((c * 0.618034) % 1.0, 0.85, 1.0)
    return int(r * 255), int(g * 255), int(b * 255)


def annotate(image: np.ndarray, detections: Iterable) -> np.ndarray:
    """HxWx3 uint8 image with boxes and "name 0.87" labels drawn in class colours. A detection is anything with
    class_id, name, score and box (x0, y0, x1, y1) in the image's pixels."""
    try:
        from PIL import Image, ImageDraw
    except ImportError as exc:
        raise missing_package("Pillow", "drawing detections", "images") from exc
    canvas = Image.fromarray(np.ascontiguousarray(image))
    draw = ImageDraw.Draw(canvas)
    font = _font()
    width = max(1, round(max(canvas.size) / 300))
    for d in detections:
        color = class_color(d.class_id)
        x0, y0, x1, y1 = d.box
        draw.rectangle([x0, y0, max(x1, x0), max(y1, y0)], outline=color, width=width)
        text = f"{d.name} {d.score:.2f}"
        at = (x0, max(y0 - LABEL_HEIGHT, 0))
        bb = draw.textbbox(at, text, font=font)
        draw.rectangle([bb[0] - 1, bb[1] - 1, bb[2] + 1, bb[3] + 1], fill=color)
        draw.text(at, text, fill=(0, 0, 0), font=font)
    return np.asarray(canvas)


_FONTS: list = []  # Pillow's default font, loaded once


def _font():
    if not _FONTS:
        from PIL import ImageFont

        _FONTS.append(ImageFont.load_default())
    return _FONTS[0]
