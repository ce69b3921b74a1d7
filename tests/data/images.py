"""Image files for data tests: 16-bit PNGs written by hand, a real photo and truncated JPEGs of it."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
from matplotlib import cbook
from PIL import Image


def write_png16(path: Path, values: np.ndarray) -> Path:
    """A 16-bit PNG of uint16 values [H, W] (greyscale) or [H, W, 3] (RGB); PIL cannot write the latter."""
    arr = np.asarray(values, np.uint16)
    h, w = arr.shape[:2]
    colour_type = 0 if arr.ndim == 2 else 2
    raw = b"".join(b"\x00" + arr[y].astype(">u2").tobytes() for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", w, h, 16, colour_type, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
                     + chunk(b"IEND", b""))
    return path


def photo() -> Image.Image:
    """A real photograph (Grace Hopper, 512x600 RGB) shipped with matplotlib."""
    with cbook.get_sample_data("grace_hopper.jpg") as f:
        img = Image.open(f)
        img.load()
    return img.convert("RGB")


def photo16(size: tuple[int, int] = (64, 80)) -> np.ndarray:
    """The photo resized to (w, h) as 16-bit RGB values [H, W, 3] (8-bit value * 257 + a low-byte pattern)."""
    rgb8 = np.asarray(photo().resize(size), np.uint16)
    return rgb8 * 256 + (rgb8 * 7 % 256)


def write_truncated_jpeg(path: Path, size: tuple[int, int] = (96, 96), keep: float = 0.5) -> Path:
    """A JPEG of the photo cut after `keep` of its bytes: PIL opens it, load() raises "image file is truncated"."""
    photo().resize(size).save(path, quality=90)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path
