"""The compact YOLO-style detector: a conv backbone (convs, max-pools, residual blocks) and a single-scale 1x1 head,
or (topology two_scale) a YOLOv3-tiny-like second, finer head on an upsampled and concatenated route."""

from __future__ import annotations

import copy
import math

import brevitas.nn as qnn
import torch
from torch import nn

from spikeflow.detect.head import HeadSpec, default_anchors
from spikeflow.errors import UnsupportedModuleError
from spikeflow.frontend.config import ModelConfig
from spikeflow.frontend.model.blocks import (
    ChannelConcat,
    DeployedConvAddReLU,
    DeployedResidualBlock,
    FoldedConvBNReLU,
    NearestUpsample,
    QuantHead,
    ResidualBlock,
)
from spikeflow.frontend.model.quantizers import PixelQuant

# Leaf modules the FewdIF conversion can map (folded BN only inside FoldedConvBNReLU).
SUPPORTED_LEAVES: tuple[type, ...] = (qnn.QuantIdentity, qnn.QuantConv2d, qnn.QuantReLU, nn.MaxPool2d,
                                      nn.BatchNorm2d, NearestUpsample, ChannelConcat)


def head_specs(cfg: ModelConfig, num_classes: int) -> tuple[HeadSpec, ...]:
    """The heads in the network's output order: one, or (two_scale) the coarse then the fine head, the
    `fine_anchors` smallest anchors to the fine one."""
    anchors = default_anchors(cfg.input_size)
    if cfg.two_scale is None:
        return (HeadSpec(num_classes=num_classes, anchors=anchors, input_size=cfg.input_size, grid=cfg.grid),)
    k = cfg.two_scale.fine_anchors
    return (HeadSpec(num_classes=num_classes, anchors=anchors[k:], input_size=cfg.input_size, grid=cfg.grid),
            HeadSpec(num_classes=num_classes, anchors=anchors[:k], input_size=cfg.input_size, grid=2 * cfg.grid))


def _float(layer: nn.Module, x: torch.Tensor, record: dict | None) -> torch.Tensor:
    """A backbone layer's float forward; `record` collects every folded conv's float output (for calibration)."""
    if isinstance(layer, ResidualBlock):
        mid = _float(layer.conv1, x, record)
        y = layer.conv2.forward_float(mid, x)
        conv = layer.conv2
    elif isinstance(layer, FoldedConvBNReLU):
        y, conv = layer.forward_float(x), layer
    else:
        return layer(x)
    if record is not None:
        record.setdefault(conv, []).append(y.flatten())
    return y


