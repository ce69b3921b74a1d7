"""Lowering a checked QONNX chain to FewdIF layers with integer weights and exact thresholds."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
from onnx import NodeProto
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.general.quant import quant
from qonnx.transformation.general import GiveUniqueNodeNames
from qonnx.transformation.infer_shapes import InferShapes
from qonnx.util.cleanup import cleanup_model

from spikeflow.convert.passes import (
    CheckConvGeometry,
    CheckQuantNodes,
    RejectBranches,
    RejectUnsupportedOps,
    attr,
    fail,
)
from spikeflow.convert.thresholds import channel_thresholds
from spikeflow.errors import ConversionError
from spikeflow.ir import PIXEL_BITS, PIXEL_SCALE, FewdIFConv, FewdIFHead, FewdIFMaxPool, FewdIFNetwork, IRMeta, Layer


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


def act_quant(model: ModelWrapper, node: NodeProto) -> tuple[float, int]:
    """Scale and bit width of an unsigned per-tensor activation Quant (the second half of a quantized ReLU)."""
    scale = model.get_initializer(node.input[1])
    bits = int(model.get_initializer(node.input[3]))
    if scale.size != 1:
        raise fail(node, "per-channel activation scales are not supported")
    if attr(node, "signed", 1):
        raise fail(node, "signed activation quantizer: only quantized ReLU (unsigned, after Relu) is supported")
    if attr(node, "narrow", 0):
        raise fail(node, "narrow-range activation quantizer is not supported")
    return float(scale.item()), bits


def prepare(model: ModelWrapper) -> ModelWrapper:
    model = cleanup_model(model)
    for transform in (GiveUniqueNodeNames(), InferShapes(), RejectUnsupportedOps(), RejectBranches(),
                      CheckQuantNodes(), CheckConvGeometry()):
        model = model.transform(transform)
    return model


def _single_consumer(model: ModelWrapper, tensor: str) -> NodeProto | None:
    consumers = model.find_consumers(tensor) or []
    return consumers[0] if consumers else None


QONNX_INPUT = ("spikeflow converts QONNX, as Brevitas export_qonnx writes it: the input goes straight into a Quant "
               "node with bit_width 8, signed=0 and scale 2^-8 (pixels/256), e.g. from a brevitas.nn.QuantIdentity "
               "with an 8-bit unsigned quantizer as the model's first layer, then quantized Conv, ReLU and MaxPool")


def input_quant(model: ModelWrapper, where: str, input_name: str | None = None) -> NodeProto:
    """The Quant node the graph input goes straight into; else a ConversionError naming the file (`where`), the
    model's own input name (`input_name`, from before qonnx's cleanup renamed it) and what a QONNX export holds."""
    in_name = model.graph.input[0].name
    node = _single_consumer(model, in_name)
    if node is not None and node.op_type == "Quant" and model.get_initializer(node.input[0]) is None:
        return node
    if not any(n.op_type == "Quant" for n in model.graph.node):
        found = "the model has no Quant node at all: it is plain ONNX, not QONNX"
    else:
        found = f"it goes into {f'{node.name!r} ({node.op_type})' if node is not None else 'nothing'}, not a Quant node"
    raise ConversionError(f"{where}: input '{input_name or in_name}': {found}; {QONNX_INPUT}")


def lower(model: ModelWrapper, name: str, where: str | None = None, input_name: str | None = None) -> FewdIFNetwork:
    """Walk the chain from the graph input and build FewdIF layers; `where` (the file) and `input_name` (the
    model's input before cleanup) name them in errors."""
    graph = model.graph
    in_name = graph.input[0].name
    out_name = graph.output[0].name
    in_shape = tuple(model.get_tensor_shape(in_name)[1:])
    node = input_quant(model, where or name, input_name)
    s_in, bits = act_quant(model, node)
    if bits != PIXEL_BITS or s_in != PIXEL_SCALE:
        raise fail(node, f"input quantizer must be unsigned 8-bit at scale 2^-8 (pixels/256), got {bits} bits at "
                         f"scale {s_in}")
    tensor = node.output[0]
    scale, in_kind, in_max = s_in, "pixels", 255
    act_bits: int | None = None
    layers: list[Layer] = []
    while tensor != out_name:
        node = _single_consumer(model, tensor)
        if node is None:
            raise ConversionError(f"tensor '{tensor}' feeds nothing and is not the graph output")
        shape = tuple(model.get_tensor_shape(tensor)[1:])
        if node.op_type == "MaxPool":
            if not layers or layers[-1].kind == "head":
                raise fail(node, "max-pool must follow a quantized ReLU")
            k, s = attr(node, "kernel_shape")[0], attr(node, "strides", [1, 1])[0]
            layers.append(FewdIFMaxPool(name=node.name, in_shape=shape, kernel=k, stride=s,
                                        timesteps=(1 << act_bits) - 1))
            tensor = node.output[0]
            continue
        if node.op_type != "Conv":
            raise fail(node, "expected a Conv or MaxPool here; a Relu must directly follow a Conv and be followed "
                             "by a Quant (quantized ReLU)")
        weights, w_scale, w_bits, _ = quant_integers(model, producer(model, node.input[1], node, "weight"))
        out_channels = weights.shape[0]
        w_scale = np.broadcast_to(w_scale.reshape(-1), (out_channels,)) if w_scale.size in (1, out_channels) \
            else None
        if w_scale is None:
            raise fail(node, "weight scale must be per-tensor or per-output-channel")
        acc_scale = scale * w_scale  # exact for power-of-two scales
        if len(node.input) > 2 and node.input[2]:
            bias, b_scale, _, _ = quant_integers(model, producer(model, node.input[2], node, "bias"))
            b_scale = np.broadcast_to(b_scale.reshape(-1), (out_channels,))
            if not np.allclose(b_scale, acc_scale, rtol=1e-6, atol=0):
                raise fail(node, "bias scale is not input scale x weight scale; quantize the bias with an "
                                 "Int32Bias-style quantizer")
        else:
            bias = np.zeros(out_channels, dtype=np.int64)
        k = weights.shape[-1]
        pads = attr(node, "pads", [0, 0, 0, 0])[0]
        stride = attr(node, "strides", [1, 1])[0]
        common = dict(name=node.name, in_shape=shape, out_channels=out_channels, kernel=k, stride=stride,
                      padding=pads, weights=weights, bias=bias.reshape(-1), in_kind=in_kind, in_max=in_max,
                      weight_bits=w_bits)
        if node.output[0] == out_name:
            head = FewdIFHead(out_scale=acc_scale.astype(np.float64), **common)
            head.acc_bits = head.derive_acc_bits()
            layers.append(head)
            break
        relu = _single_consumer(model, node.output[0])
        q = _single_consumer(model, relu.output[0]) if relu is not None and relu.op_type == "Relu" else None
        if relu is None or relu.op_type != "Relu" or q is None or q.op_type != "Quant":
            what = f"'{relu.name}' ({relu.op_type})" if relu is not None else "nothing"
            raise fail(node, f"output goes to {what}; expected Relu then Quant (a quantized ReLU) or the graph "
                             f"output (the head)")
        s_a, a_bits = act_quant(model, q)
        if act_bits is not None and a_bits != act_bits:
            raise fail(q, f"activation bit width {a_bits} differs from earlier layers' {act_bits}; all FewdIF "
                          f"layers share T = 2^a - 1 timesteps")
        act_bits = a_bits
        timesteps = (1 << a_bits) - 1
        conv = FewdIFConv(thresholds=channel_thresholds(acc_scale, s_a, timesteps), timesteps=timesteps, **common)
        conv.acc_bits = conv.derive_acc_bits()
        layers.append(conv)
        tensor, scale, in_kind, in_max = q.output[0], s_a, "spikes", timesteps
    if not layers or layers[-1].kind != "head":
        raise ConversionError(f"graph output '{out_name}' is not produced by a Conv head")
    if act_bits is None:
        raise ConversionError("the network has no quantized ReLU layer")
    po2 = all(_is_po2(v) for layer in layers if layer.kind == "head" for v in layer.out_scale)
    net = FewdIFNetwork(name=name, input_shape=in_shape, act_bits=act_bits, layers=layers,
                        meta=IRMeta(input_scale=s_in, power_of_two_scales=po2))
    net.validate()
    return net


def _is_po2(value: float) -> bool:
    f = Fraction(float(value))
    return f > 0 and (f.numerator & (f.numerator - 1)) == 0 and (f.denominator & (f.denominator - 1)) == 0


def convert_qonnx(path: str | Path | ModelWrapper, name: str | None = None) -> FewdIFNetwork:
    """Read a QONNX model (path or ModelWrapper) and return its FewdIF network."""
    if isinstance(path, ModelWrapper):
        model, name, where = path, name or "network", name or "the QONNX model"
    else:
        path = Path(path)
        if not path.is_file():
            raise ConversionError(f"QONNX model not found: {path}")
        try:
            model = ModelWrapper(str(path))
        except Exception as exc:  # noqa: BLE001 - any parse failure means the file is not a model
            raise ConversionError(f"{path}: not a readable ONNX model ({exc})") from exc
        name, where = name or path.stem, str(path)
    input_name = model.graph.input[0].name if model.graph.input else None
    return lower(prepare(model), name, where, input_name)
