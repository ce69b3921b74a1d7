"""The table of graphs FewdIF cannot map: each must fail with a message naming the node, op and reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper
from qonnx.core.modelwrapper import ModelWrapper

from spikeflow.cli import main
from spikeflow.convert import convert_qonnx
from spikeflow.errors import ConversionError
from spikeflow.frontend.export import export_detector
from tests.factories import randomized_detector, small_config


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> onnx.ModelProto:
    path = tmp_path_factory.mktemp("bad") / "m.onnx"
    export_detector(randomized_detector(small_config(channels=(4, 8))), path)
    return onnx.load(path)


def nodes(model: onnx.ModelProto, op: str) -> list[onnx.NodeProto]:
    return [n for n in model.graph.node if n.op_type == op]


def set_attr(node: onnx.NodeProto, name: str, value) -> None:
    for a in list(node.attribute):
        if a.name == name:
            node.attribute.remove(a)
    node.attribute.append(helper.make_attribute(name, value))


def act_quants(model: onnx.ModelProto) -> list[onnx.NodeProto]:
    produced_by_relu = {n.output[0] for n in nodes(model, "Relu")}
    return [n for n in nodes(model, "Quant") if n.input[0] in produced_by_relu]


def residual_add(m: onnx.ModelProto) -> None:
    q = act_quants(m)[0]
    pool = next(n for n in m.graph.node if q.output[0] in n.input)
    add = helper.make_node("Add", [q.output[0], q.output[0]], ["added"], name="Residual")
    pool.input[0] = "added"
    m.graph.node.insert(list(m.graph.node).index(pool), add)


def nonzero_zero_point(m: onnx.ModelProto) -> None:
    q = act_quants(m)[0]
    init = next(i for i in m.graph.initializer if i.name == q.input[2])
    init.CopyFrom(numpy_helper.from_array(np.array(1.0, dtype=np.float32), init.name))


def sigmoid(m: onnx.ModelProto) -> None:
    nodes(m, "Relu")[0].op_type = "Sigmoid"


def signed_activation(m: onnx.ModelProto) -> None:
    set_attr(act_quants(m)[0], "signed", 1)


def grouped_conv(m: onnx.ModelProto) -> None:
    set_attr(nodes(m, "Conv")[1], "group", 2)


def dilated_conv(m: onnx.ModelProto) -> None:
    set_attr(nodes(m, "Conv")[1], "dilations", [2, 2])


def asymmetric_padding(m: onnx.ModelProto) -> None:
    set_attr(nodes(m, "Conv")[1], "pads", [1, 1, 0, 0])


def stride_three(m: onnx.ModelProto) -> None:
    set_attr(nodes(m, "Conv")[1], "strides", [3, 3])


def padded_maxpool(m: onnx.ModelProto) -> None:
    set_attr(nodes(m, "MaxPool")[0], "pads", [1, 1, 1, 1])


def floor_rounding(m: onnx.ModelProto) -> None:
    set_attr(act_quants(m)[0], "rounding_mode", "FLOOR")


def dangling_branch(m: onnx.ModelProto) -> None:
    """A fork of spike counts (allowed) into a max-pool whose output goes nowhere (not allowed)."""
    q = act_quants(m)[0]
    extra = helper.make_node("MaxPool", [q.output[0]], ["dangling"], name="SecondConsumer", kernel_shape=[2, 2],
                             strides=[2, 2])
    m.graph.node.append(extra)


def fork_before_the_activation(m: onnx.ModelProto) -> None:
    """The first conv's output read by its Relu and by a max-pool: a fork must come after the quantized ReLU."""
    conv = nodes(m, "Conv")[0]
    pool = nodes(m, "MaxPool")[0]
    pool.input[0] = conv.output[0]


def relu_without_quant(m: onnx.ModelProto) -> None:
    """A float ReLU: the Quant after it removed, so the activation is not quantized."""
    q = act_quants(m)[0]
    relu = next(n for n in nodes(m, "Relu") if n.output[0] == q.input[0])
    for n in m.graph.node:
        for i, name in enumerate(n.input):
            if name == q.output[0]:
                n.input[i] = relu.output[0]
    m.graph.node.remove(q)


def four_bit_input(m: onnx.ModelProto) -> None:
    q = nodes(m, "Quant")[0]
    init = next(i for i in m.graph.initializer if i.name == q.input[3])
    init.CopyFrom(numpy_helper.from_array(np.array(4.0, dtype=np.float32), init.name))