class QuantDetector(nn.Module):
    """Train-time detector. `quantized=False` runs the float network (warm-up), True runs QAT."""

    def __init__(self, cfg: ModelConfig, names: list[str]) -> None:
        super().__init__()
        self.cfg = cfg
        self.names = list(names)
        self.input_quant = qnn.QuantIdentity(act_quant=PixelQuant, return_quant_tensor=True)
        layers: list[nn.Module] = []
        channels = 3
        for spec in cfg.layers:
            bits = spec.weight_bits or cfg.weight_bits
            if spec.type == "conv":
                layers.append(FoldedConvBNReLU(channels, spec.channels, spec.kernel, spec.stride, bits,
                                               cfg.act_bits, cfg.scaling))
                channels = spec.channels
            elif spec.type == "residual":
                layers.append(ResidualBlock(channels, spec.channels, spec.kernel, bits, cfg.act_bits, cfg.scaling))
            else:
                layers.append(nn.MaxPool2d(spec.kernel, spec.kernel))
        self.backbone = nn.ModuleList(layers)
        self.head_specs = head_specs(cfg, len(names))
        self.head_spec = self.head_specs[0]
        self.head = QuantHead(channels, self.head_spec.channels, cfg.head_weight_bits, cfg.scaling)
        if cfg.two_scale is not None:
            two = cfg.two_scale
            self.route = two.route
            self.lateral = FoldedConvBNReLU(channels, two.lateral, 1, 1, cfg.weight_bits, cfg.act_bits, cfg.scaling)
            self.upsample, self.concat = NearestUpsample(), ChannelConcat()
            self.fine = FoldedConvBNReLU(two.lateral + cfg.channels_after(two.route), two.fine, 3, 1,
                                         cfg.weight_bits, cfg.act_bits, cfg.scaling)
            self.fine_head = QuantHead(two.fine, self.head_specs[1].channels, cfg.head_weight_bits, cfg.scaling)
            self.share_concat_quantizer()
        self.register_buffer("quantized", torch.tensor(False))
        for head, spec in zip(self.heads, self.head_specs):
            _init_head_bias(head, spec)

    @property
    def heads(self) -> list[QuantHead]:
        """The heads in output order (head_specs' order)."""
        return [self.head, self.fine_head] if self.cfg.two_scale is not None else [self.head]

    def _route_layer(self) -> FoldedConvBNReLU:
        layer = self.backbone[self.route]
        return layer.conv2 if isinstance(layer, ResidualBlock) else layer

    def share_concat_quantizer(self) -> None:
        """The lateral 1x1 conv uses the route layer's QuantReLU (again after calibrate() replaced it), so both
        inputs of the concat carry one activation scale (exact in FewdIF)."""
        self.lateral.act = self._route_layer().act

    def _forward_float(self, x: torch.Tensor, record: dict | None = None) -> torch.Tensor | tuple[torch.Tensor, ...]:
        routed = x
        for i, layer in enumerate(self.backbone):
            x = _float(layer, x, record)
            if i == getattr(self, "route", -1):
                routed = x
        if self.cfg.two_scale is None:
            return self.head.forward_float(x)
        joined = torch.cat((self.upsample(_float(self.lateral, x, record)), routed), dim=1)
        return self.head.forward_float(x), self.fine_head.forward_float(_float(self.fine, joined, record))

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        """The head output [B, K, G, G]; with two heads a (coarse, fine) tuple."""
        if not bool(self.quantized):
            return self._forward_float(x)
        return _quantized_forward(self, x)

    @torch.no_grad()
    def start_qat(self, batches: list[torch.Tensor]) -> None:
        """Switch to QAT, initialising each activation scale to minimise quantization error on float activations."""
        was_training = self.training
        self.eval()
        acts: dict[FoldedConvBNReLU, list[torch.Tensor]] = {}
        for x in batches:
            self._forward_float(x, acts)
        for layer, outputs in acts.items():
            if self.cfg.two_scale is not None and layer is self.lateral:
                continue  # shares the route layer's quantizer
            values = torch.cat(outputs)
            sample = values[torch.randperm(values.numel(), generator=torch.Generator().manual_seed(0))[:200000]]
            scale = best_act_scale(sample.float().cpu(), self.cfg.act_bits, self.cfg.scaling == "po2")
            layer.calibrate(scale * (1 << self.cfg.act_bits))
        if self.cfg.two_scale is not None:
            self.share_concat_quantizer()
        self.quantized.fill_(True)
        self.train(was_training)

    def freeze_bn(self) -> None:
        for layer in self.modules():
            if isinstance(layer, FoldedConvBNReLU):
                layer.bn_frozen = True

    @torch.no_grad()
    def deploy(self) -> nn.Module:
        """The exportable network: input quant, folded QuantConv2d + QuantReLU, max-pools, residual blocks, head
        (nn.Sequential); with two heads a DeployedTwoScaleDetector returning (coarse, fine)."""
        if not bool(self.quantized):
            raise RuntimeError("deploy() needs a quantized (QAT) model; call start_qat first")
        if self.cfg.two_scale is not None:
            return DeployedTwoScaleDetector(self).eval()
        modules: list[nn.Module] = [self.input_quant]
        for layer in self.backbone:
            if isinstance(layer, FoldedConvBNReLU):
                modules.extend(layer.deploy())
            elif isinstance(layer, ResidualBlock):
                modules.append(layer.deploy())
            else:
                modules.append(layer)
        modules.append(self.head.conv)
        return nn.Sequential(*modules).eval()


