"""The convert step: QONNX to the FewdIF IR, with the class names and anchors the export step recorded."""

from __future__ import annotations

import dataclasses

from spikeflow.flow.builddir import BuildDir
from spikeflow.flow.config import BuildConfig
from spikeflow.flow.model_info import ModelInfo
from spikeflow.ir import FewdIFNetwork


def step_convert(build: BuildDir, cfg: BuildConfig) -> None:
    from spikeflow.convert import convert_qonnx

    net = convert_qonnx(build.onnx, name=build.name)
    if build.model_info.is_file():
        info = ModelInfo.load(build.model_info)
        net.meta = dataclasses.replace(net.meta, names=info.names, anchors=info.anchors)
    net.save(build.ir)
    shape = "a chain" if net.is_chain else f"a DAG with {len(net.heads)} head(s)"
    print(f"   FewdIF IR: {build.ir} ({len(net.layers)} layers, {shape}, T={net.timesteps})")
    for layer_line in layer_lines(net):
        print(f"     {layer_line}")


def layer_lines(net: FewdIFNetwork) -> list[str]:
    """One line per layer: kind, name, shapes, accumulator width; in a DAG also the tensors it reads and a residual
    conv's shifts."""
    lines = []
    for layer, inputs in net.layer_inputs():
        extra = f"acc {layer.acc_bits} bits" if hasattr(layer, "acc_bits") else ""
        if not net.is_chain:
            extra += f"  reads {', '.join(inputs)}"
            if getattr(layer, "has_residual", False):
                extra += f" (shortcut << {list(layer.residual_shift)})"
        lines.append(f"{layer.kind:<8} {layer.name:<12} {str(layer.in_shape):>16} -> {str(layer.out_shape):<16} "
                     f"{extra}".rstrip())
    return lines
