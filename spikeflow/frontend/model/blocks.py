"""Training blocks: a conv whose batch norm is folded into the weights before weight quantization."""

from __future__ import annotations

import copy

import brevitas.nn as qnn
import torch
import torch.nn.functional as F
from torch import nn

from spikeflow.frontend.config import Scaling
from spikeflow.frontend.distributed import channel_moments, sum_over_ranks, world
from spikeflow.frontend.model.quantizers import BiasQuant, PixelQuant, act_quant, weight_quant


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

    def _batch_moments(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch's per-channel mean and variance of the conv output `y` (over every training process's
        samples), folded into the running statistics."""
        mean, var = channel_moments(y)
        with torch.no_grad():
            n = float(sum_over_ranks(torch.tensor(y.numel() / y.shape[1])))
            m = self.bn.momentum
            self.bn.running_mean.mul_(1 - m).add_(m * mean)
            self.bn.running_var.mul_(1 - m).add_(m * var * n / max(n - 1, 1))
            self.bn.num_batches_tracked += 1
        return mean, var

    def _bn_stats(self, x_float: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.training and not self.bn_frozen:
            return self._batch_moments(F.conv2d(x_float, self.conv.weight, None, self.conv.stride,
                                                self.conv.padding))
        return self.bn.running_mean, self.bn.running_var

    def folded(self, mean: torch.Tensor, var: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        inv_std = self.bn.weight / torch.sqrt(var + self.bn.eps)
        weight = self.conv.weight * inv_std.view(-1, 1, 1, 1)
        bias = self.bn.bias + (self.conv.bias - mean) * inv_std
        return weight, bias

    def _normalized(self, y: torch.Tensor) -> torch.Tensor:
        """Batch norm of the conv output `y` in the float phase; over the global batch in a distributed run, as one
        process computes it."""
        if self.training and world().distributed:
            mean, var = self._batch_moments(y)
            scale = self.bn.weight / torch.sqrt(var + self.bn.eps)
            return (y - mean.view(1, -1, 1, 1)) * scale.view(1, -1, 1, 1) + self.bn.bias.view(1, -1, 1, 1)
        return self.bn(y)

    def forward_float(self, x: torch.Tensor) -> torch.Tensor:
        y = F.conv2d(x, self.conv.weight, None, self.conv.stride, self.conv.padding)
        return F.relu(self._normalized(y))

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


# Blocks for detectors that are not a chain (docs/fewdif.md, "Beyond a chain"). In Brevitas's export mode the
# quantized layers hand plain tensors to the next module, in eager mode QuantTensors: `_value` takes either.


def _value(x) -> torch.Tensor:
    """The float values of a QuantTensor (eager mode) or the tensor itself (export tracing)."""
    return x.value if hasattr(x, "value") else x


class FoldedConvBNAddReLU(FoldedConvBNReLU):
    """conv -> BN, plus a shortcut of spike counts, -> quantized ReLU: `QuantReLU(conv(x) + shortcut)`.

    BN is folded as in FoldedConvBNReLU. The add is exact in FewdIF when the shortcut's scale and the conv's
    accumulator scale (input x weight scale, per channel) are powers of two apart, as with po2 scaling.
    """

    def forward_float(self, x: torch.Tensor, shortcut: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        y = F.conv2d(x, self.conv.weight, None, self.conv.stride, self.conv.padding)
        return F.relu(self._normalized(y) + shortcut)

    def forward(self, x, shortcut):  # type: ignore[override]
        weight, bias = self.folded(*self._bn_stats(x.value))
        q_weight = self.conv.weight_quant(weight)
        q_bias = self.conv.bias_quant(bias, x, q_weight)
        y = F.conv2d(x.value, q_weight.value, q_bias.value, self.conv.stride, self.conv.padding)
        return self.act(y + shortcut.value)

    @torch.no_grad()
    def deploy(self) -> DeployedConvAddReLU:  # type: ignore[override]
        conv, act = super().deploy()
        return DeployedConvAddReLU(conv, act)


class DeployedConvAddReLU(nn.Module):
    """The exportable residual conv: folded QuantConv2d, the shortcut added to its output, the QuantReLU."""

    def __init__(self, conv: qnn.QuantConv2d, act: qnn.QuantReLU) -> None:
        super().__init__()
        self.conv, self.act = conv, act

    def forward(self, x, shortcut):
        return self.act(self.conv(x) + _value(shortcut))


class ResidualBlock(nn.Module):
    """conv-BN-QuantReLU, conv-BN, add the block input, QuantReLU (a ResNet basic block at stride 1).

    The block input is spike counts (a QuantReLU's output); it forks into the first conv and the shortcut.
    """

    def __init__(self, channels: int, mid_channels: int, kernel: int, weight_bits: int, act_bits: int,
                 scaling: Scaling) -> None:
        super().__init__()
        self.conv1 = FoldedConvBNReLU(channels, mid_channels, kernel, 1, weight_bits, act_bits, scaling)
        self.conv2 = FoldedConvBNAddReLU(mid_channels, channels, 3, 1, weight_bits, act_bits, scaling)

    def forward_float(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2.forward_float(self.conv1.forward_float(x), x)

    def forward(self, x):
        return self.conv2(self.conv1(x), x)

    @torch.no_grad()
    def deploy(self) -> DeployedResidualBlock:
        return DeployedResidualBlock(self.conv1.deploy(), self.conv2.deploy())


class DeployedResidualBlock(nn.Module):
    def __init__(self, conv1: nn.Sequential, conv2: DeployedConvAddReLU) -> None:
        super().__init__()
        self.conv1, self.conv2 = conv1, conv2

    def forward(self, x):
        return self.conv2(self.conv1(x), x)


class NearestUpsample(nn.Upsample):
    """Nearest-neighbour x2 upsampling of spike counts (QuantTensors keep their scale); exports as Resize."""

    def __init__(self) -> None:
        super().__init__(scale_factor=2, mode="nearest")


class ChannelConcat(nn.Module):
    """Channel concat of spike counts.

    `same_scale=True`: the inputs carry one activation scale (QuantReLUs with one scale), so the result is a
    QuantTensor that a conv with an Int32Bias can read. `same_scale=False`: inputs at power-of-two related scales,
    concatenated as float values; the next conv must then be bias-free (its bias quantizer needs one input
    scale), and the conversion folds the ratios into its weight columns.
    """

    def __init__(self, same_scale: bool = True) -> None:
        super().__init__()
        self.same_scale = same_scale

    def forward(self, *xs):
        if self.same_scale:
            return torch.cat(list(xs), dim=1)
        return torch.cat([_value(x) for x in xs], dim=1)


class TwoScaleDetector(nn.Module):
    """A small YOLOv3-tiny-like arrangement of the blocks above, returning (coarse, fine) head outputs.

    stem conv and pool, residual blocks (the fine features, stride 2), pool and a deep conv (stride 4) with the
    coarse head; the deep features through a 1x1 conv, upsampled x2 and concatenated with the fine ones, then a
    conv and the fine head. The 1x1 conv reuses the fine features' QuantReLU module, so the concat's inputs
    share one activation quantizer (in deploy() each gets a copy with the same scale).
    """

    def __init__(self, stem: int = 8, deep: int = 8, lateral: int = 4, fine: int = 8, residual_blocks: int = 1,
                 head_channels: int = 6, weight_bits: int = 4, head_weight_bits: int = 8, act_bits: int = 2,
                 scaling: Scaling = "po2") -> None:
        super().__init__()

        def conv(c_in: int, c_out: int, kernel: int) -> FoldedConvBNReLU:
            return FoldedConvBNReLU(c_in, c_out, kernel, 1, weight_bits, act_bits, scaling)

        self.input_quant = qnn.QuantIdentity(act_quant=PixelQuant, return_quant_tensor=True)
        self.stem = conv(3, stem, 3)
        self.pool = nn.MaxPool2d(2, 2)
        self.blocks = nn.ModuleList(ResidualBlock(stem, stem, 3, weight_bits, act_bits, scaling)
                                    for _ in range(residual_blocks))
        self.deep = conv(stem, deep, 3)
        self.coarse_head = QuantHead(deep, head_channels, head_weight_bits, scaling)
        self.lateral = conv(deep, lateral, 1)
        self.share_concat_quantizer()
        self.upsample = NearestUpsample()
        self.concat = ChannelConcat()
        self.fine = conv(lateral + stem, fine, 3)
        self.fine_head = QuantHead(fine, head_channels, head_weight_bits, scaling)

    def share_concat_quantizer(self) -> None:
        """Make the 1x1 lateral conv use the fine features' QuantReLU (again after a calibrate() replaced it)."""
        self.lateral.act = (self.blocks[-1].conv2 if len(self.blocks) else self.stem).act

    def forward(self, x):
        return two_scale_forward(self, x)

    @torch.no_grad()
    def deploy(self) -> DeployedTwoScale:
        """The exportable network: every folded block replaced by its deployed form."""
        return DeployedTwoScale(self).eval()


class DeployedTwoScale(nn.Module):
    """TwoScaleDetector with BN folded: Brevitas layers only, the same forward."""

    def __init__(self, trained: TwoScaleDetector) -> None:
        super().__init__()
        self.input_quant = copy.deepcopy(trained.input_quant)
        self.stem, self.deep, self.lateral, self.fine = (m.deploy() for m in (trained.stem, trained.deep,
                                                                              trained.lateral, trained.fine))
        self.pool, self.upsample, self.concat = nn.MaxPool2d(2, 2), NearestUpsample(), ChannelConcat()
        self.blocks = nn.ModuleList(block.deploy() for block in trained.blocks)
        self.coarse_head, self.fine_head = trained.coarse_head.conv, trained.fine_head.conv

    def forward(self, x):
        return two_scale_forward(self, x)


def two_scale_forward(m: TwoScaleDetector | DeployedTwoScale, x) -> tuple[torch.Tensor, torch.Tensor]:
    q = m.pool(m.stem(m.input_quant(x)))
    for block in m.blocks:
        q = block(q)
    deep = m.deep(m.pool(q))
    joined = m.concat(m.upsample(m.lateral(deep)), q)
    return m.coarse_head(deep), m.fine_head(m.fine(joined))