BAD_GRAPHS: list[tuple[str, Callable[[onnx.ModelProto], None], str]] = [
    ("residual add of two spike tensors", residual_add, r"node 'Add_0' \(Add\): a residual add must take a Conv's "
                                                        r"output and spike counts"),
    ("non-zero zero-point", nonzero_zero_point, r"\(Quant\): non-zero zero-point"),
    ("sigmoid activation", sigmoid, r"\(Sigmoid\): activation other than quantized ReLU"),
    ("signed activation quant", signed_activation, r"\(Quant\): signed activation quantizer"),
    ("grouped conv", grouped_conv, r"node 'Conv_1' \(Conv\): grouped/depthwise"),
    ("dilated conv", dilated_conv, r"node 'Conv_1' \(Conv\): dilation"),
    ("asymmetric padding", asymmetric_padding, r"node 'Conv_1' \(Conv\): padding \[1, 1, 0, 0\]"),
    ("stride 3", stride_three, r"node 'Conv_1' \(Conv\): strides \[3, 3\]"),
    ("padded max-pool", padded_maxpool, r"\(MaxPool\): max-pool padding"),
    ("floor rounding", floor_rounding, r"\(Quant\): rounding mode FLOOR"),
    ("dangling branch", dangling_branch,
     r"node 'MaxPool_\d' \(MaxPool\): output feeds nothing and is not a graph output"),
    ("fork before the activation", fork_before_the_activation, r"node 'Conv_0' \(Conv\): output feeds 2 nodes"),
    ("float relu", relu_without_quant, r"expected Relu then Quant|expected a Conv or MaxPool"),
    ("4-bit input", four_bit_input, r"input quantizer must be unsigned 8-bit"),
]


@pytest.mark.parametrize(("case", "mutate", "message"), BAD_GRAPHS, ids=[c[0] for c in BAD_GRAPHS])
def test_bad_graph_is_rejected_with_its_reason(exported, case, mutate, message) -> None:
    model = onnx.ModelProto()
    model.CopyFrom(exported)
    mutate(model)
    with pytest.raises(ConversionError, match=message):
        convert_qonnx(ModelWrapper(model), name=case)


def test_the_unmutated_graph_converts(exported) -> None:
    net = convert_qonnx(ModelWrapper(exported), name="ok")
    assert [layer.kind for layer in net.layers] == ["conv", "maxpool", "conv", "maxpool", "head"]


def write_plain_onnx(path: Path) -> Path:
    """A float ONNX model (no Quant nodes) with input 'images': Conv, Relu, MaxPool, Conv."""
    rng = np.random.default_rng(0)
    weights = [numpy_helper.from_array(rng.normal(size=shape).astype(np.float32), name)
               for name, shape in (("w1", (4, 3, 3, 3)), ("w2", (21, 4, 1, 1)))]
    graph = helper.make_graph([
        helper.make_node("Conv", ["images", "w1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2"], ["out"], name="head"),
    ], "plain", [helper.make_tensor_value_info("images", onnx.TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("out", onnx.TensorProto.FLOAT, [1, 21, 16, 16])], weights)
    onnx.save(helper.make_model(graph), path)
    return path


def test_plain_onnx_is_refused_naming_the_file_its_input_and_what_qonnx_looks_like(tmp_path) -> None:
    path = write_plain_onnx(tmp_path / "plain.onnx")
    with pytest.raises(ConversionError) as info:
        convert_qonnx(path)
    message = str(info.value)
    assert message.startswith(f"{path}: input 'images': the model has no Quant node at all: it is plain ONNX")
    for part in ("Brevitas export_qonnx", "Quant node with bit_width 8, signed=0", "QuantIdentity"):
        assert part in message


def test_plain_onnx_source_is_refused_when_imported(tmp_path, capsys) -> None:
    path = write_plain_onnx(tmp_path / "plain.onnx")
    assert main(["convert", str(tmp_path / "b"), "--qonnx", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"error: {path}: input 'images': " in err and "global_in" not in err
    assert not (tmp_path / "b" / "model.onnx").exists()


def test_input_not_into_a_quant_node_names_what_it_goes_into(exported) -> None:
    model = onnx.ModelProto()
    model.CopyFrom(exported)
    pixel_quant = next(n for n in model.graph.node if n.input[0] == model.graph.input[0].name)
    for n in model.graph.node:
        for i, name in enumerate(n.input):
            if name == pixel_quant.output[0]:
                n.input[i] = pixel_quant.input[0]
    model.graph.node.remove(pixel_quant)
    with pytest.raises(ConversionError, match=r"^bypassed: input '\w+': it goes into 'Conv_0' \(Conv\), not a Quant "
                                              r"node; spikeflow converts QONNX, as Brevitas export_qonnx"):
        convert_qonnx(ModelWrapper(model), name="bypassed")
