"""compare_heads: one verify.json row over every head, with each head's own counts."""

import numpy as np

from spikeflow.verify.compare import compare_heads, join_heads


def _heads(rng: np.random.Generator) -> list[np.ndarray]:
    return [rng.integers(-8, 8, (4, 6, 2, 2)), rng.integers(-8, 8, (4, 6, 4, 4))]


def test_each_head_counts_its_own_mismatches() -> None:
    rng = np.random.default_rng(0)
    ref = _heads(rng)
    got = [h.copy() for h in ref]
    got[1][2, 3, 1, 1] += 5
    got[1][3, 0, 0, 0] -= 1
    row = compare_heads("rtlsim", "golden", got, ref, ["p5", "p4"])
    assert (row.mismatches, row.mismatched_frames, row.max_abs_diff) == (2, 2, 5.0)
    heads = row.as_dict()["heads"]
    assert heads["p5"] == {"mismatches": 0, "mismatched_frames": 0, "max_abs_diff": 0.0}
    assert heads["p4"] == {"mismatches": 2, "mismatched_frames": 2, "max_abs_diff": 5.0}


def test_one_head_row_is_a_plain_compare() -> None:
    ref = _heads(np.random.default_rng(1))[:1]
    row = compare_heads("hls_csim", "golden", ref, ref, ["p5"])
    assert row.passed and "heads" not in row.as_dict() and join_heads(ref).shape == ref[0].shape


def test_a_missing_head_is_a_mismatch_not_a_crash() -> None:
    ref = _heads(np.random.default_rng(2))
    row = compare_heads("rtl_cocotb", "golden", ref[:1], ref, ["p5", "p4"])
    assert not row.passed and "1 head outputs, 2 expected" in row.note
