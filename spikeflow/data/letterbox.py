"""The dataset readers' letterbox: the runtime's (spikeflow_runtime.letterbox, the one letterbox of the project) as
CHW arrays, and the checks that an image file is whole before it is read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from spikeflow_runtime.letterbox import FILL, HIGH_BIT_MODES, Letterbox, letterbox, open_rgb, to_8bit

__all__ = ["HIGH_BIT_MODES", "Letterbox", "image_size", "jpeg_has_end", "letterbox_image", "open_rgb", "to_8bit"]


def letterbox_image(img: Image.Image, size: int, fill: int = FILL) -> tuple[np.ndarray, Letterbox]:
    """Resize keeping aspect ratio, pad centred to size x size; returns uint8 [3, size, size] RGB: the runtime
    letterbox's pixels (its Pillow back end, as on the device's host), transposed to CHW."""
    frame, box = letterbox(np.asarray(img.convert("RGB")), size, fill, backend="pillow")
    return np.ascontiguousarray(frame.transpose(2, 0, 1)), box


JPEG_EOI = b"\xff\xd9"
TAIL_BYTES = 64  # bytes after a JPEG's end-of-image marker that may be padding


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
