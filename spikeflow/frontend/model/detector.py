"""The compact YOLO-style detector: a plain conv backbone and a single-scale 1x1 head."""

from __future__ import annotations

import math

import brevitas.nn as qnn
import torch
from torch import nn

from spikeflow.detect.head import HeadSpec, default_anchors
from spikeflow.errors import UnsupportedModuleError
from spikeflow.frontend.config import ModelConfig
from spikeflow.frontend.model.blocks import FoldedConvBNReLU, QuantHead
from spikeflow.frontend.model.quantizers import PixelQuant

# Leaf modules the FewdIF conversion can map (folded BN only inside FoldedConvBNReLU).
SUPPORTED_LEAVES: tuple[type, ...] = (qnn.QuantIdentity, qnn.QuantConv2d, qnn.QuantReLU, nn.MaxPool2d,
                                      nn.BatchNorm2d)


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
            if spec.type == "conv":
                layers.append(FoldedConvBNReLU(channels, spec.channels, spec.kernel, spec.stride,
                                               spec.weight_bits or cfg.weight_bits, cfg.act_bits, cfg.scaling))
                channels = spec.channels
            else:
                layers.append(nn.MaxPool2d(spec.kernel, spec.kernel))
        self.backbone = nn.ModuleList(layers)
        self.head_spec = HeadSpec(num_classes=len(names), anchors=default_anchors(cfg.input_size),
                                  input_size=cfg.input_size, grid=cfg.grid)
        self.head = QuantHead(channels, self.head_spec.channels, cfg.head_weight_bits, cfg.scaling)
        self.register_buffer("quantized", torch.tensor(False))
        self._init_head_bias()

    def _init_head_bias(self) -> None:
        """Objectness prior as in YOLOv5: about 8 objects per 640x640 image."""
        spec = self.head_spec
        with torch.no_grad():
            bias = self.head.conv.bias.view(spec.num_anchors, -1)
            bias[:, 4] = math.log(8 / (640 / spec.stride) ** 2)
            bias[:, 5:] = math.log(0.6 / (spec.num_classes - 0.99))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not bool(self.quantized):
            for layer in self.backbone:
                x = layer.forward_float(x) if isinstance(layer, FoldedConvBNReLU) else layer(x)
            return self.head.forward_float(x)
        q = self.input_quant(x)
        for layer in self.backbone:
            q = layer(q)
        return self.head(q)

    @torch.no_grad()
    def start_qat(self, batches: list[torch.Tensor]) -> None:
        """Switch to QAT, initialising each activation scale to minimise quantization error on float activations."""
        was_training = self.training
        self.eval()
        acts: list[list[torch.Tensor]] = [[] for _ in self.backbone]
        for x in batches:
            for i, layer in enumerate(self.backbone):
                x = layer.forward_float(x) if isinstance(layer, FoldedConvBNReLU) else layer(x)
                acts[i].append(x.flatten())
        for i, layer in enumerate(self.backbone):
            if isinstance(layer, FoldedConvBNReLU):
                values = torch.cat(acts[i])
                sample = values[torch.randperm(values.numel(), generator=torch.Generator().manual_seed(0))[:200000]]
                scale = best_act_scale(sample.float().cpu(), self.cfg.act_bits, self.cfg.scaling == "po2")
                layer.calibrate(scale * (1 << self.cfg.act_bits))
        self.quantized.fill_(True)
        self.train(was_training)

    def freeze_bn(self) -> None:
        for layer in self.backbone:
            if isinstance(layer, FoldedConvBNReLU):
                layer.bn_frozen = True

    @torch.no_grad()
    def deploy(self) -> nn.Sequential:
        """The exportable network: input quant, folded QuantConv2d + QuantReLU, max-pools, head."""
        if not bool(self.quantized):
            raise RuntimeError("deploy() needs a quantized (QAT) model; call start_qat first")
        modules: list[nn.Module] = [self.input_quant]
        for layer in self.backbone:
            if isinstance(layer, FoldedConvBNReLU):
                modules.extend(layer.deploy())
            else:
                modules.append(layer)
        modules.append(self.head.conv)
        return nn.Sequential(*modules).eval()


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
    if type(module) in (nn.Sequential, nn.ModuleList, QuantDetector):
        for child_name, child in module.named_children():
            _check(child, f"{name}.{child_name}" if name else child_name)
        return
    raise UnsupportedModuleError(
        f"module '{name or '<root>'}' ({type(module).__name__}) is not supported by the FewdIF conversion; "
        f"supported: conv with foldable batch norm, quantized ReLU (QuantReLU), max-pool (MaxPool2d) and the "
        f"conv head (QuantConv2d), after a QuantIdentity input quantizer")
