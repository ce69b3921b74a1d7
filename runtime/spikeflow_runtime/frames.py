"""Frames in: any camera or file image made into the accelerator's input frame, or rejected with a clear error.

An image is a numpy array: HxWx3 RGB, HxW grey, HxWx1, HxWx4 (alpha dropped) of any size, or an already
letterboxed CHW frame [C, S, S]. Any size is letterboxed to the model input (spikeflow_runtime.letterbox). Only 8-bit
pixels are taken: a float, 16-bit or bool image is rejected before anything is sent (no guessing of its range).
The frame is HWC, the order the device's input stream carries the pixels in, so packing it needs no transpose.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikeflow_runtime.errors import FrameError
from spikeflow_runtime.letterbox import Letterbox, letterbox

IMAGE_CHANNELS = (1, 3, 4)  # grey, RGB, RGBA: the last axis of an HWC image


@dataclass(frozen=True)
class PreparedFrame:
    """One input frame as the accelerator takes it, and how to map its boxes back to the original image."""

    frame: np.ndarray  # uint8 [S, S, C] HWC, C-contiguous
    letterbox: Letterbox
    image: np.ndarray  # the original image, uint8 HxWx3 (for drawing)


def prepare_image(image: np.ndarray, size: int, channels: int = 3, where: str = "frame",
                  backend: str | None = None) -> PreparedFrame:
    """Letterbox `image` to the model's `size` x `size` input; raise FrameError naming `where` if it cannot be.
    An HWC RGB image already size x size goes through as it is (no copy), with the identity mapping."""
    a = np.asarray(image)
    if a.dtype != np.uint8:
        raise FrameError(f"{where}: pixels must be uint8 (8-bit), got {a.dtype}; convert it first, e.g. "
                         f"(x * 255).round().astype(np.uint8) for floats in 0..1")
    if a.ndim == 3 and a.shape[0] == channels and a.shape[1:] == (size, size) and a.shape[2] not in IMAGE_CHANNELS:
        frame = np.ascontiguousarray(a.transpose(1, 2, 0))  # an already letterboxed CHW frame
        picture = frame if channels == 3 else np.ascontiguousarray(np.repeat(frame[..., :1], 3, axis=2))
        return PreparedFrame(frame, Letterbox.identity(size), picture)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[-1] in IMAGE_CHANNELS)):
        raise FrameError(f"{where}: expected an HxWx3 RGB (or HxW grey, HxWx4 RGBA) image or a [{channels}, {size}, "
                         f"{size}] frame, got shape {list(a.shape)}")
    if min(a.shape[:2]) < 1:
        raise FrameError(f"{where}: empty image of shape {list(a.shape)}")
    if channels != 3:
        raise FrameError(f"{where}: the model takes {channels}-channel frames; only RGB models take images")
    rgb = to_rgb(a)
    frame, box = letterbox(rgb, size, backend=backend)
    return PreparedFrame(np.ascontiguousarray(frame), box, rgb)


def to_rgb(a: np.ndarray) -> np.ndarray:
    """uint8 HxW grey or HxWx3/4 -> HxWx3 RGB: grey repeated, alpha dropped (as PIL's convert("RGB") does); an RGB
    image is returned as it is."""
    if a.ndim == 2:
        return np.repeat(a[:, :, None], 3, axis=2)
    return a if a.shape[2] == 3 else np.ascontiguousarray(a[..., :3])
