"""Verification: stage-by-stage comparison of integers, near-tie accounting, spike statistics."""

from spikeflow.verify.compare import StageResult, compare

__all__ = ["StageResult", "compare"]
