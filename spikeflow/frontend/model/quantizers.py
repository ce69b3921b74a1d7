"""Brevitas quantizers: 8-bit pixels at scale 2^-8, per-channel weights, a-bit ReLUs, biases at in x w scale."""

from __future__ import annotations

from brevitas.inject.enum import ScalingImplType
from brevitas.quant.fixed_point import Int8WeightPerChannelFixedPoint, Uint8ActPerTensorFixedPoint
from brevitas.quant.scaled_int import Int8WeightPerTensorFloat, Int32Bias, Uint8ActPerTensorFloat

from spikeflow.frontend.config import Scaling


class PixelQuant(Uint8ActPerTensorFixedPoint):
    """Input pixels: unsigned 8 bits at a constant scale of 2^-8, so pixel/256 is represented exactly."""

    scaling_impl_type = ScalingImplType.CONST
    scaling_init = 1.0


class WeightPo2(Int8WeightPerChannelFixedPoint):
    """Per-output-channel weights with power-of-two scales from the max of |w| (bit width set per layer)."""


class WeightFloat(Int8WeightPerTensorFloat):
    """Per-output-channel weights with arbitrary float scales."""

    scaling_per_output_channel = True


class ActPo2(Uint8ActPerTensorFixedPoint):
    """a-bit quantized ReLU with a learned power-of-two scale, initialised from `max_val`."""

    scaling_impl_type = ScalingImplType.PARAMETER


class ActFloat(Uint8ActPerTensorFloat):
    """a-bit quantized ReLU with a learned float scale, initialised from `max_val`."""

    scaling_impl_type = ScalingImplType.PARAMETER


BiasQuant = Int32Bias


def weight_quant(scaling: Scaling) -> type:
    return WeightPo2 if scaling == "po2" else WeightFloat


def act_quant(scaling: Scaling) -> type:
    return ActPo2 if scaling == "po2" else ActFloat
