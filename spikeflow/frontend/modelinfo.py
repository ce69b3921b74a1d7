"""Parameter and weight-size accounting for a quantized detector (the keys of report/model.json)."""

from __future__ import annotations

from typing import Any

from spikeflow.frontend.model import QuantDetector
from spikeflow.frontend.model.blocks import FoldedConvBNReLU


def weight_accounting(model: QuantDetector) -> dict[str, Any]:
    """Deployed parameters (folded weights and biases) and their bytes at the configured bit widths.

    Biases count at 32 bits, as exported; the FewdIF thresholds that replace the activation scales are extra
    and are counted by the IR.
    """
    params = 0
    weight_bits_total = 0
    for layer in model.modules():  # backbone convs, residual blocks' convs and a second head's convs
        if isinstance(layer, FoldedConvBNReLU):
            n = layer.conv.weight.numel()
            params += n + layer.conv.out_channels
            weight_bits_total += n * layer.weight_bits + 32 * layer.conv.out_channels
    for head in model.heads:
        params += head.conv.weight.numel() + head.conv.out_channels
        weight_bits_total += head.conv.weight.numel() * model.cfg.head_weight_bits + 32 * head.conv.out_channels
    return {"params": params, "weight_bytes": (weight_bits_total + 7) // 8}
