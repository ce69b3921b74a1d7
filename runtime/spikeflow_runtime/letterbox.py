"""The letterbox of the whole project: keep the aspect ratio, resize, pad centred to a square, and the box mapping
it implies. The flow's dataset readers (spikeflow.data) and the host driver both use it, so a model sees on the
device the pixels it was trained on.

Three resample back ends, looked up by name (`letterbox_backend`, `use_letterbox_backend`):

    pillow   bilinear with Pillow's integer pre-reduction (reducing_gap=1.0): the default, and the flow's pixels
    opencv   cv2.INTER_AREA when shrinking, cv2.INTER_LINEAR when enlarging (when Pillow is not installed)
    numpy    Pillow's bilinear filter without the pre-reduction, in integer arithmetic (slower; no package needed)

Pillow and OpenCV are imported when first used, never at import. Image files (`open_rgb`) need Pillow.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from spikeflow_runtime.errors import ConfigError, FrameError, missing_package

if TYPE_CHECKING:
    from PIL import Image

LETTERBOX_BACKENDS = ("pillow", "opencv", "numpy")  # the automatic choice takes the first one installed
FILL = 114  # the grey of the padding, as YOLO pads
REDUCING_GAP = 1.0  # Pillow: reduce by an integer factor first, then bilinear (0.7 ms instead of 1.3 ms, 640x480)
PRECISION_BITS = 22  # the fixed-point fraction of Pillow's 8-bit resample (32 - 8 - 2)
HIGH_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})  # 16-bit greyscale as PIL opens it


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


def letterbox_geometry(width: int, height: int, size: int) -> tuple[Letterbox, int, int]:
    """The mapping of a width x height image into size x size, and the resized content's (width, height)."""
    scale = min(size / width, size / height)
    nw, nh = max(1, min(size, round(width * scale))), max(1, min(size, round(height * scale)))
    return Letterbox(scale, float((size - nw) // 2), float((size - nh) // 2), width, height), nw, nh


def letterbox(image: np.ndarray, size: int, fill: int = FILL,
              backend: str | None = None) -> tuple[np.ndarray, Letterbox]:
    """uint8 HxWx3 image -> (uint8 frame [size, size, 3] HWC, its Letterbox): resized keeping its aspect ratio and
    padded centred with `fill`. An image already size x size is returned as it is (no copy), with the identity."""
    a = np.asarray(image)
    if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 3 or min(a.shape[:2]) < 1:
        raise FrameError(f"letterbox: expected a uint8 HxWx3 image, got {a.dtype} of shape {list(a.shape)}")
    h, w = a.shape[:2]
    if (w, h) == (size, size):
        return a, Letterbox.identity(size)
    box, nw, nh = letterbox_geometry(w, h, size)
    content = a if (nw, nh) == (w, h) else _RESIZERS[letterbox_backend(backend)](a, nw, nh)
    px, py = int(box.pad_x), int(box.pad_y)
    frame = np.empty((size, size, 3), np.uint8)
    frame[:py] = fill
    frame[py + nh:] = fill
    frame[py:py + nh, :px] = fill
    frame[py:py + nh, px + nw:] = fill
    frame[py:py + nh, px:px + nw] = content
    return frame, box


# -- the resample back ends -----------------------------------------------------------------------------------------
_forced: str | None = None  # set by use_letterbox_backend


def use_letterbox_backend(backend: str | None) -> None:
    """Make every later letterbox() use `backend` (pillow, opencv, numpy); None goes back to the automatic choice."""
    global _forced
    if backend is not None:
        letterbox_backend(backend)  # unknown or not installed: raise now
    _forced = backend


def letterbox_backend(backend: str | None = None) -> str:
    """The resample back end letterbox() uses: `backend` when given, else the one set by use_letterbox_backend(),
    else the first installed of pillow, opencv, numpy. Raises ToolMissingError for one not installed."""
    name = backend or _forced
    if name is None:
        return next(b for b in LETTERBOX_BACKENDS if backend_installed(b))
    if name not in LETTERBOX_BACKENDS:
        raise ConfigError(f"letterbox back end {name!r}: choose one of {', '.join(LETTERBOX_BACKENDS)}")
    if not backend_installed(name):
        package, extra = _PACKAGES[name]
        raise missing_package(package, f"the {name} letterbox", extra)
    return name


def backend_installed(name: str) -> bool:
    """Whether the package a letterbox back end needs can be imported (numpy always can)."""
    try:
        _MODULES[name]()
    except ImportError:
        return False
    return True


def _import_pillow():
    from PIL import Image

    return Image


def _import_opencv():
    import cv2

    return cv2


def _resize_pillow(a: np.ndarray, width: int, height: int) -> np.ndarray:
    Image = _import_pillow()
    bilinear = getattr(Image, "Resampling", Image).BILINEAR  # Pillow < 9.1 has no Resampling
    return np.asarray(Image.fromarray(a).resize((width, height), bilinear, reducing_gap=REDUCING_GAP))


def _resize_opencv(a: np.ndarray, width: int, height: int) -> np.ndarray:
    cv2 = _import_opencv()
    shrink = width < a.shape[1] or height < a.shape[0]
    return cv2.resize(np.ascontiguousarray(a), (width, height),
                      interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def _resize_numpy(a: np.ndarray, width: int, height: int) -> np.ndarray:
    """Pillow's 8-bit bilinear resample (no pre-reduction) in numpy: horizontal pass, then vertical, each rounded to
    8 bits as Pillow does. Equal to Image.resize(..., BILINEAR) pixel for pixel where Pillow takes the passes in
    that order too (Pillow 13 sometimes takes the vertical pass first: within 1 then)."""
    out = a
    if width != a.shape[1]:
        out = _resample_axis(out, width, axis=1)
    if height != a.shape[0]:
        out = _resample_axis(out, height, axis=0)
    return out


def _resample_axis(a: np.ndarray, out_size: int, axis: int) -> np.ndarray:
    index, weights = _bilinear_taps(a.shape[axis], out_size)
    shape = [1] * a.ndim
    shape[axis] = out_size
    out_shape = list(a.shape)
    out_shape[axis] = out_size
    acc = np.full(out_shape, 1 << (PRECISION_BITS - 1), np.int32)  # + 0.5 to round
    for k in range(index.shape[1]):
        acc += np.take(a, index[:, k], axis=axis) * weights[:, k].reshape(shape)  # uint8 * int32 -> int32
    return np.clip(acc >> PRECISION_BITS, 0, 255).astype(np.uint8)


def _bilinear_taps(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pillow's precompute_coeffs for the bilinear (triangle) filter, widened by the scale when shrinking:
    source indices [out, K] and fixed-point weights int32 [out, K] (zero past each output's window)."""
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = 1.0 * filterscale
    taps = int(math.ceil(support)) * 2 + 1
    center = (np.arange(out_size) + 0.5) * scale
    first = np.maximum((center - support + 0.5).astype(np.int64), 0)  # C's (int) cast truncates, as astype does
    count = np.minimum((center + support + 0.5).astype(np.int64), in_size) - first
    k = np.arange(taps)
    source = first[:, None] + k
    w = np.maximum(1.0 - np.abs((source - center[:, None] + 0.5) * (1.0 / filterscale)), 0.0)
    w[k[None, :] >= count[:, None]] = 0.0
    total = np.cumsum(w, axis=1)[:, -1:]  # summed in order, as the C loop sums
    w = np.where(total != 0.0, w / np.where(total != 0.0, total, 1.0), 0.0)
    fixed = np.floor(0.5 + w * (1 << PRECISION_BITS)).astype(np.int32)
    return np.minimum(source, in_size - 1), fixed


_MODULES: dict[str, Callable[[], object]] = {"pillow": _import_pillow, "opencv": _import_opencv,
                                             "numpy": lambda: np}
_PACKAGES = {"pillow": ("Pillow", "images"), "opencv": ("opencv-python-headless", "camera")}
_RESIZERS: dict[str, Callable[[np.ndarray, int, int], np.ndarray]] = {
    "pillow": _resize_pillow, "opencv": _resize_opencv, "numpy": _resize_numpy}


# -- image files (Pillow) -------------------------------------------------------------------------------------------
def _pillow(purpose: str):
    """PIL.Image, ImageOps; ToolMissingError naming `purpose` when Pillow is not installed."""
    try:
        from PIL import Image, ImageOps
    except ImportError as exc:
        raise missing_package("Pillow", purpose, "images") from exc
    return Image, ImageOps


def to_8bit(im: Image.Image) -> Image.Image:
    """High-bit-depth greyscale ("I;16*", "I") -> "L" keeping the top 8 of 16 bits (value >> 8).

    PIL's own convert() clips such values at 255, which turns a 16-bit photo white. 16-bit RGB(A) PNGs
    already open as 8-bit "RGB"/"RGBA" (PIL keeps the high byte), so every 16-bit image ends up as value >> 8.
    A 32-bit "I" image is read as 16-bit: values are clipped to 0..65535 first.
    """
    if im.mode not in HIGH_BIT_MODES:
        return im
    Image, _ = _pillow("converting a 16-bit image")
    values = np.asarray(im).astype(np.int64).clip(0, 65535)
    return Image.fromarray((values >> 8).astype(np.uint8))  # 2-D uint8: mode "L"


def open_rgb(path: str | Path, exif: bool = True) -> Image.Image:
    """Decode an image file to 8-bit RGB (16-bit images: value >> 8), applying EXIF orientation when asked."""
    Image, ImageOps = _pillow(f"{path}: reading an image file")
    with Image.open(path) as im:
        im.load()
        if exif:
            im = ImageOps.exif_transpose(im)
        return to_8bit(im).convert("RGB")
