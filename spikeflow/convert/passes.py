"""Graph passes in qonnx's style: `apply(model) -> (model, changed)`. These check what FewdIF can map."""

from __future__ import annotations

import numpy as np
from onnx import NodeProto
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation

from spikeflow.errors import ConversionError

SUPPORTED_OPS = {"Quant", "Conv", "Relu", "MaxPool", "Add", "Concat", "Resize", "Upsample"}
SUPPORTED_KERNELS = (1, 3, 5, 7)


def fail(node: NodeProto, reason: str) -> ConversionError:
    return ConversionError(f"node '{node.name}' ({node.op_type}): {reason}")


def attr(node: NodeProto, name: str, default=None):
    from onnx import helper

    for a in node.attribute:
        if a.name == name:
            value = helper.get_attribute_value(a)
            return value.decode() if isinstance(value, bytes) else value
    return default


class RejectUnsupportedOps(Transformation):
    """Raise ConversionError for any op outside conv, quantized ReLU, max-pool, Quant, residual Add, Concat and
    nearest upsampling (what each may connect to is checked when lowering)."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for node in model.graph.node:
            if node.op_type not in SUPPORTED_OPS:
                reason = {"Sigmoid": "activation other than quantized ReLU",
                          "Tanh": "activation other than quantized ReLU",
                          "BatchNormalization": "batch norm must be folded into the conv before export"}
                raise fail(node, reason.get(node.op_type, f"op type {node.op_type} is not supported; supported: "
                                                          f"{', '.join(sorted(SUPPORTED_OPS))}"))
        return model, False


class CheckQuantNodes(Transformation):
    """Quant nodes must have zero zero-points, round-half-even rounding and constant parameters."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for node in model.graph.node:
            if node.op_type != "Quant":
                continue
            rounding = attr(node, "rounding_mode", "ROUND")
            if rounding != "ROUND":
                raise fail(node, f"rounding mode {rounding} is not supported (only ROUND, half to even)")
            for i, what in ((1, "scale"), (2, "zero-point"), (3, "bit width")):
                if model.get_initializer(node.input[i]) is None:
                    raise fail(node, f"{what} is not a constant")
            zero_point = model.get_initializer(node.input[2])
            if np.any(zero_point != 0):
                raise fail(node, f"non-zero zero-point {zero_point.flatten()[:4]} (only symmetric/unsigned "
                                 f"quantization maps to integer FewdIF layers)")
            if np.any(model.get_initializer(node.input[1]) <= 0):
                raise fail(node, "scale must be positive")
        return model, False


class CheckConvGeometry(Transformation):
    """Convs: square odd kernels (or 1x1), equal strides, symmetric padding, no groups or dilation."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for node in model.graph.node:
            if node.op_type == "Conv":
                kernel = attr(node, "kernel_shape")
                if kernel is None:
                    w = model.get_tensor_shape(node.input[1])
                    kernel = w[2:] if w else None
                if kernel is None or kernel[0] != kernel[1] or kernel[0] not in SUPPORTED_KERNELS:
                    raise fail(node, f"kernel {kernel} is not supported (square, one of {SUPPORTED_KERNELS})")
                if attr(node, "group", 1) != 1:
                    raise fail(node, f"grouped/depthwise convolution (group={attr(node, 'group')}) is not supported")
                if any(d != 1 for d in attr(node, "dilations", [1, 1])):
                    raise fail(node, f"dilation {attr(node, 'dilations')} is not supported")
                strides = attr(node, "strides", [1, 1])
                pads = attr(node, "pads", [0, 0, 0, 0])
                if strides[0] != strides[1] or strides[0] not in (1, 2):
                    raise fail(node, f"strides {strides} are not supported (1 or 2, equal in both axes)")
                if len(set(pads)) != 1 or pads[0] not in (0, kernel[0] // 2):
                    raise fail(node, f"padding {pads} with kernel {kernel[0]} is not supported (symmetric, 0 or "
                                     f"kernel//2)")
                if attr(node, "auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
                    raise fail(node, f"auto_pad {attr(node, 'auto_pad')} is not supported")
            if node.op_type == "MaxPool":
                kernel = attr(node, "kernel_shape")
                strides = attr(node, "strides", [1, 1])
                if any(p != 0 for p in attr(node, "pads", [0, 0, 0, 0])) or attr(node, "ceil_mode", 0):
                    raise fail(node, "max-pool padding or ceil_mode is not supported")
                if kernel[0] != kernel[1] or strides[0] != strides[1]:
                    raise fail(node, f"non-square max-pool {kernel} / {strides} is not supported")
        return model, False
