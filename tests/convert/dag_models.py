"""Small random Brevitas DAG networks (residual, concat, upsample, forks, two heads) for the converter's tests."""

from __future__ import annotations

import brevitas.nn as qnn
import numpy as np
import torch
from torch import nn

from spikeflow.frontend.model.blocks import (
    ChannelConcat,
    FoldedConvBNReLU,
    QuantHead,
    ResidualBlock,
    TwoScaleDetector,
)
from spikeflow.frontend.model.quantizers import PixelQuant, act_quant, weight_quant

SIZE = 16  # input H and W


def randomize(model: nn.Module, seed: int, act_max: tuple[float, float] = (0.1, 8.0)) -> nn.Module:
    """Random weights, BN statistics and activation scales (max_val log-uniform in `act_max`), in eval mode."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, FoldedConvBNReLU):
                m.conv.weight.normal_(0, 0.3, generator=gen)
                m.bn.weight.uniform_(0.5, 2.0, generator=gen)
                m.bn.bias.normal_(0, 0.5, generator=gen)
                m.bn.running_mean.normal_(0, 0.5, generator=gen)
                m.bn.running_var.uniform_(0.2, 3.0, generator=gen)
                lo, hi = np.log2(act_max[0]), np.log2(act_max[1])
                m.calibrate(float(2 ** (lo + (hi - lo) * torch.rand(1, generator=gen).item())))
            elif isinstance(m, QuantHead):
                m.conv.weight.normal_(0, 0.2, generator=gen)
                m.conv.bias.normal_(0, 0.5, generator=gen)
    if isinstance(model, TwoScaleDetector):
        model.share_concat_quantizer()
    return model.eval()


def two_scale(seed: int, residual_blocks: int = 1) -> TwoScaleDetector:
    """The YOLOv3-tiny-like arrangement: residual blocks, a fork, nearest x2 upsampling, concat, two heads."""
    rng = np.random.default_rng(seed)
    stem, deep, lateral, fine = (int(c) for c in rng.integers(2, 7, size=4))
    return randomize(TwoScaleDetector(stem=stem, deep=deep, lateral=lateral, fine=fine,
                                      residual_blocks=residual_blocks, head_channels=int(rng.integers(2, 7)),
                                      weight_bits=int(rng.integers(3, 6))), seed)


class ResidualStack(nn.Module):
    """stem conv, max-pool, residual blocks, head: a chain of residual blocks (each input forks)."""

    def __init__(self, stem: int, mids: tuple[int, ...], weight_bits: int = 4) -> None:
        super().__init__()
        self.input_quant = qnn.QuantIdentity(act_quant=PixelQuant, return_quant_tensor=True)
        self.stem = FoldedConvBNReLU(3, stem, 3, 1, weight_bits, 2, "po2")
        self.pool = nn.MaxPool2d(2, 2)
        self.blocks = nn.ModuleList(ResidualBlock(stem, m, 3 if i % 2 else 1, weight_bits, 2, "po2")
                                    for i, m in enumerate(mids))
        self.head = QuantHead(stem, 5, 8, "po2")

    def deploy(self) -> nn.Sequential:
        return nn.Sequential(self.input_quant, *self.stem.deploy(), self.pool,
                             *(b.deploy() for b in self.blocks), self.head.conv).eval()


class TwoHeadsOnOneFork(nn.Module):
    """A conv whose spike counts feed two heads and a max-pool branch with a third head (a three-way fork)."""

    def __init__(self) -> None:
        super().__init__()
        self.input_quant = qnn.QuantIdentity(act_quant=PixelQuant, return_quant_tensor=True)
        self.conv = FoldedConvBNReLU(3, 5, 3, 1, 4, 2, "po2")
        self.pool = nn.MaxPool2d(2, 2)
        self.heads = nn.ModuleList(QuantHead(5, 3, 6, "po2") for _ in range(3))

    def deploy(self) -> nn.Module:
        return _DeployedTwoHeads(self).eval()


class _DeployedTwoHeads(nn.Module):
    def __init__(self, m: TwoHeadsOnOneFork) -> None:
        super().__init__()
        self.input_quant, self.conv, self.pool = m.input_quant, m.conv.deploy(), m.pool
        self.heads = nn.ModuleList(h.conv for h in m.heads)

    def forward(self, x):
        y = self.conv(self.input_quant(x))
        return self.heads[0](y), self.heads[1](y), self.heads[2](self.pool(y))


class MixedScaleConcat(nn.Module):
    """Two convs at power-of-two related activation scales, concatenated (as float values, a fork) into a
    bias-free head and a bias-free 3x3 conv with a quantized ReLU and a second head."""

    def __init__(self, ratio_exponent: int) -> None:
        super().__init__()
        self.input_quant = qnn.QuantIdentity(act_quant=PixelQuant, return_quant_tensor=True)
        self.a = FoldedConvBNReLU(3, 3, 3, 1, 4, 2, "po2")
        self.b = FoldedConvBNReLU(3, 4, 1, 1, 4, 2, "po2")
        self.concat = ChannelConcat(same_scale=False)
        self.join = qnn.QuantConv2d(7, 4, 3, padding=1, bias=False, weight_quant=weight_quant("po2"),
                                    weight_bit_width=4)
        self.head = qnn.QuantConv2d(7, 3, 1, bias=False, weight_quant=weight_quant("po2"), weight_bit_width=6)
        self.act = qnn.QuantReLU(act_quant=act_quant("po2"), bit_width=2, max_val=2.0, return_quant_tensor=True)
        self.head2 = QuantHead(4, 3, 6, "po2")
        self.ratio_exponent = ratio_exponent

    def scales(self) -> None:
        """Activation scales 2^e apart: a at max_val 3, b at 3 * 2^-ratio_exponent."""
        self.a.calibrate(3.0)
        self.b.calibrate(3.0 * 2.0 ** -self.ratio_exponent)

    def deploy(self) -> nn.Module:
        return _DeployedMixed(self).eval()


class _DeployedMixed(nn.Module):
    def __init__(self, m: MixedScaleConcat) -> None:
        super().__init__()
        self.input_quant, self.a, self.b = m.input_quant, m.a.deploy(), m.b.deploy()
        self.concat, self.join, self.head, self.act, self.head2 = m.concat, m.join, m.head, m.act, m.head2.conv

    def forward(self, x):
        q = self.input_quant(x)
        joined = self.concat(self.a(q), self.b(q))
        return self.head(joined), self.head2(self.act(self.join(joined)))
