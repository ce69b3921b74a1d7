"""Exact power-of-two ratios of float scales, and which ONNX Resize modes repeat each value on a 2x2 block."""

from __future__ import annotations

from fractions import Fraction

import pytest

from spikeflow.convert.joins import nearest_source
from spikeflow.convert.scales import is_po2, po2_exponent, scale_ratio_exponent


@pytest.mark.parametrize(("ratio", "exponent"), [(Fraction(1), 0), (Fraction(8), 3), (Fraction(1, 32), -5),
                                                 (Fraction(3, 2), None), (Fraction(3), None), (Fraction(0), None)])
def test_po2_exponent(ratio, exponent) -> None:
    assert po2_exponent(ratio) == exponent


def test_scale_ratios_are_exact_on_the_float_values() -> None:
    assert scale_ratio_exponent(2.0**-3, 2.0**-8) == 5
    assert scale_ratio_exponent(0.1, 0.05) == 1  # 0.1 is exactly twice 0.05 as floats
    assert scale_ratio_exponent(0.3, 0.1) is None
    assert is_po2(2.0**-20) and not is_po2(0.75)


@pytest.mark.parametrize(("transform", "rounding", "repeats"), [
    ("asymmetric", "floor", True),  # what torch's exporter writes for nn.Upsample(scale_factor=2)
    ("half_pixel", "round_prefer_floor", True),
    ("pytorch_half_pixel", "round_prefer_floor", True),
    ("half_pixel", "round_prefer_ceil", True),  # no ties at x2: y / 2 - 1/4
    ("asymmetric", "ceil", False),
    ("asymmetric", "round_prefer_ceil", False),
    ("align_corners", "floor", False),
    ("tf_crop_and_resize", "floor", False),
])
def test_nearest_modes_that_repeat_on_two_by_two_blocks(transform, rounding, repeats) -> None:
    source = nearest_source(16, 8, 2, transform, rounding)
    assert (source == [y // 2 for y in range(16)]) is repeats
