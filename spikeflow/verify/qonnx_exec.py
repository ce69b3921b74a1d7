"""QONNX execution of a model on frames (qonnx's execute_onnx; no torch)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spikeflow.ir import PIXEL_SCALE


def run_qonnx(path: str | Path, images: np.ndarray) -> np.ndarray:
    """Execute a QONNX model with qonnx's execute_onnx, one frame at a time. images: float [N,3,H,W]."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx

    model = ModelWrapper(str(path))
    iname, oname = model.graph.input[0].name, model.graph.output[0].name
    outs = [execute_onnx(model, {iname: img[None].astype(np.float32)})[oname] for img in images]
    return np.concatenate(outs)


def qonnx_input(frames: np.ndarray) -> np.ndarray:
    """uint8 frames -> the float input of the QONNX model (pixel * 2^-8, exact)."""
    return frames.astype(np.float32) * np.float32(PIXEL_SCALE)


def run_qonnx_outputs(path: str | Path, images: np.ndarray) -> list[np.ndarray]:
    """Every graph output of a QONNX model (one per head, in the graph's output order) for float images
    [N,3,H,W], executed with qonnx's execute_onnx one frame at a time."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx

    model = ModelWrapper(str(path))
    iname, onames = model.graph.input[0].name, [o.name for o in model.graph.output]
    outs = [execute_onnx(model, {iname: img[None].astype(np.float32)}) for img in images]
    return [np.concatenate([out[name] for out in outs]) for name in onames]
