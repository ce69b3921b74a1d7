"""The detection head's decode and NMS in numpy: what the driver runs on every frame and what the flow's mAP uses.

YOLOv5 decode of a single-scale head ``[N, A*(5+nc), G, G]`` (channel ``a*(5+nc)+j``: j 0..3 box, 4 objectness,
5.. classes), rows ordered (gy, gx, a); score = objectness x class probability (multi-label); candidates with a
score above the threshold; the best ``MAX_NMS`` of them; per-class greedy NMS; the best ``max_det``. The float32
arithmetic follows the flow's former torch code operation by operation, so both give the same detections (up to
an ulp of the sigmoid). Only the rows whose objectness can reach the threshold are decoded: a score is at most
its objectness, and the bound is found once per threshold (on the integer head values in `decode_values`).

Several heads (a detector with heads at several strides, each with its own anchors): `decode_heads` (integer
values) and `decode_heads_float` decode each head as above and pass the candidates of all heads through ONE NMS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping, Sequence

import numpy as np

from spikeflow_runtime.errors import ConfigError

#: Candidates kept (by score) per image before NMS, bounding the NMS IoU matrix.
MAX_NMS = 3000

#: The layouts `decode_values` reads: [N, K, G, G], or the device's stream order (positions row-major, channel
#: fastest: [N, G*G*K] or [N, G, G, K]).
LAYOUTS = ("channels_first", "stream")

_KEYS = ("num_classes", "anchors", "input_size", "grid", "out_scale", "names")
_ONE = np.float32(1.0)
_TWO = np.float32(2.0)
_HALF = np.float32(0.5)
_INT64_LIMIT = 2 ** 62  # integer bounds are clipped to +-this: no head value comes near it
_PAIR_CHUNK = 1 << 20  # box pairs whose IoU NMS computes at a time


def _integer(where: str, key: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{where}: key '{key}' must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _numbers(where: str, key: str, value: Any) -> tuple[float, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise ConfigError(f"{where}: key '{key}' must be a list of numbers, got {value!r}")
    out = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (int, float, np.integer, np.floating)) \
                or not math.isfinite(item) or item <= 0:
            raise ConfigError(f"{where}: key '{key}' must hold positive finite numbers, got {item!r}")
        out.append(float(item))
    return tuple(out)


def _validated(where: str, num_classes: Any, anchors: Any, input_size: Any, grid: Any, out_scale: Any,
               names: Any) -> tuple[int, tuple[tuple[float, float], ...], int, int, tuple[float, ...], tuple[str, ...]]:
    """The fields normalised (ints, float tuples, str names), or ConfigError naming `where` and the bad key."""
    nc = _integer(where, "num_classes", num_classes, 1)
    if isinstance(anchors, (str, bytes)) or not isinstance(anchors, (Sequence, np.ndarray)) or len(anchors) < 1:
        raise ConfigError(f"{where}: key 'anchors' must be a non-empty list of (w, h) pairs, got {anchors!r}")
    pairs = tuple(_numbers(where, "anchors", a) for a in anchors)
    if any(len(p) != 2 for p in pairs):
        raise ConfigError(f"{where}: key 'anchors' must be (w, h) pairs, got {anchors!r}")
    size = _integer(where, "input_size", input_size, 1)
    g = _integer(where, "grid", grid, 1)
    scale = _numbers(where, "out_scale", out_scale)
    channels = len(pairs) * (5 + nc)
    if len(scale) != channels:
        raise ConfigError(f"{where}: key 'out_scale' has {len(scale)} entries; the head has {channels} channels "
                          f"({len(pairs)} anchors x (5 + {nc} classes))")
    if isinstance(names, (str, bytes)) or not isinstance(names, (Sequence, np.ndarray)) \
            or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"{where}: key 'names' must be a list of class names, got {names!r}")
    if len(names) != nc:
        raise ConfigError(f"{where}: key 'names' has {len(names)} class names; num_classes is {nc}")
    return nc, pairs, size, g, scale, tuple(names)  # type: ignore[return-value]


class HeadGeometry:
    """The derived sizes of a head ``[N, A*(5+nc), G, G]`` (HeadParams and the flow's HeadSpec share them)."""

    num_classes: int
    anchors: tuple[tuple[float, float], ...]  # (w, h) in model-input pixels
    input_size: int
    grid: int  # G (square)

    @property
    def num_anchors(self) -> int:
        return len(self.anchors)

    @property
    def channels(self) -> int:
        return self.num_anchors * (5 + self.num_classes)

    @property
    def stride(self) -> float:
        return self.input_size / self.grid


@dataclass(frozen=True)
class HeadParams(HeadGeometry):
    """What the host needs to turn head values into detections: the head's geometry, its per-channel output scale
    (float head output = integer head value V x out_scale) and the class names."""

    num_classes: int
    anchors: tuple[tuple[float, float], ...]  # (w, h) in model-input pixels
    input_size: int
    grid: int  # G (square)
    out_scale: tuple[float, ...]  # K = A*(5+nc) positive scales
    names: tuple[str, ...]

    def __post_init__(self) -> None:
        values = _validated("HeadParams", *(getattr(self, k) for k in _KEYS))
        for key, value in zip(_KEYS, values):
            object.__setattr__(self, key, value)

    def to_dict(self) -> dict:
        """JSON-able: lists of numbers and names (`from_dict` reads it back exactly)."""
        return {"num_classes": self.num_classes, "anchors": [list(a) for a in self.anchors],
                "input_size": self.input_size, "grid": self.grid, "out_scale": list(self.out_scale),
                "names": list(self.names)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "head") -> HeadParams:
        """Read `to_dict`'s form; a missing, unknown or bad key is a ConfigError naming `where` and the key."""
        if not isinstance(d, Mapping):
            raise ConfigError(f"{where}: expected a mapping with keys {', '.join(_KEYS)}, got {type(d).__name__}")
        for key in _KEYS:
            if key not in d:
                raise ConfigError(f"{where}: missing key '{key}'")
        unknown = sorted(str(k) for k in d if k not in _KEYS)
        if unknown:
            raise ConfigError(f"{where}: unknown key '{unknown[0]}' (known: {', '.join(_KEYS)})")
        return cls(*_validated(where, *(d[k] for k in _KEYS)))


@dataclass
class Detections:
    """Detections of one image (model-input pixel coordinates)."""

    boxes: np.ndarray  # float32 [M,4] xyxy
    scores: np.ndarray  # float32 [M]
    labels: np.ndarray  # int64 [M]

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64))

    def __len__(self) -> int:
        return int(self.scores.shape[0])


