"""The hls4ml peer check on a small random quantized detector: the precisions taken from the Quant nodes hold
every weight and bias, and hls4ml's C model gives the golden model's dequantized outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spikeflow.convert import convert_qonnx
from spikeflow.frontend.export import export_detector
from spikeflow.golden import run_counts
from spikeflow.golden.count import dequantize
from tests.backends.hls.hlstools import require_csim
from tests.factories import random_frames, randomized_detector, small_config


@pytest.fixture(scope="module")
def small_qonnx(tmp_path_factory) -> Path:
    cfg = small_config(input_size=12, channels=(4, 6), pools=(True, False))
    return export_detector(randomized_detector(cfg, seed=4, num_classes=1), tmp_path_factory.mktemp("q") / "m.onnx")


def test_precisions_from_quant_nodes_hold_the_quantized_weights(small_qonnx) -> None:
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.fold_constants import FoldConstants
    from qonnx.util.cleanup import cleanup_model

    from spikeflow.verify.hls4ml_exec import quant_precisions

    model = cleanup_model(ModelWrapper(str(small_qonnx)))
    precisions = quant_precisions(model)
    folded = cleanup_model(model.transform(FoldConstants(exclude_op_types=[])))
    convs = [n for n in folded.graph.node if n.op_type == "Conv"]
    assert {name for name, _ in precisions} == {n.name for n in convs}
    for node in convs:
        for index, kind in ((1, "weight"), (2, "bias")):
            width, integer = map(int, precisions[(node.name, kind)][len("fixed<"):-1].split(","))
            values = folded.get_initializer(node.input[index]).astype(np.float64)
            scaled = values * 2.0 ** (width - integer)
            assert np.array_equal(scaled, np.round(scaled)), f"{node.name} {kind}: not on the fixed-point grid"
            assert scaled.max() < 2 ** (width - 1) and scaled.min() >= -(2 ** (width - 1))


@pytest.mark.slow
def test_hls4ml_c_model_equals_golden(small_qonnx, tmp_path) -> None:
    require_csim()
    from spikeflow.verify.hls4ml_exec import run_hls4ml

    net = convert_qonnx(small_qonnx)
    frames = random_frames(small_config(input_size=12), 4, seed=2).numpy()
    run = run_hls4ml(small_qonnx, frames, tmp_path / "hls4ml", net.output_shape)
    assert np.array_equal(run.values, dequantize(net, run_counts(net, frames)))
