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


StageRunner = Callable[[np.ndarray], np.ndarray]