class _Geometry:
    """Per-head constants of the decode, float32 as the arithmetic uses them."""

    def __init__(self, num_classes: int, anchors: tuple[tuple[float, float], ...], input_size: int,
                 grid: int) -> None:
        self.num_anchors = len(anchors)
        self.outputs = 5 + num_classes  # channels per anchor
        self.channels = self.num_anchors * self.outputs
        self.grid = grid
        self.stride = np.float32(input_size / grid)
        self.anchors = np.array(anchors, dtype=np.float32).reshape(-1, 2)
        gy, gx = np.divmod(np.arange(grid * grid), grid)
        self.cells = np.stack((gx, gy), axis=1).astype(np.float32)  # (gx, gy) of cell gy*G+gx


@lru_cache(maxsize=32)
def _geometry(num_classes: int, anchors: tuple[tuple[float, float], ...], input_size: int, grid: int) -> _Geometry:
    return _Geometry(num_classes, anchors, input_size, grid)


def _geometry_of(head: Any) -> _Geometry:
    """HeadParams, or anything with num_classes, anchors, input_size and grid (the flow's HeadSpec)."""
    anchors = head.anchors if isinstance(head, HeadParams) else tuple((float(w), float(h)) for w, h in head.anchors)
    return _geometry(int(head.num_classes), anchors, int(head.input_size), int(head.grid))


def _sigmoid32(x: np.ndarray) -> np.ndarray:
    """float32 sigmoid as torch computes it, 1 / (1 + exp(-x)) in float32, with exp rounded from float64."""
    with np.errstate(over="ignore"):
        e = np.exp(-x.astype(np.float64)).astype(np.float32)
    return _ONE / (_ONE + e)


