"""Frames in: any camera or file image made into the accelerator's input frame, or rejected with a clear error.

An image is a numpy array: HxWx3 RGB, HxW grey, HxWx1, HxWx4 (alpha dropped) of any size, or an already
letterboxed CHW frame [C, S, S]. Any size is letterboxed to the model input (spikeflow.data.letterbox). Only 8-bit
pixels are taken: a float, 16-bit or bool image is rejected before anything is sent (no guessing of its range).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from spikeflow.data.letterbox import Letterbox, letterbox_image
from spikeflow.errors import FrameError

CHANNEL_MODES = {1: "L", 3: "RGB", 4: "RGBA"}  # channels of an HWC image -> PIL mode


@dataclass(frozen=True)
class PreparedFrame:
    """One input frame as the accelerator takes it, and how to map its boxes back to the original image."""

    frame: np.ndarray  # uint8 [C, S, S]
    letterbox: Letterbox
    image: np.ndarray  # the original image, uint8 HxWx3 (for drawing)


def prepare_image(image: np.ndarray, size: int, channels: int = 3, where: str = "frame") -> PreparedFrame:
    """Letterbox `image` to the model's `size` x `size` input; raise FrameError naming `where` if it cannot be."""
    a = np.asarray(image)
    if a.dtype != np.uint8:
        raise FrameError(f"{where}: pixels must be uint8 (8-bit), got {a.dtype}; convert it first, e.g. "
                         f"(x * 255).round().astype(np.uint8) for floats in 0..1")
    if a.ndim == 3 and a.shape[0] == channels and a.shape[1:] == (size, size) and a.shape[2] not in CHANNEL_MODES:
        hwc = np.ascontiguousarray(a.transpose(1, 2, 0))
        return PreparedFrame(np.ascontiguousarray(a), Letterbox.identity(size), hwc)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim == 2:
        mode = "L"
    elif a.ndim == 3 and a.shape[-1] in CHANNEL_MODES:
        mode = CHANNEL_MODES[a.shape[-1]]
    else:
        raise FrameError(f"{where}: expected an HxWx3 RGB (or HxW grey, HxWx4 RGBA) image or a [{channels}, {size}, "
                         f"{size}] frame, got shape {list(a.shape)}")
    if min(a.shape[:2]) < 1:
        raise FrameError(f"{where}: empty image of shape {list(a.shape)}")
    rgb = Image.fromarray(np.ascontiguousarray(a), mode).convert("RGB")
    if channels != 3:
        raise FrameError(f"{where}: the model takes {channels}-channel frames; only RGB models take images")
    frame, box = letterbox_image(rgb, size)
    return PreparedFrame(frame, box, np.asarray(rgb))
