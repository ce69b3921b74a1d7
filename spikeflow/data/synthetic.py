"""Procedural shapes dataset: circles, squares, triangles and crosses on cluttered backgrounds."""

from __future__ import annotations

import math
import zlib

import numpy as np
from PIL import Image, ImageDraw

from spikeflow.data.letterbox import Letterbox
from spikeflow.data.sample import LoadReport, Sample, check_index

NAMES = ["circle", "square", "triangle", "cross"]
SPLIT_IDS = {"train": 0, "val": 1, "test": 2}
MIN_SIDE, MAX_SIDE = 0.08, 0.5  # object bbox side as a fraction of the image side
MAX_COVERED = 0.6  # an object more covered than this by later ones loses its label
MIN_CONTRAST = 90.0  # RGB distance between an object and the mean of what lies beneath it
CLUTTER = 255  # owner-map value of unlabelled clutter
_OPAQUE = [0] + [255] * 255  # owner map -> coverage mask
PALETTE = np.array(
    [
        [230, 25, 25], [25, 170, 40], [30, 60, 220], [240, 220, 30], [20, 200, 210], [210, 40, 200],
        [250, 140, 20], [120, 40, 170], [245, 245, 245], [15, 15, 15], [140, 90, 40], [250, 160, 190],
        [150, 230, 60], [0, 110, 120], [128, 128, 128], [100, 0, 20],
    ],
    np.float32,
)  # fmt: skip
_CROSS = np.array(
    [[-1, -1 / 3], [-1 / 3, -1 / 3], [-1 / 3, -1], [1 / 3, -1], [1 / 3, -1 / 3], [1, -1 / 3],
     [1, 1 / 3], [1 / 3, 1 / 3], [1 / 3, 1], [-1 / 3, 1], [-1 / 3, 1 / 3], [-1, 1 / 3]],
    np.float64,
)  # fmt: skip
_SQUARE = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float64)


def split_id(split: str) -> int:
    """Stable integer for a split name (train 0, val 1, test 2, others by CRC32)."""
    return SPLIT_IDS.get(split, zlib.crc32(split.encode()))