@lru_cache(maxsize=64)
def _logit_bound(conf: float) -> float | None:
    """The largest float32 logit whose `_sigmoid32` is <= conf (a float32): rows whose objectness logit is at or
    below it score at most conf, so they are no candidates. None: no bound (conf <= 0); inf: no row passes."""
    if conf != conf:  # NaN: no score is > NaN
        return math.inf
    if conf <= 0:
        return None
    lo, hi = np.full(1, -200.0, np.float32), np.full(1, 200.0, np.float32)  # sigmoid32: 0.0 and 1.0
    if _sigmoid32(hi)[0] <= conf:
        return math.inf
    while True:  # bisection over float32 values; sigmoid32 is monotone
        mid = ((lo.astype(np.float64) + hi.astype(np.float64)) / 2).astype(np.float32)
        if mid[0] == lo[0] or mid[0] == hi[0]:
            return float(lo[0])
        if _sigmoid32(mid)[0] <= conf:
            lo = mid
        else:
            hi = mid


class _Scales:
    """Per-head constants of `decode_values`: the output scale per (anchor, output), float64 [A, 5+nc]."""

    def __init__(self, params: HeadParams) -> None:
        self.scale = np.array(params.out_scale, dtype=np.float64).reshape(params.num_anchors, 5 + params.num_classes)
        self._bounds: dict = {}

    def obj_bounds(self, conf: float) -> np.ndarray | None:
        """int64 [A]: an objectness value V at or below its anchor's bound is no candidate (None: no bound)."""
        if conf not in self._bounds:
            if len(self._bounds) > 64:
                self._bounds.clear()
            logit = _logit_bound(conf)
            if logit is None:
                self._bounds[conf] = None
            else:
                bounds = []
                for s in self.scale[:, 4]:
                    # the largest V with float32(V * s) <= logit, then one less as a margin
                    b = max(-_INT64_LIMIT, min(_INT64_LIMIT, math.floor(logit / s)))
                    while b > -_INT64_LIMIT and np.float32(b * s) > logit:
                        b -= 1
                    bounds.append(max(-_INT64_LIMIT, b - 1))
                self._bounds[conf] = np.array(bounds, dtype=np.int64)
        return self._bounds[conf]


@lru_cache(maxsize=32)
def _scales(params: HeadParams) -> _Scales:
    return _Scales(params)


def _thresholds(conf_threshold: float, iou_threshold: float, max_det: int) -> tuple[float, float, int]:
    """The thresholds as float32 values (torch compares float32 tensors with them in float32)."""
    if isinstance(max_det, bool) or not isinstance(max_det, (int, np.integer)) or max_det < 0:
        raise ValueError(f"max_det must be an integer >= 0, got {max_det!r}")
    return float(np.float32(conf_threshold)), float(np.float32(iou_threshold)), int(max_det)


def _pair_iou(boxes: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """IoU of the box pairs (first[k], second[k]) of float32 xyxy boxes, as the flow's torch box_iou computes each
    entry: the intersection of the clamped overlap, the union from the clamped areas, divided in float32."""
    zero = np.float32(0.0)
    x0, y0, x1, y1 = np.ascontiguousarray(boxes.T)  # one coordinate per row: the gathers below stay contiguous
    area = np.maximum(x1 - x0, zero) * np.maximum(y1 - y0, zero)
    w = np.minimum(x1.take(first), x1.take(second))
    w -= np.maximum(x0.take(first), x0.take(second))
    np.maximum(w, zero, out=w)
    h = np.minimum(y1.take(first), y1.take(second))
    h -= np.maximum(y0.take(first), y0.take(second))
    np.maximum(h, zero, out=h)
    inter = np.multiply(w, h, out=w)
    union = area.take(first)
    union += area.take(second)
    union -= inter
    np.maximum(union, np.float32(1e-9), out=union)
    return np.divide(inter, union, out=inter)


def box_iou(a: Any, b: Any) -> np.ndarray:
    """Pairwise IoU of xyxy boxes, float32: [N,4] x [M,4] -> [N,M]."""
    a = np.asarray(a, dtype=np.float32).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float32).reshape(-1, 4)
    n, m = a.shape[0], b.shape[0]
    first = np.repeat(np.arange(n), m)
    second = np.tile(np.arange(n, n + m), n)
    return _pair_iou(np.concatenate((a, b)), first, second).reshape(n, m)


