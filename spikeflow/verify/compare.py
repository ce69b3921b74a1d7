"""Stage-by-stage verification of a build: every stage's integers against the stage it is compared to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class StageResult:
    """One row of verify.json: how one stage's outputs compare to a reference stage's."""

    stage: str
    compared_to: str
    frames: int
    mismatches: int  # output values that differ
    mismatched_frames: int
    max_abs_diff: float
    tolerance: float = 0.0
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.mismatches == 0

    def as_dict(self) -> dict:
        doc = {"compared_to": self.compared_to, "frames": self.frames, "mismatches": self.mismatches,
               "mismatched_frames": self.mismatched_frames, "max_abs_diff": self.max_abs_diff}
        if self.tolerance:
            doc["tolerance"] = self.tolerance
        if self.note:
            doc["note"] = self.note
        return {**doc, **self.extra}

    def line(self) -> str:
        verdict = "ok" if self.passed else "MISMATCH"
        return (f"{self.stage:<14} vs {self.compared_to:<12} {self.frames:>4} frames  {self.mismatches:>6} "
                f"mismatches  max |diff| {self.max_abs_diff:.3g}  {verdict}{'  ' + self.note if self.note else ''}")


def compare(stage: str, compared_to: str, got: np.ndarray, ref: np.ndarray, tolerance: float = 0.0,
            note: str = "") -> StageResult:
    """Count values of `got` that differ from `ref` by more than `tolerance` (relative to max |ref|)."""
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if got.shape != ref.shape:
        return StageResult(stage, compared_to, len(ref), int(ref.size), len(ref), float("inf"), tolerance,
                           f"shape {got.shape} != {ref.shape}")
    diff = np.abs(got - ref)
    bad = diff > tolerance * max(float(np.abs(ref).max()), 1e-30)
    per_frame = bad.reshape(len(bad), -1).any(axis=1)
    return StageResult(stage, compared_to, len(ref), int(bad.sum()), int(per_frame.sum()),
                       float(diff.max()) if diff.size else 0.0, tolerance, note)


def join_heads(heads: list[np.ndarray]) -> np.ndarray:
    """Every head's values of a frame in one row [N, sum of the heads' sizes]; a single head keeps its shape."""
    if len(heads) == 1:
        return np.asarray(heads[0])
    return np.concatenate([np.asarray(h).reshape(len(h), -1) for h in heads], axis=1)


def compare_heads(stage: str, compared_to: str, got: list[np.ndarray], ref: list[np.ndarray], names: list[str],
                  tolerance: float = 0.0, note: str = "") -> StageResult:
    """`compare` over every head together (a mismatch anywhere counts, per value and per frame); with several
    heads, each head's own counts go to the row's "heads" entry, keyed by the head's name."""
    if len(got) != len(ref):
        return StageResult(stage, compared_to, len(ref[0]) if ref else 0, sum(int(np.size(r)) for r in ref),
                           len(ref[0]) if ref else 0, float("inf"), tolerance,
                           f"{len(got)} head outputs, {len(ref)} expected")
    result = compare(stage, compared_to, join_heads(got), join_heads(ref), tolerance, note)
    if len(ref) > 1:
        result.extra["heads"] = {name: {k: v for k, v in compare(stage, compared_to, g, r, tolerance).as_dict().items()
                                        if k in ("mismatches", "mismatched_frames", "max_abs_diff", "note")}
                                 for name, g, r in zip(names, got, ref, strict=True)}
    return result


StageRunner = Callable[[np.ndarray], np.ndarray]
