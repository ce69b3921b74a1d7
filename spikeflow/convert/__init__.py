"""QONNX to FewdIF IR conversion: graph passes in qonnx's style, exact thresholds, then lowering."""

from spikeflow.convert.lower import convert_qonnx

__all__ = ["convert_qonnx"]