def _rotate(poly: np.ndarray, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return poly @ np.array([[c, s], [-s, c]])


def _unit_polygon(cls: int, rng: np.random.Generator) -> np.ndarray | None:
    """Vertices of a shape around the origin, or None for a circle."""
    if cls == 0:
        return None
    if cls == 1:
        return _rotate(_SQUARE, rng.uniform(-0.35, 0.35))
    if cls == 2:
        a = rng.uniform(0, 2 * math.pi) + np.array([0, 2 * math.pi / 3, 4 * math.pi / 3])
        return np.stack([np.cos(a), np.sin(a)], 1)
    return _rotate(_CROSS, rng.uniform(-0.26, 0.26))


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """Smooth random colour field with varied contrast, float32 [H, W, 3]."""
    g = int(rng.integers(2, 5))
    grid = rng.uniform(0, 255, (g, g, 3))
    mean = grid.mean((0, 1))
    grid = (mean + (grid - mean) * rng.uniform(0.25, 1.0)).astype(np.uint8)
    return np.asarray(Image.fromarray(grid).resize((size, size), Image.Resampling.BICUBIC), np.float32)


def _pick_colour(rng: np.random.Generator, under: np.ndarray, avoid: list[np.ndarray]) -> np.ndarray:
    """A palette colour far from the mean colour beneath the object and from overlapping objects."""
    dist = np.linalg.norm(PALETTE - under, axis=1)
    for c in avoid:
        dist = np.minimum(dist, np.linalg.norm(PALETTE - c, axis=1))
    ok = np.flatnonzero(dist >= MIN_CONTRAST)
    return PALETTE[rng.choice(ok)] if ok.size else PALETTE[int(np.argmax(dist))]


def _draw_clutter(
    rng: np.random.Generator, size: int, k: int, paint: ImageDraw.ImageDraw, owner: ImageDraw.ImageDraw
) -> None:
    """Thin lines and small irregular blobs of random colour, drawn under the objects, never labelled."""
    for _ in range(int(rng.integers(0, 6))):
        xy = [tuple(p) for p in (rng.uniform(0, size, (2, 2)) * k).tolist()]
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        paint.line(xy, fill=colour, width=k)
        owner.line(xy, fill=CLUTTER, width=k)
    for _ in range(int(rng.integers(0, 6))):
        r = rng.uniform(0.01, 0.025) * size
        centre = rng.uniform(r, size - r, 2)
        a = np.sort(rng.uniform(0, 2 * math.pi, 5))
        pts = centre + r * rng.uniform(0.5, 1.0, (5, 1)) * np.stack([np.cos(a), np.sin(a)], 1)
        xy = [tuple(p) for p in (pts * k).tolist()]
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        paint.polygon(xy, fill=colour)
        owner.polygon(xy, fill=CLUTTER)


def render(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw one image: uint8 [3, size, size], boxes float32 [N, 4] xyxy, labels int64 [N]."""
    k = 2  # supersampling factor for anti-aliased edges
    bg = _background(rng, size)
    layer = Image.new("RGB", (size * k, size * k))
    owners = Image.new("L", (size * k, size * k))
    paint, owner = ImageDraw.Draw(layer), ImageDraw.Draw(owners)
    _draw_clutter(rng, size, k, paint, owner)

    n = int(rng.integers(1, 7))
    boxes = np.zeros((n, 4), np.float64)
    labels = rng.integers(0, len(NAMES), n)
    areas = np.zeros(n)
    colours: list[np.ndarray] = []
    for j in range(n):
        side = rng.uniform(MIN_SIDE, MAX_SIDE) * size
        poly = _unit_polygon(int(labels[j]), rng)
        if poly is None:
            wh = np.array([side, side])
            areas[j] = math.pi * side * side / 4
        else:
            ext = poly.max(0) - poly.min(0)
            poly = (poly - poly.min(0)) * (side / ext.max())
            wh = ext * (side / ext.max())
            areas[j] = _area(poly)
        x0, y0 = rng.uniform(0, size - wh[0]), rng.uniform(0, size - wh[1])
        boxes[j] = [x0, y0, x0 + wh[0], y0 + wh[1]]
        ix0, iy0, ix1, iy1 = int(x0), int(y0), math.ceil(x0 + wh[0]), math.ceil(y0 + wh[1])
        hits = [colours[i] for i in range(j) if _overlap(boxes[i], boxes[j])]
        step = max(1, (ix1 - ix0) // 8)
        colour = _pick_colour(rng, bg[iy0:iy1:step, ix0:ix1:step].mean((0, 1)), hits)
        colours.append(colour)
        fill = tuple(int(v) for v in colour)
        if poly is None:
            xy = [x0 * k, y0 * k, (x0 + side) * k - 1, (y0 + side) * k - 1]
            paint.ellipse(xy, fill=fill)
            owner.ellipse(xy, fill=j + 1)
        else:
            xy = [tuple(p) for p in ((poly + [x0, y0]) * k).tolist()]
            paint.polygon(xy, fill=fill)
            owner.polygon(xy, fill=j + 1)

    own = np.asarray(owners)
    visible = np.bincount(own.ravel(), minlength=256)[1 : n + 1]
    keep = visible >= (1 - MAX_COVERED) * areas * k * k
    keep[-1] = True  # the last object is never covered
    alpha = np.asarray(owners.point(_OPAQUE).reduce(k), np.float32)[..., None] / 255
    img = bg * (1 - alpha) + np.asarray(layer.reduce(k), np.float32)
    amp = int(rng.integers(4, 17))  # uniform pixel noise, std amp / sqrt(3)
    img += rng.integers(-amp, amp + 1, img.shape, dtype=np.int8)
    out = np.clip(img, 0, 255).astype(np.uint8).transpose(2, 0, 1)
    boxes = boxes[keep].clip(0, size).astype(np.float32)
    return np.ascontiguousarray(out), boxes, labels[keep].astype(np.int64)


def _area(poly: np.ndarray) -> float:
    """Shoelace area of a simple polygon [K, 2]."""
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * abs(float(x[:-1] @ y[1:] - y[:-1] @ x[1:] + x[-1] * y[0] - y[-1] * x[0]))


def _overlap(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])


class SyntheticDetection:
    """Deterministic procedural detection set; image i of a split is drawn from rng([seed, split, i])."""

    names: list[str]

    def __init__(self, split: str, size: int, count: int, seed: int = 0) -> None:
        self.names = list(NAMES)
        self.split, self.input_size, self.count, self.seed = split, size, count, seed
        self.report = LoadReport(kept=count, source=f"synthetic:{split}")

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i: int) -> Sample:
        i = check_index(i, self.count)
        rng = np.random.default_rng([self.seed, split_id(self.split), i])
        image, boxes, labels = render(rng, self.input_size)
        lb = Letterbox.identity(self.input_size)
        return Sample(image, boxes, labels, lb, f"synthetic:{self.split}:{i}")
