"""Training blocks: a conv whose batch norm is folded into the weights before weight quantization."""

from __future__ import annotations

import copy

import brevitas.nn as qnn
import torch
import torch.nn.functional as F
from torch import nn

from spikeflow.frontend.config import Scaling
from spikeflow.frontend.model.quantizers import BiasQuant, act_quant, weight_quant


class FoldedConvBNReLU(nn.Module):
    """conv -> BN -> quantized ReLU, trained with BN folded into the conv (Jacob et al. 2018).

    Training uses batch statistics until the BN is frozen; then the running statistics. Either way the
    quantizer sees the folded weight, so the exported quantized weights are the ones that were trained.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int, weight_bits: int,
                 act_bits: int, scaling: Scaling) -> None:
        super().__init__()
        self.conv = qnn.QuantConv2d(in_channels, out_channels, kernel, stride=stride, padding=kernel // 2,
                                    bias=True, weight_quant=weight_quant(scaling),
                                    weight_bit_width=weight_bits, bias_quant=BiasQuant)
        # The conv's own bias stays zero: BN's beta carries the bias. It is kept so its bias quantizer exists.
        nn.init.zeros_(self.conv.bias)
        self.conv.bias.requires_grad_(False)
        self.bn = nn.BatchNorm2d(out_channels)
        self.act_bits = act_bits
        self.weight_bits = weight_bits
        self.scaling = scaling
        self.act = self._make_act(max_val=2.0)
        self.bn_frozen = False

    def _make_act(self, max_val: float) -> qnn.QuantReLU:
        return qnn.QuantReLU(act_quant=act_quant(self.scaling), bit_width=self.act_bits, max_val=max_val,
                             return_quant_tensor=True)

    def calibrate(self, max_val: float) -> None:
        """Re-initialise the activation scale from observed float activations (at the start of QAT)."""
        device = self.conv.weight.device
        self.act = self._make_act(max(max_val, 1e-3)).to(device)

    def _bn_stats(self, x_float: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.training and not self.bn_frozen:
            y = F.conv2d(x_float, self.conv.weight, None, self.conv.stride, self.conv.padding)
            mean = y.mean(dim=(0, 2, 3))
            var = y.var(dim=(0, 2, 3), unbiased=False)
            with torch.no_grad():
                n = y.numel() / y.shape[1]
                m = self.bn.momentum
                self.bn.running_mean.mul_(1 - m).add_(m * mean)
                self.bn.running_var.mul_(1 - m).add_(m * var * n / max(n - 1, 1))
                self.bn.num_batches_tracked += 1
            return mean, var
        return self.bn.running_mean, self.bn.running_var

    def folded(self, mean: torch.Tensor, var: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        inv_std = self.bn.weight / torch.sqrt(var + self.bn.eps)
        weight = self.conv.weight * inv_std.view(-1, 1, 1, 1)
        bias = self.bn.bias + (self.conv.bias - mean) * inv_std
        return weight, bias

    def forward_float(self, x: torch.Tensor) -> torch.Tensor:
        y = F.conv2d(x, self.conv.weight, None, self.conv.stride, self.conv.padding)
        return F.relu(self.bn(y))

    def forward(self, x):  # x: QuantTensor
        weight, bias = self.folded(*self._bn_stats(x.value))
        q_weight = self.conv.weight_quant(weight)
        q_bias = self.conv.bias_quant(bias, x, q_weight)
        y = F.conv2d(x.value, q_weight.value, q_bias.value, self.conv.stride, self.conv.padding)
        return self.act(y)

    @torch.no_grad()
    def deploy(self) -> nn.Sequential:
        """Plain Brevitas QuantConv2d (folded weights, running stats) followed by the same QuantReLU."""
        weight, bias = self.folded(self.bn.running_mean, self.bn.running_var)
        c = self.conv
        conv = qnn.QuantConv2d(c.in_channels, c.out_channels, c.kernel_size, stride=c.stride,
                               padding=c.padding, bias=True, weight_quant=weight_quant(self.scaling),
                               weight_bit_width=self.weight_bits, bias_quant=BiasQuant)
        conv.weight.copy_(weight)
        conv.bias.copy_(bias)
        return nn.Sequential(conv.to(weight.device), copy.deepcopy(self.act))


class QuantHead(nn.Module):
    """1x1 convolution giving anchors x (4 box + 1 objectness + classes); integrates, never fires."""

    def __init__(self, in_channels: int, out_channels: int, weight_bits: int, scaling: Scaling) -> None:
        super().__init__()
        self.conv = qnn.QuantConv2d(in_channels, out_channels, 1, bias=True, weight_quant=weight_quant(scaling),
                                    weight_bit_width=weight_bits, bias_quant=BiasQuant,
                                    return_quant_tensor=False)

    def forward_float(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.conv.weight, self.conv.bias)

    def forward(self, x) -> torch.Tensor:
        return self.conv(x)
