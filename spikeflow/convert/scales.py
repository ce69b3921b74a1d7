"""Exact power-of-two tests on float scales (as rationals): what decides whether a join of two scales is exact."""

from __future__ import annotations

from fractions import Fraction


def po2_exponent(ratio: Fraction) -> int | None:
    """e with ratio == 2^e exactly, or None when the ratio is not a power of two."""
    if ratio <= 0:
        return None
    num, den = ratio.numerator, ratio.denominator
    if num & (num - 1) or den & (den - 1):
        return None
    return num.bit_length() - den.bit_length()


def scale_ratio_exponent(scale: float, unit: float) -> int | None:
    """e with scale == unit * 2^e exactly (both float scales taken as exact rationals), else None."""
    return po2_exponent(Fraction(float(scale)) / Fraction(float(unit)))


def is_po2(value: float) -> bool:
    return po2_exponent(Fraction(float(value))) is not None
