"""Lowering a checked QONNX graph (a chain or a DAG: residual adds, concats, nearest x2 upsampling, forks, several
heads) to FewdIF layers with integer weights and exact thresholds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from onnx import NodeProto
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.general import GiveUniqueNodeNames
from qonnx.transformation.infer_shapes import InferShapes
from qonnx.util.cleanup import cleanup_model

from spikeflow.convert.conv import conv_integers, residual_shifts
from spikeflow.convert.joins import UPSAMPLE_OPS, lower_concat, lower_maxpool, lower_upsample
from spikeflow.convert.passes import CheckConvGeometry, CheckQuantNodes, RejectUnsupportedOps, attr, fail
from spikeflow.convert.scales import is_po2
from spikeflow.convert.tensors import Activation
from spikeflow.convert.thresholds import channel_thresholds
from spikeflow.errors import ConversionError
from spikeflow.ir import (
    NETWORK_INPUT,
    PIXEL_BITS,
    PIXEL_SCALE,
    FewdIFConv,
    FewdIFHead,
    FewdIFNetwork,
    IRMeta,
    Layer,
    conv_out,
)


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
    for transform in (GiveUniqueNodeNames(), InferShapes(), RejectUnsupportedOps(),
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


class _Lowering:
    """The walk over a checked QONNX graph in node order (ONNX keeps nodes topologically sorted), building one
    FewdIF layer per Conv pattern, MaxPool, Resize and Concat, and tracking each tensor's spike-count scales."""

    def __init__(self, model: ModelWrapper, input_node: NodeProto, in_shape: tuple[int, int, int]) -> None:
        self.model = model
        self.outputs = [o.name for o in model.graph.output]
        self.acts: dict[str, Activation] = {input_node.output[0]: Activation(
            layer=NETWORK_INPUT, shape=in_shape, scales=(PIXEL_SCALE,) * in_shape[0], kind="pixels", in_max=255)}
        self.handled = {input_node.name}  # nodes lowered as part of a pattern (Relu, Add and Quant after a Conv)
        self.layers: list[Layer] = []
        self.heads: dict[str, FewdIFHead] = {}  # by graph output
        self.act_bits: int | None = None

    def run(self) -> None:
        for node in self.model.graph.node:
            if node.name in self.handled or self._is_constant_quant(node):
                continue
            if node.op_type == "Conv":
                self._conv(node)
            elif node.op_type == "MaxPool":
                layer, out = lower_maxpool(node, self._input(node, node.input[0]), self._timesteps(node))
                self._add(node, layer, out)
            elif node.op_type in UPSAMPLE_OPS:
                layer, out = lower_upsample(self.model, node, self._input(node, node.input[0]),
                                            self._timesteps(node))
                self._add(node, layer, out)
            elif node.op_type == "Concat":
                layer, out = lower_concat(node, [self._input(node, t) for t in node.input], self._timesteps(node))
                self._add(node, layer, out)
            elif node.op_type == "Add":
                raise fail(node, "a residual add must take a Conv's output and spike counts of the conv's shape "
                                 "(a quantized ReLU's output, the shortcut) and be followed by Relu then Quant")
            elif node.op_type == "Relu":
                raise fail(node, "a Relu must directly follow a Conv (or a residual Add after one) and be followed "
                                 "by a Quant (quantized ReLU)")
            else:
                raise fail(node, "expected a Conv or MaxPool here; a Relu must directly follow a Conv and be "
                                 "followed by a Quant (quantized ReLU)")

    def _is_constant_quant(self, node: NodeProto) -> bool:
        return node.op_type == "Quant" and self.model.get_initializer(node.input[0]) is not None

    def _input(self, node: NodeProto, tensor: str) -> Activation:
        if tensor not in self.acts:
            prod = self.model.find_producer(tensor)
            what = f"'{prod.name}' ({prod.op_type})" if prod is not None else "no node"
            raise fail(node, f"input '{tensor}' comes from {what}, not from a quantized ReLU, max-pool, upsample or "
                             f"concat (or the input quantizer)")
        return self.acts[tensor]

    def _timesteps(self, node: NodeProto) -> int:
        if self.act_bits is None:
            raise fail(node, "must follow a quantized ReLU")
        return (1 << self.act_bits) - 1

    def _consumers(self, tensor: str) -> list[NodeProto]:
        return self.model.find_consumers(tensor) or []

    def _add(self, node: NodeProto, layer: Layer, out: Activation) -> None:
        if not self._consumers(node.output[0]):
            what = "is a graph output; only a Conv head may be one" if node.output[0] in self.outputs else \
                "feeds nothing and is not a graph output"
            raise fail(node, f"output {what} (every branch must end in a Conv head)")
        self.layers.append(layer)
        self.acts[node.output[0]] = out

    def _next(self, node: NodeProto) -> NodeProto | None:
        """The one node reading `node`'s output (None for none); ConversionError for several."""
        consumers = self._consumers(node.output[0])
        if len(consumers) > 1:
            names = ", ".join(f"'{c.name}'" for c in consumers)
            raise fail(node, f"output feeds {len(consumers)} nodes ({names}); a fork must come after the "
                             f"quantized ReLU (Relu then Quant), whose spike counts several layers may read")
        return consumers[0] if consumers else None

    def _conv(self, node: NodeProto) -> None:
        x = self._input(node, node.input[0])
        ints = conv_integers(self.model, node, x)
        k = ints.weights.shape[-1]
        common = dict(name=node.name, in_shape=x.shape, out_channels=ints.weights.shape[0], kernel=k,
                      stride=attr(node, "strides", [1, 1])[0], padding=attr(node, "pads", [0, 0, 0, 0])[0],
                      in_kind=x.kind, in_max=x.in_max, inputs=(x.layer,))
        if node.output[0] in self.outputs:
            if self._consumers(node.output[0]):
                raise fail(node, "a head (a graph output) must not feed other nodes")
            head = FewdIFHead(weights=ints.weights, bias=ints.bias, out_scale=ints.acc_scale.astype(np.float64),
                              weight_bits=ints.weight_bits, **common)
            head.acc_bits = head.derive_acc_bits()
            self.heads[node.output[0]] = head
            return
        relu, shortcut = self._next(node), None
        if relu is not None and relu.op_type == "Add":
            add = relu
            other = [t for t in add.input if t != node.output[0]]
            if len(other) != 1 or other[0] not in self.acts or self.acts[other[0]].kind != "spikes":
                raise fail(add, "a residual add must take a Conv's output and spike counts (a quantized ReLU's "
                                "output, the shortcut)")
            shortcut = self.acts[other[0]]
            self.handled.add(add.name)
            relu = self._next(add)
        q = self._next(relu) if relu is not None and relu.op_type == "Relu" else None
        if relu is None or relu.op_type != "Relu" or q is None or q.op_type != "Quant":
            what = f"'{relu.name}' ({relu.op_type})" if relu is not None else "nothing"
            raise fail(node, f"output goes to {what}; expected Relu then Quant (a quantized ReLU) or the graph "
                             f"output (the head)")
        s_a, a_bits = act_quant(self.model, q)
        if self.act_bits is not None and a_bits != self.act_bits:
            raise fail(q, f"activation bit width {a_bits} differs from earlier layers' {self.act_bits}; all "
                          f"FewdIF layers share T = 2^a - 1 timesteps")
        self.act_bits = a_bits
        timesteps = (1 << a_bits) - 1
        shifts: tuple[int, ...] = ()
        if shortcut is not None:
            _, h, w = x.shape
            stride, pad = int(common["stride"]), int(common["padding"])
            conv_shape = (ints.weights.shape[0], conv_out(h, k, stride, pad), conv_out(w, k, stride, pad))
            if shortcut.shape != conv_shape:
                raise fail(add, f"shortcut shape {shortcut.shape} differs from the conv's output {conv_shape}")
            shifts = residual_shifts(add, ints, shortcut)
            common["inputs"] = (x.layer, shortcut.layer)
        conv = FewdIFConv(weights=ints.weights, bias=ints.bias, weight_bits=ints.weight_bits,
                          thresholds=channel_thresholds(ints.acc_scale, s_a, timesteps), timesteps=timesteps,
                          residual_shift=shifts, **common)
        conv.acc_bits = conv.derive_acc_bits()
        self.handled.update({relu.name, q.name})
        self._add(q, conv, Activation(layer=conv.name, shape=conv.out_shape, scales=(s_a,) * conv.out_channels,
                                      kind="spikes", in_max=timesteps))

    def network(self, name: str, in_shape: tuple[int, int, int]) -> FewdIFNetwork:
        """The layers in node order and the heads last, in graph-output order; a chain keeps `inputs` empty, as
        the IR of a chain always had."""
        missing = [o for o in self.outputs if o not in self.heads]
        if missing:
            raise ConversionError(f"graph output '{missing[0]}' is not produced by a Conv head")
        if self.act_bits is None:
            raise ConversionError("the network has no quantized ReLU layer")
        layers = self.layers + [self.heads[o] for o in self.outputs]
        po2 = all(is_po2(v) for head in self.heads.values() for v in head.out_scale)
        net = FewdIFNetwork(name=name, input_shape=in_shape, act_bits=self.act_bits, layers=layers,
                            meta=IRMeta(input_scale=PIXEL_SCALE, power_of_two_scales=po2))
        if net.is_chain:
            for layer in net.layers:
                layer.inputs = ()
        net.validate()
        return net


def lower(model: ModelWrapper, name: str, where: str | None = None, input_name: str | None = None) -> FewdIFNetwork:
    """Walk the graph from its input and build FewdIF layers; `where` (the file) and `input_name` (the model's
    input before cleanup) name them in errors."""
    in_shape = tuple(model.get_tensor_shape(model.graph.input[0].name)[1:])
    node = input_quant(model, where or name, input_name)
    s_in, bits = act_quant(model, node)
    if bits != PIXEL_BITS or s_in != PIXEL_SCALE:
        raise fail(node, f"input quantizer must be unsigned 8-bit at scale 2^-8 (pixels/256), got {bits} bits at "
                         f"scale {s_in}")
    walk = _Lowering(model, node, in_shape)
    walk.run()
    return walk.network(name, in_shape)


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
