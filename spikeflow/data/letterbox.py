"""Letterbox resize (keep aspect, pad to a square) and the box mapping it implies."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps


@dataclass(frozen=True)
class Letterbox:
    """Original pixels map to model-input pixels as `p * scale + pad`."""

    scale: float
    pad_x: float
    pad_y: float
    orig_w: int
    orig_h: int

    @classmethod
    def identity(cls, size: int) -> Letterbox:
        """The mapping of an image already at the model input size."""
        return cls(1.0, 0.0, 0.0, size, size)

    def to_input(self, boxes_xyxy: np.ndarray) -> np.ndarray:
        """Map xyxy boxes [N, 4] from original-image pixels to model-input pixels."""
        b = np.asarray(boxes_xyxy)
        return b * self.scale + np.array([self.pad_x, self.pad_y, self.pad_x, self.pad_y], dtype=b.dtype)

    def to_original(self, boxes_xyxy: np.ndarray) -> np.ndarray:
        """Map xyxy boxes [N, 4] from model-input pixels back to original-image pixels."""
        b = np.asarray(boxes_xyxy)
        return (b - np.array([self.pad_x, self.pad_y, self.pad_x, self.pad_y], dtype=b.dtype)) / self.scale


def letterbox_image(img: Image.Image, size: int, fill: int = 114) -> tuple[np.ndarray, Letterbox]:
    """Resize keeping aspect ratio, pad centred to size x size; returns uint8 [3, size, size] RGB."""
    img = img.convert("RGB")
    w, h = img.size
    scale = min(size / w, size / h)
    nw, nh = max(1, min(size, round(w * scale))), max(1, min(size, round(h * scale)))
    if (nw, nh) != (w, h):
        img = img.resize((nw, nh), Image.Resampling.BILINEAR)
    px, py = (size - nw) // 2, (size - nh) // 2
    canvas = np.full((3, size, size), fill, np.uint8)
    canvas[:, py : py + nh, px : px + nw] = np.asarray(img).transpose(2, 0, 1)
    return canvas, Letterbox(scale, float(px), float(py), w, h)


def open_rgb(path: str | Path, exif: bool = True) -> Image.Image:
    """Decode an image file to RGB, applying its EXIF orientation when asked."""
    with Image.open(path) as im:
        im.load()
        if exif:
            im = ImageOps.exif_transpose(im)
        return im.convert("RGB")


def image_size(path: str | Path, exif: bool = True) -> tuple[int, int]:
    """(width, height) without decoding pixels; raises on a file PIL cannot identify or verify."""
    with Image.open(path) as im:
        w, h = im.size
        im.verify()
    if exif:
        with Image.open(path) as im:
            if im.getexif().get(0x0112, 1) in (5, 6, 7, 8):  # EXIF orientation with a 90 degree turn
                w, h = h, w
    return w, h
