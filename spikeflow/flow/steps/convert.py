"""The convert step: QONNX to the FewdIF IR, with the class names and anchors the export step recorded."""

from __future__ import annotations

import dataclasses

from spikeflow.flow.builddir import BuildDir
from spikeflow.flow.config import BuildConfig
from spikeflow.flow.model_info import ModelInfo


def step_convert(build: BuildDir, cfg: BuildConfig) -> None:
    from spikeflow.convert import convert_qonnx

    net = convert_qonnx(build.onnx, name=build.name)
    if build.model_info.is_file():
        info = ModelInfo.load(build.model_info)
        net.meta = dataclasses.replace(net.meta, names=info.names, anchors=info.anchors)
    net.save(build.ir)
    print(f"   FewdIF IR: {build.ir} ({len(net.layers)} layers, T={net.timesteps})")
    for layer in net.layers:
        extra = f"acc {layer.acc_bits} bits" if hasattr(layer, "acc_bits") else ""
        print(f"     {layer.kind:<8} {layer.name:<12} {str(layer.in_shape):>16} -> {str(layer.out_shape):<16} {extra}")
