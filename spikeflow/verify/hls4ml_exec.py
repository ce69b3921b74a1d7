"""The hls4ml peer check: the same QONNX model through hls4ml 1.3.0's QONNX front end and its bit-accurate C model.

hls4ml reads the quantized ANN, not the FewdIF IR; the quantized ANN is the same function, so its dequantized
head outputs should equal the golden model's V times the output scale. Two preparations, both exact:

- the weight and bias Quant nodes are folded into constant initializers (integer times a power-of-two scale,
  exact in float32): hls4ml 1.3.0 cannot move per-channel weight scales through a Conv with a quantized bias
  ("Failed to propagate quantization scales down Conv node"). Their precisions are then set from those Quant
  nodes (bit width and scale range) instead of being inferred;
- the activation Quant nodes stay, and hls4ml turns them into its activation types (round half to even,
  saturation), as the QONNX graph defines them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spikeflow.errors import SpikeflowError

DEFAULT_PRECISION = "fixed<32,16>"  # input and whatever hls4ml cannot infer: 16 fractional bits hold pixel / 256


@dataclass
class Hls4mlRun:
    values: np.ndarray  # float64 [N, K, Gh, Gw], the head outputs
    seconds: float  # wall time of predict()
    cpu_seconds: float  # process CPU time of predict()
    compile_seconds: float
    precisions: dict[str, str]  # layer.kind -> precision set from a Quant node


def _power_of_two_exponents(scale: np.ndarray, where: str) -> np.ndarray:
    e = np.log2(np.asarray(scale, dtype=np.float64)).ravel()
    if not np.all(e == np.round(e)):
        raise SpikeflowError(f"{where}: scale is not a power of two; hls4ml's fixed-point types cannot hold it exactly")
    return e.astype(int)


def quant_precisions(model) -> dict[tuple[str, str], str]:
    """(Conv node, 'weight' | 'bias') -> ap_fixed type that holds every value its Quant node can produce."""
    out: dict[tuple[str, str], str] = {}
    for node in model.graph.node:
        if node.op_type != "Conv":
            continue
        for index, kind in ((1, "weight"), (2, "bias")):
            if len(node.input) <= index:
                continue
            quant = model.find_producer(node.input[index])
            if quant is None or quant.op_type != "Quant":
                raise SpikeflowError(f"Conv node {node.name}: its {kind} is not a Quant node's output")
            exponents = _power_of_two_exponents(model.get_initializer(quant.input[1]), f"Quant node {quant.name}")
            bits = int(model.get_initializer(quant.input[3]))
            frac, integer = -int(exponents.min()), int(exponents.max()) + bits  # signed: bits-1 magnitude + sign
            out[(node.name, kind)] = f"fixed<{integer + frac},{integer}>"
    return out


def run_hls4ml(onnx_path: str | Path, frames: np.ndarray, out_dir: str | Path,
               output_shape: tuple[int, int, int]) -> Hls4mlRun:
    """Convert the QONNX model with hls4ml (Vitis back end, io_stream), compile its C model and run frames
    (uint8 [N,C,H,W], given as pixel / 256) through it."""
    import hls4ml
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.channels_last import ConvertToChannelsLastAndClean
    from qonnx.transformation.fold_constants import FoldConstants
    from qonnx.util.cleanup import cleanup_model

    model = cleanup_model(ModelWrapper(str(onnx_path)))
    precisions = quant_precisions(model)
    model = cleanup_model(model.transform(FoldConstants(exclude_op_types=[])))
    model = cleanup_model(model.transform(ConvertToChannelsLastAndClean()))
    config = hls4ml.utils.config.config_from_onnx_model(model, granularity="name", backend="Vitis",
                                                        default_precision=DEFAULT_PRECISION)
    for (name, kind), precision in precisions.items():
        config["LayerName"][name]["Precision"][kind] = precision
    started = time.time()
    hls_model = hls4ml.converters.convert_from_onnx_model(model, hls_config=config, backend="Vitis",
                                                          io_type="io_stream", output_dir=str(out_dir))
    hls_model.compile()
    compile_seconds = time.time() - started
    x = np.ascontiguousarray(np.asarray(frames, dtype=np.float32) / 256)  # NCHW: the graph transposes itself
    t0, c0 = time.time(), time.process_time()
    y = hls_model.predict(x)
    seconds, cpu_seconds = time.time() - t0, time.process_time() - c0
    values = np.asarray(y, dtype=np.float64).reshape(len(x), *output_shape)
    return Hls4mlRun(values, seconds, cpu_seconds, compile_seconds,
                     {f"{name}.{kind}": p for (name, kind), p in precisions.items()})
