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


HIGH_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})  # 16-bit greyscale as PIL opens it
JPEG_EOI = b"\xff\xd9"
TAIL_BYTES = 64  # bytes after a JPEG's end-of-image marker that may be padding


def to_8bit(im: Image.Image) -> Image.Image:
    """High-bit-depth greyscale ("I;16*", "I") -> "L" keeping the top 8 of 16 bits (value >> 8).

    PIL's own convert() clips such values at 255, which turns a 16-bit photo white. 16-bit RGB(A) PNGs
    already open as 8-bit "RGB"/"RGBA" (PIL keeps the high byte), so every 16-bit image ends up as value >> 8.
    A 32-bit "I" image is read as 16-bit: values are clipped to 0..65535 first.
    """
    if im.mode not in HIGH_BIT_MODES:
        return im
    values = np.asarray(im).astype(np.int64).clip(0, 65535)
    return Image.fromarray((values >> 8).astype(np.uint8), "L")


def open_rgb(path: str | Path, exif: bool = True) -> Image.Image:
    """Decode an image file to 8-bit RGB (16-bit images: value >> 8), applying EXIF orientation when asked."""
    with Image.open(path) as im:
        im.load()
        if exif:
            im = ImageOps.exif_transpose(im)
        return to_8bit(im).convert("RGB")


def image_size(path: str | Path, exif: bool = True) -> tuple[int, int]:
    """(width, height), checking the file is complete; raises on a file PIL cannot identify, verify or decode.

    PIL's verify() checks PNG chunks but not JPEG data, so a JPEG whose end-of-image marker is missing
    (a truncated file) is decoded in full here, raising OSError "image file is truncated" if it is;
    formats verify() does not check (BMP, TIFF, WebP, ...) are always decoded in full.
    """
    with Image.open(path) as im:
        w, h, fmt = *im.size, im.format
        im.verify()
    if fmt != "PNG" and not (fmt == "JPEG" and jpeg_has_end(path)):
        with Image.open(path) as im:
            im.load()
    if exif:
        with Image.open(path) as im:
            if im.getexif().get(0x0112, 1) in (5, 6, 7, 8):  # EXIF orientation with a 90 degree turn
                w, h = h, w
    return w, h


def jpeg_has_end(path: str | Path) -> bool:
    """Whether a JPEG ends with its end-of-image marker (allowing a little padding after it)."""
    with open(path, "rb") as f:
        f.seek(0, 2)
        f.seek(max(0, f.tell() - TAIL_BYTES - len(JPEG_EOI)))
        tail = f.read()
    end = tail.rfind(JPEG_EOI)
    return end >= 0 and not tail[end + len(JPEG_EOI):].strip(b"\x00\xff\r\n")