def _segment_starts(keys: np.ndarray, *more: np.ndarray) -> np.ndarray:
    """bool [M]: where a run of equal keys (over all the key arrays) starts."""
    new = np.empty(keys.shape[0], dtype=bool)
    new[:1] = True
    np.not_equal(keys[1:], keys[:-1], out=new[1:])
    for k in more:
        new[1:] |= k[1:] != k[:-1]
    return new


def _over_pairs(boxes: np.ndarray, group_start: np.ndarray, iou_threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """The pairs (i, j), i < j in one group, with IoU > iou_threshold, ordered by i then j; built in chunks of about
    _PAIR_CHUNK pairs to bound memory."""
    m = boxes.shape[0]
    starts = group_start.nonzero()[0]
    ends = np.concatenate((starts[1:], [m]))
    later = ends.repeat(ends - starts) - 1 - np.arange(m)  # partners of each box: the later ones of its group
    total = np.cumsum(later, dtype=np.int64)
    if total[-1] == 0:
        return later[:0], later[:0]
    cuts = [0, m]
    if total[-1] > _PAIR_CHUNK:
        cuts[1:1] = (np.searchsorted(total, np.arange(_PAIR_CHUNK, total[-1], _PAIR_CHUNK), side="right") + 1).tolist()
    firsts, seconds = [], []
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        count = later[lo:hi]
        first = np.arange(lo, hi).repeat(count)
        second = first + 1 + np.arange(first.shape[0]) - (count.cumsum() - count).repeat(count)
        over = _pair_iou(boxes, first, second) > iou_threshold
        firsts.append(first[over])
        seconds.append(second[over])
    if len(firsts) == 1:
        return firsts[0], seconds[0]
    return np.concatenate(firsts), np.concatenate(seconds)


def _greedy(m: int, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """bool [M]: greedy NMS over boxes in score order, given the pairs (i < j) where i suppresses j if kept."""
    keep = np.ones(m, dtype=bool)
    if first.shape[0]:
        runs = [0, *((first[1:] != first[:-1]).nonzero()[0] + 1).tolist(), first.shape[0]]
        for a, b in zip(runs[:-1], runs[1:]):
            if keep[first[a]]:  # final: every pair (h, i) has h < i and came before
                keep[second[a:b]] = False
    return keep


def _nms_frames(boxes: np.ndarray, scores: np.ndarray, labels: np.ndarray, frame: np.ndarray, iou_threshold: float,
                max_det: int, per_class: bool) -> np.ndarray:
    """Greedy NMS of each frame's boxes (float32 [M,4], `frame` ascending); per_class: boxes of other labels never
    suppress each other. Indices of the kept boxes, frame by frame, each frame's highest score first (ties: lower
    index first), at most max_det per frame. The Cluster-NMS iteration of the flow's torch code gives the same."""
    m = scores.shape[0]
    if m == 0 or max_det == 0 or not iou_threshold >= 0:  # a negative IoU threshold suppresses every box there
        return np.zeros(0, dtype=np.int64)
    lab = labels.astype(np.float32)
    if per_class:  # the torch code's coordinate offset per label: (label - min label) x (coordinate range + 1)
        if frame[0] == frame[-1]:
            shift = (lab - lab.min()) * np.float32(float(boxes.max() - boxes.min()) + 1.0)
        else:
            starts = _segment_starts(frame).nonzero()[0]
            counts = np.diff(np.concatenate((starts, [m])))
            span = np.maximum.reduceat(boxes.max(axis=1), starts) - np.minimum.reduceat(boxes.min(axis=1), starts)
            span = (span.astype(np.float64) + 1.0).astype(np.float32)
            shift = (lab - np.minimum.reduceat(lab, starts).repeat(counts)) * span.repeat(counts)
        boxes = boxes + shift[:, None]
    order = np.lexsort((-scores, lab, frame))  # by frame, label, score (stable: ties in index order)
    keep = _greedy(m, *_over_pairs(boxes[order], _segment_starts(frame[order], lab[order]), iou_threshold))
    kept = np.sort(order[keep])
    kept = kept[np.lexsort((-scores[kept], frame[kept]))]
    if max_det < kept.shape[0]:
        kept_frame = frame[kept]
        kept = kept[np.arange(kept.shape[0]) - np.searchsorted(kept_frame, kept_frame) < max_det]
    return kept.astype(np.int64)


def _nms_inputs(where: str, boxes: Any, scores: Any, labels: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    b = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    s = np.asarray(scores, dtype=np.float32).reshape(-1)
    lab = np.zeros(s.shape[0], np.int64) if labels is None else np.asarray(labels).reshape(-1)
    if not b.shape[0] == s.shape[0] == lab.shape[0]:
        raise ValueError(f"{where}: {b.shape[0]} boxes but {s.shape[0]} scores" if labels is None else
                         f"{where}: {b.shape[0]} boxes, {s.shape[0]} scores and {lab.shape[0]} labels")
    return b, s, lab


def nms(boxes: Any, scores: Any, iou_threshold: float) -> np.ndarray:
    """Greedy NMS; int64 indices of the kept boxes, highest score first (ties: lower index first).

    A box is suppressed when its IoU (float32) with a kept higher-scoring box is > ``iou_threshold``.
    """
    b, s, lab = _nms_inputs("nms", boxes, scores)
    return _nms_frames(b, s, lab, np.zeros_like(lab), float(np.float32(iou_threshold)), s.shape[0], False)


def batched_nms(boxes: Any, scores: Any, labels: Any, iou_threshold: float) -> np.ndarray:
    """Per-class NMS: boxes of different labels never suppress each other."""
    b, s, lab = _nms_inputs("batched_nms", boxes, scores, labels)
    return _nms_frames(b, s, lab, np.zeros(s.shape[0], np.int64), float(np.float32(iou_threshold)), s.shape[0],
                       True)


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices (ascending) of the k highest scores; ties at the cut go to the lower indices."""
    kth = np.partition(scores, scores.shape[0] - k)[scores.shape[0] - k]
    above = np.flatnonzero(scores > kth)
    tied = np.flatnonzero(scores == kth)[:k - above.shape[0]]
    return np.sort(np.concatenate((above, tied)))


def _best_per_frame(scores: np.ndarray, frame: np.ndarray, frames: int) -> np.ndarray | None:
    """Indices of each frame's MAX_NMS best candidates (`frame` ascending), None when no frame has more."""
    counts = np.bincount(frame, minlength=frames)
    if counts.max() <= MAX_NMS:
        return None
    starts = np.concatenate(([0], np.cumsum(counts)))
    parts = [np.arange(starts[f], starts[f + 1]) if counts[f] <= MAX_NMS
             else starts[f] + _top(scores[starts[f]:starts[f + 1]], MAX_NMS) for f in range(frames)]
    return np.concatenate(parts)


def _candidates(logits: np.ndarray, frame: np.ndarray, conf: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The float32 sigmoid of some rows' logits [S, 5+nc], and their candidates (score > conf, in row then class
    order): (sigmoids, row, label, score, frame)."""
    s = _sigmoid32(logits)
    score = s[:, 4:5] * s[:, 5:]
    row, label = np.nonzero(score > conf)
    return s, row, label, score[row, label], frame[row]


def _boxes(s: np.ndarray, row: np.ndarray, cell: np.ndarray, anchor: np.ndarray, geo: _Geometry) -> np.ndarray:
    """float32 xyxy boxes of the given rows (their sigmoids s, grid cells and anchors)."""
    s4 = s[row, :4]
    xy = (s4[:, :2] * _TWO - _HALF + geo.cells[cell[row]]) * geo.stride
    wh = np.square(s4[:, 2:] * _TWO) * geo.anchors[anchor[row]]
    half = wh / _TWO
    return np.concatenate((xy - half, xy + half), axis=1)


def _nms_split(boxes: np.ndarray, score: np.ndarray, label: np.ndarray, frame: np.ndarray, frames: int, iou: float,
               max_det: int) -> list[Detections]:
    """Per-class NMS of each frame's candidates (`frame` ascending) and the detections per frame."""
    keep = _nms_frames(boxes, score, label, frame, iou, max_det, True)
    boxes, score, label, frame = boxes[keep], score[keep], label[keep].astype(np.int64), frame[keep]
    if frames == 1:
        return [Detections(boxes, score, label)]
    bounds = np.searchsorted(frame, np.arange(frames + 1)).tolist()
    return [Detections(boxes[a:b], score[a:b], label[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


def _decode_rows(logits: np.ndarray, frame: np.ndarray, cell: np.ndarray, anchor: np.ndarray, frames: int,
                 geo: _Geometry, conf: float, iou: float, max_det: int) -> list[Detections]:
    """The exact float32 decode of some rows (logits [S, 5+nc] of grid cells gy*G+gx and anchors, ordered by frame,
    cell, anchor), their candidates (score > conf, in row then class order), the best MAX_NMS per frame, and each
    frame's NMS."""
    s, row, label, cand_score, cand_frame = _candidates(logits, frame, conf)
    if row.shape[0] == 0:
        return [Detections.empty() for _ in range(frames)]
    if row.shape[0] > MAX_NMS:
        best = _best_per_frame(cand_score, cand_frame, frames)
        if best is not None:
            row, label, cand_score, cand_frame = row[best], label[best], cand_score[best], cand_frame[best]
    return _nms_split(_boxes(s, row, cell, anchor, geo), cand_score, label, cand_frame, frames, iou, max_det)


#: One head's rows to decode: (logits [S, 5+nc], frame, cell, anchor, geometry), rows ordered by frame.
_HeadRows = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, _Geometry]


def _decode_head_rows(heads: list[_HeadRows], frames: int, conf: float, iou: float,
                      max_det: int) -> list[Detections]:
    """`_decode_rows` over several heads: the candidates of all heads (per frame: head by head, each in row then
    class order), the best MAX_NMS of them per frame, and ONE per-class NMS per frame over all heads' boxes. With
    one head it is `_decode_rows`."""
    found = [_candidates(logits, frame, conf) for logits, frame, *_ in heads]
    head = np.concatenate([np.full(c[1].shape[0], h, np.int64) for h, c in enumerate(found)])
    row, label, score, frame = (np.concatenate([c[i] for c in found]) for i in range(1, 5))
    if row.shape[0] == 0:
        return [Detections.empty() for _ in range(frames)]
    order = np.argsort(frame, kind="stable")  # by frame, then head, row and class as found
    if row.shape[0] > MAX_NMS:
        best = _best_per_frame(score[order], frame[order], frames)
        if best is not None:
            order = order[best]
    row, label, score, frame, head = row[order], label[order], score[order], frame[order], head[order]
    boxes = np.empty((row.shape[0], 4), np.float32)
    for h, ((_, _, cell, anchor, geo), (s, *_)) in enumerate(zip(heads, found)):
        mine = head == h
        if mine.any():
            boxes[mine] = _boxes(s, row[mine], cell, anchor, geo)
    return _nms_split(boxes, score, label, frame, frames, iou, max_det)


def _float_rows(head_out: Any, geo: _Geometry, conf: float) -> tuple[_HeadRows, int]:
    """The rows of a float head output [N, K, G, G] (or [K, G, G]) whose objectness can pass conf, and N."""
    x = np.asarray(head_out, dtype=np.float32)
    if x.ndim == 3:
        x = x[None]
    g = geo.grid
    if x.ndim != 4 or x.shape[1:] != (geo.channels, g, g):
        raise ValueError(f"head output shape {x.shape} does not match the head [N, {geo.channels}, {g}, {g}]")
    n = x.shape[0]
    x4 = x.reshape(n, geo.num_anchors, geo.outputs, g * g)
    bound = _logit_bound(conf)
    obj = x4[:, :, 4].transpose(0, 2, 1)  # [N, G*G, A]
    if bound == math.inf:
        mask = np.zeros(obj.shape, dtype=bool)
    else:
        mask = np.ones(obj.shape, dtype=bool) if bound is None else obj > np.float32(bound)
    frame, cell, anchor = np.nonzero(mask)
    return (x4[frame, anchor, :, cell], frame, cell, anchor, geo), n


def decode_float(head_out: Any, params_or_spec: Any, conf_threshold: float = 0.001, iou_threshold: float = 0.5,
                 max_det: int = 100) -> list[Detections]:
    """Float head output [N, K, G, G] (or [K, G, G]) -> detections per frame in model-input pixels.

    Score = objectness x class probability (multi-label), kept > conf_threshold, the best MAX_NMS, per-class NMS at
    iou_threshold, the best max_det, highest score first. `params_or_spec` is a HeadParams or anything with
    num_classes, anchors, input_size and grid.
    """
    geo = _geometry_of(params_or_spec)
    conf, iou, max_det = _thresholds(conf_threshold, iou_threshold, max_det)
    rows, n = _float_rows(head_out, geo, conf)
    if _logit_bound(conf) == math.inf:
        return [Detections.empty() for _ in range(n)]
    return _decode_rows(*rows[:4], n, geo, conf, iou, max_det)


def _values_view(values: Any, geo: _Geometry, layout: str | None) -> tuple[np.ndarray, bool]:
    """Head values as a 4-d view: ([N, A, 5+nc, G*G], True) or, for the stream order, ([N, G*G, A, 5+nc], False)."""
    v = np.asarray(values)
    if v.dtype.kind not in "iuf":
        raise ValueError(f"head values must be integers (or floats holding them), got dtype {v.dtype}")
    k, g = geo.channels, geo.grid
    if v.ndim in (1, 3):
        v = v[None]
    shape = v.shape[1:]
    first = shape == (k, g, g)
    stream = shape in ((g * g * k,), (g, g, k))
    if layout is None:
        if first and stream:
            raise ValueError(f"head values {v.shape}: [N, K, G, G] or [N, G, G, K] (K = G = {g}); pass layout=")
    elif layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r} (known: {', '.join(LAYOUTS)})")
    else:
        first, stream = first and layout == "channels_first", stream and layout == "stream"
    if not (first or stream):
        raise ValueError(f"head values of shape {v.shape} match neither [N, {k}, {g}, {g}] nor the stream order "
                         f"[N, {g * g * k}] / [N, {g}, {g}, {k}]")
    n = v.shape[0]
    if first:
        return v.reshape(n, geo.num_anchors, geo.outputs, g * g), True
    return v.reshape(n, g * g, geo.num_anchors, geo.outputs), False


def _value_rows(values: Any, params: HeadParams, conf: float, layout: str | None) -> tuple[_HeadRows, int]:
    """The rows of integer head values whose objectness can pass conf, as float32 logits (V x out_scale), and N."""
    geo = _geometry_of(params)
    v4, channels_first = _values_view(values, geo, layout)
    n = v4.shape[0]
    if _logit_bound(conf) == math.inf:
        empty = np.zeros(0, np.int64)
        return (np.zeros((0, geo.outputs), np.float32), empty, empty, empty, geo), n
    scales = _scales(params)
    bounds = scales.obj_bounds(conf)
    obj = v4[:, :, 4].transpose(0, 2, 1) if channels_first else v4[..., 4]  # [N, G*G, A]
    mask = np.ones(obj.shape, dtype=bool) if bounds is None else obj > bounds
    frame, cell, anchor = np.nonzero(mask)
    rows = v4[frame, anchor, :, cell] if channels_first else v4[frame, cell, anchor]
    logits = (rows.astype(np.float64) * scales.scale[anchor]).astype(np.float32)
    return (logits, frame, cell, anchor, geo), n


def decode_values(values: Any, params: HeadParams, conf_threshold: float, iou_threshold: float, max_det: int,
                  layout: str | None = None) -> list[Detections]:
    """Integer head values V -> detections per frame, exactly `decode_float` of float32(V x out_scale).

    `values`: [N, K, G, G], or the device's stream order [N, G*G*K] / [N, G, G, K] (read in place), or one frame
    of either. `layout` ("channels_first" or "stream") is needed only when K = G makes the shape ambiguous.
    """
    conf, iou, max_det = _thresholds(conf_threshold, iou_threshold, max_det)
    rows, n = _value_rows(values, params, conf, layout)
    if _logit_bound(conf) == math.inf:
        return [Detections.empty() for _ in range(n)]
    return _decode_rows(*rows[:4], n, rows[4], conf, iou, max_det)


def _same_frames(counts: list[int]) -> int:
    if len(set(counts)) != 1:
        raise ValueError(f"the heads hold different numbers of frames: {counts}")
    return counts[0]


def _check_heads(what: str, outputs: Sequence[Any], heads: Sequence[Any]) -> None:
    if isinstance(outputs, np.ndarray) or len(outputs) < 1 or len(outputs) != len(heads):
        raise ValueError(f"{what}: one array per head is needed: got {type(outputs).__name__} "
                         f"{'' if isinstance(outputs, np.ndarray) else len(outputs)} for {len(heads)} head(s)")
    sizes = {int(h.input_size) for h in heads}
    if len(sizes) != 1:
        raise ValueError(f"{what}: the heads are of different input sizes {sorted(sizes)}")


def decode_heads(values_per_head: Sequence[Any], params_per_head: Sequence[HeadParams], conf_threshold: float,
                 iou_threshold: float, max_det: int, layout: str | None = None) -> list[Detections]:
    """Integer values of several heads (one array per head, each as `decode_values` reads it: [N, K, G, G], the
    stream order [N, G*G*K] / [N, G, G, K], or one frame) -> detections per frame, from ONE per-class NMS over the
    candidates of all heads (so one object seen by two heads is kept once), the best max_det.

    Each head is decoded exactly as `decode_values` decodes it (its own grid, anchors and output scales); with
    one head the result is `decode_values`'s. The best MAX_NMS candidates per frame over all heads go to the NMS.
    """
    _check_heads("decode_heads", values_per_head, params_per_head)
    conf, iou, max_det = _thresholds(conf_threshold, iou_threshold, max_det)
    found = [_value_rows(v, p, conf, layout) for v, p in zip(values_per_head, params_per_head)]
    n = _same_frames([f[1] for f in found])
    if _logit_bound(conf) == math.inf:
        return [Detections.empty() for _ in range(n)]
    return _decode_head_rows([f[0] for f in found], n, conf, iou, max_det)


def decode_heads_float(outputs_per_head: Sequence[Any], heads: Sequence[Any], conf_threshold: float = 0.001,
                       iou_threshold: float = 0.5, max_det: int = 100) -> list[Detections]:
    """Float outputs of several heads ([N, K, G, G] each) -> detections per frame: `decode_heads` on float head
    outputs, as `decode_float` is `decode_values` on them. `heads`: HeadParams, or anything with num_classes,
    anchors, input_size and grid (the flow's HeadSpec)."""
    _check_heads("decode_heads_float", outputs_per_head, heads)
    conf, iou, max_det = _thresholds(conf_threshold, iou_threshold, max_det)
    found = [_float_rows(x, _geometry_of(h), conf) for x, h in zip(outputs_per_head, heads)]
    n = _same_frames([f[1] for f in found])
    if _logit_bound(conf) == math.inf:
        return [Detections.empty() for _ in range(n)]
    return _decode_head_rows([f[0] for f in found], n, conf, iou, max_det)


def anchors_per_head(anchors: Sequence[Sequence[float]], head_channels: Sequence[int],
                     num_classes: int) -> list[tuple[tuple[float, float], ...]]:
    """Split a network's anchors, listed head after head (the IR's meta.anchors), by the heads' channel counts
    (K = A x (5 + nc) each). ConfigError when they do not add up."""
    pairs = [(float(w), float(h)) for w, h in anchors]
    counts = [k // (5 + num_classes) for k in head_channels]
    if any(k % (5 + num_classes) for k in head_channels) or sum(counts) != len(pairs):
        raise ConfigError(f"{len(pairs)} anchors do not split over heads of {list(head_channels)} channels with "
                          f"{num_classes} classes (K = anchors x (5 + classes) per head)")
    starts = np.cumsum([0, *counts]).tolist()
    return [tuple(pairs[a:b]) for a, b in zip(starts[:-1], starts[1:])]
