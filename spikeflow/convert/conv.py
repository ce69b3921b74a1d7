"""A QONNX Conv's integer weights and bias in the unit of its accumulator, and a residual shortcut's shifts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from onnx import NodeProto
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.general.quant import quant

from spikeflow.convert.passes import attr, fail
from spikeflow.convert.scales import scale_ratio_exponent
from spikeflow.convert.tensors import Activation
from spikeflow.ir import signed_bits

MAX_RESIDUAL_SHIFT = 24  # the IR's bound on residual_shift


@dataclass
class ConvIntegers:
    """Integer weights and bias of one conv, and S_k: V = bias + sum(W * n) stands for S_k * V."""

    weights: np.ndarray  # int64 [K, C, k, k]
    bias: np.ndarray  # int64 [K]
    acc_scale: np.ndarray  # float64 [K]
    quant_bits: int  # the weight quantizer's bit width

    @property
    def weight_bits(self) -> int:
        """The quantizer's width, or wider when columns or channels were shifted to a finer unit."""
        return max(self.quant_bits, signed_bits(int(self.weights.min()), int(self.weights.max())))


def quant_integers(model: ModelWrapper, node: NodeProto) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """Integer tensor, scale, bit width and signedness of a Quant node applied to a constant."""
    value = model.get_initializer(node.input[0])
    if value is None:
        raise fail(node, "expected a Quant of a constant (weights or bias)")
    scale = model.get_initializer(node.input[1]).astype(np.float64)
    zero_point = model.get_initializer(node.input[2])
    bit_width = model.get_initializer(node.input[3])
    bits = int(bit_width)
    signed, narrow = bool(attr(node, "signed", 1)), bool(attr(node, "narrow", 0))
    dequant = quant(value, scale, zero_point, bit_width, signed, narrow, attr(node, "rounding_mode", "ROUND"))
    return np.rint(dequant / scale).astype(np.int64), scale, bits, signed


def producer(model: ModelWrapper, tensor: str, node: NodeProto, what: str) -> NodeProto:
    prod = model.find_producer(tensor)
    if prod is None or prod.op_type != "Quant":
        raise fail(node, f"{what} is not quantized (expected a Quant node on the {what})")
    return prod


def conv_integers(model: ModelWrapper, node: NodeProto, x: Activation) -> ConvIntegers:
    """Weights and bias of Conv `node` reading `x`, in units of S_k = x.unit * s_w[k]: the weight columns of
    channels at a coarser (power-of-two related) scale than x.unit are multiplied by the ratio."""
    weights, w_scale, w_bits, _ = quant_integers(model, producer(model, node.input[1], node, "weight"))
    out_channels = weights.shape[0]
    if w_scale.size not in (1, out_channels):
        raise fail(node, "weight scale must be per-tensor or per-output-channel")
    w_scale = np.broadcast_to(w_scale.reshape(-1), (out_channels,))
    column_shift = np.array([scale_ratio_exponent(s, x.unit) for s in x.scales], dtype=np.int64)
    if column_shift.any():
        weights = np.left_shift(weights, column_shift[None, :, None, None])
    acc_scale = x.unit * w_scale  # exact for power-of-two scales
    if len(node.input) > 2 and node.input[2]:
        bias, b_scale, _, _ = quant_integers(model, producer(model, node.input[2], node, "bias"))
        b_scale = np.broadcast_to(b_scale.reshape(-1), (out_channels,))
        bias = bias.reshape(-1)
        if not np.allclose(b_scale, acc_scale, rtol=1e-6, atol=0):
            shift = [scale_ratio_exponent(b, s) for b, s in zip(b_scale, acc_scale)]
            if any(e is None or e < 0 for e in shift):
                raise fail(node, "bias scale is not input scale x weight scale; quantize the bias with an "
                                 "Int32Bias-style quantizer")
            bias = np.left_shift(bias, np.array(shift, dtype=np.int64))
    else:
        bias = np.zeros(out_channels, dtype=np.int64)
    return ConvIntegers(weights=weights, bias=bias, acc_scale=np.array(acc_scale, dtype=np.float64),
                        quant_bits=w_bits)


def residual_shifts(add: NodeProto, conv: ConvIntegers, shortcut: Activation) -> tuple[int, ...]:
    """Per channel r[k] = log2(s_sc / S_k) for the shortcut added by `add`. A shortcut finer than S_k (ratio 2^-m)
    multiplies channel k's weights, bias and S_k (in place in `conv`) to the shortcut's unit, with r[k] = 0.
    ConversionError naming `add` and both scales when a ratio is not a power of two."""
    shifts = []
    for k, (s_sc, s_acc) in enumerate(zip(shortcut.scales, conv.acc_scale)):
        e = scale_ratio_exponent(s_sc, s_acc)
        if e is None:
            raise fail(add, f"shortcut scale {s_sc:.9g} and the conv's accumulator scale {s_acc:.9g} (channel {k}: "
                            f"input x weight scale) differ by {s_sc / s_acc:.6g}, not a power of two; share the "
                            f"quantizers or use power-of-two scales")
        if e > MAX_RESIDUAL_SHIFT:
            raise fail(add, f"shortcut scale {s_sc:.9g} is 2^{e} times the conv's accumulator scale {s_acc:.9g} "
                            f"(channel {k}), more than the largest shift 2^{MAX_RESIDUAL_SHIFT}")
        if e < 0:
            conv.weights[k] <<= -e
            conv.bias[k] <<= -e
            conv.acc_scale[k] = s_sc
            e = 0
        shifts.append(e)
    return tuple(shifts)
