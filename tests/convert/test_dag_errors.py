"""What the converter refuses in a DAG: joins of scales that are not powers of two apart, and unsupported nodes,
each with a one-line ConversionError naming the node (and the two scales)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper
from qonnx.core.modelwrapper import ModelWrapper

from spikeflow.convert import convert_qonnx
from spikeflow.errors import ConversionError
from spikeflow.frontend.export import export_module
from tests.convert.dag_models import SIZE, two_scale


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> onnx.ModelProto:
    path = tmp_path_factory.mktemp("dag") / "m.onnx"
    export_module(two_scale(0, residual_blocks=1).deploy(), (3, SIZE, SIZE), path, "dag")
    return onnx.load(path)


def node(m: onnx.ModelProto, op: str) -> onnx.NodeProto:
    return next(n for n in m.graph.node if n.op_type == op)


def producer(m: onnx.ModelProto, tensor: str) -> onnx.NodeProto:
    return next(n for n in m.graph.node if tensor in n.output)


def scale_quant(m: onnx.ModelProto, quant: onnx.NodeProto, factor: float) -> None:
    init = next(i for i in m.graph.initializer if i.name == quant.input[1])
    init.CopyFrom(numpy_helper.from_array((numpy_helper.to_array(init) * factor).astype(np.float32), init.name))


def conv_weights_at_one_and_a_half(m: onnx.ModelProto) -> None:
    """The residual conv's weight (and bias) scale at 1.5x: its accumulator scale is then 1.5 x a power of two
    times the shortcut's."""
    add = node(m, "Add")
    conv = next(producer(m, t) for t in add.input if producer(m, t).op_type == "Conv")
    for quant in (producer(m, conv.input[1]), producer(m, conv.input[2])):
        scale_quant(m, quant, 1.5)


def concat_input_at_a_third(m: onnx.ModelProto) -> None:
    """The upsampled input of the concat at 1.5x the scale of the other input."""
    resize = producer(m, next(t for t in node(m, "Concat").input if producer(m, t).op_type == "Resize"))
    scale_quant(m, producer(m, resize.input[0]), 1.5)


def set_resize_attribute(m: onnx.ModelProto, name: str, value: str) -> None:
    resize = node(m, "Resize")
    for a in list(resize.attribute):
        if a.name == name:
            resize.attribute.remove(a)
    resize.attribute.append(helper.make_attribute(name, value))


def bilinear_upsample(m: onnx.ModelProto) -> None:
    set_resize_attribute(m, "mode", "linear")


def align_corners_upsample(m: onnx.ModelProto) -> None:
    set_resize_attribute(m, "coordinate_transformation_mode", "align_corners")


def sigmoid_on_a_fork(m: onnx.ModelProto) -> None:
    """A Sigmoid reading the concat's output beside the conv that reads it."""
    concat = node(m, "Concat")
    m.graph.node.append(helper.make_node("Sigmoid", [concat.output[0]], ["squashed"], name="Squash"))
    m.graph.output.append(helper.make_tensor_value_info("squashed", onnx.TensorProto.FLOAT, None))


def concat_along_height(m: onnx.ModelProto) -> None:
    concat = node(m, "Concat")
    concat.attribute[0].CopyFrom(helper.make_attribute("axis", 2))


CASES: list[tuple[str, Callable[[onnx.ModelProto], None], str]] = [
    ("residual ratio not a power of two", conv_weights_at_one_and_a_half,
     r"^node 'Add_0' \(Add\): shortcut scale [0-9.e-]+ and the conv's accumulator scale [0-9.e-]+ \(channel 0: "
     r"input x weight scale\) differ by [0-9.e-]+, not a power of two"),
    ("concat scales not powers of two apart", concat_input_at_a_third,
     r"^node 'Concat_0' \(Concat\): input scales [0-9.e-]+ and [0-9.e-]+ differ by [0-9.e-]+, not a power of two"),
    ("bilinear upsampling", bilinear_upsample,
     r"^node 'Resize_0' \(Resize\): only nearest upsampling by 2 in H and W is supported, not mode linear"),
    ("align-corners upsampling", align_corners_upsample,
     r"^node 'Resize_0' \(Resize\): coordinate_transformation_mode align_corners with nearest_mode floor does not "
     r"repeat each value on a 2x2 block"),
    ("unsupported node on a fork", sigmoid_on_a_fork, r"^node 'Sigmoid_0' \(Sigmoid\): activation other than"),
    ("concat along height", concat_along_height, r"^node 'Concat_0' \(Concat\): concat along axis 2"),
]


@pytest.mark.parametrize(("case", "mutate", "message"), CASES, ids=[c[0] for c in CASES])
def test_dag_graph_is_refused_in_one_line_naming_the_node(exported, case, mutate, message) -> None:
    model = onnx.ModelProto()
    model.CopyFrom(exported)
    mutate(model)
    with pytest.raises(ConversionError, match=message) as info:
        convert_qonnx(ModelWrapper(model), name=case)
    assert "\n" not in str(info.value)


def test_the_unmutated_dag_converts(exported) -> None:
    net = convert_qonnx(ModelWrapper(exported), name="ok")
    assert len(net.heads) == 2 and not net.is_chain