def _init_head_bias(head: QuantHead, spec: HeadSpec) -> None:
    """Objectness prior as in YOLOv5: about 8 objects per 640x640 image."""
    with torch.no_grad():
        bias = head.conv.bias.view(spec.num_anchors, -1)
        bias[:, 4] = math.log(8 / (640 / spec.stride) ** 2)
        bias[:, 5:] = math.log(0.6 / (spec.num_classes - 0.99))


def _quantized_forward(m: QuantDetector | DeployedTwoScaleDetector, x):
    """The quantized forward pass (QAT, or the deployed two-scale network): a head output or (coarse, fine)."""
    q = m.input_quant(x)
    routed = q
    for i, layer in enumerate(m.backbone):
        q = layer(q)
        if i == getattr(m, "route", -1):
            routed = q
    if m.cfg.two_scale is None:
        return m.head(q)
    joined = m.concat(m.upsample(m.lateral(q)), routed)
    return m.head(q), m.fine_head(m.fine(joined))


class DeployedTwoScaleDetector(nn.Module):
    """A two-scale QuantDetector with BN folded: Brevitas layers only, the same quantized forward."""

    def __init__(self, trained: QuantDetector) -> None:
        super().__init__()
        self.cfg, self.route = trained.cfg, trained.route
        self.input_quant = copy.deepcopy(trained.input_quant)
        self.backbone = nn.ModuleList(layer.deploy() if isinstance(layer, (FoldedConvBNReLU, ResidualBlock))
                                      else layer for layer in trained.backbone)
        self.lateral, self.fine = trained.lateral.deploy(), trained.fine.deploy()
        self.upsample, self.concat = NearestUpsample(), ChannelConcat()
        self.head, self.fine_head = trained.head.conv, trained.fine_head.conv

    def forward(self, x):
        return _quantized_forward(self, x)


def best_act_scale(values: torch.Tensor, bits: int, power_of_two: bool) -> float:
    """Activation scale with the least mean squared quantization error (over powers of two, or a float grid)."""
    levels = (1 << bits) - 1
    top = float(values.max().clamp_min(1e-6))
    if power_of_two:
        exponents = range(math.floor(math.log2(top / levels)) - 6, math.ceil(math.log2(top)) + 1)
        candidates = [2.0**e for e in exponents]
    else:
        candidates = [top / levels * f for f in torch.linspace(0.05, 1.0, 60).tolist()]
    errors = [float(((torch.clamp(torch.round(values / c), 0, levels) * c - values) ** 2).mean()) for c in candidates]
    return candidates[min(range(len(candidates)), key=errors.__getitem__)]


def check_supported(model: nn.Module) -> None:
    """Raise UnsupportedModuleError naming the first module the FewdIF conversion cannot map."""
    _check(model, "")


def _check(module: nn.Module, name: str) -> None:
    if isinstance(module, (FoldedConvBNReLU, QuantHead, *SUPPORTED_LEAVES)):
        return
    if type(module) in (nn.Sequential, nn.ModuleList, QuantDetector, ResidualBlock, DeployedResidualBlock,
                        DeployedConvAddReLU, DeployedTwoScaleDetector):
        for child_name, child in module.named_children():
            _check(child, f"{name}.{child_name}" if name else child_name)
        return
    raise UnsupportedModuleError(
        f"module '{name or '<root>'}' ({type(module).__name__}) is not supported by the FewdIF conversion; "
        f"supported: conv with foldable batch norm, quantized ReLU (QuantReLU), max-pool (MaxPool2d), residual "
        f"blocks, nearest x2 upsampling, channel concat and conv heads (QuantConv2d), after a QuantIdentity input "
        f"quantizer")
