"""Small quantized detectors for tests: built from a config in code, with non-trivial BN statistics."""

from __future__ import annotations

import torch

from spikeflow.frontend.config import LayerSpec, ModelConfig, TrainSpec
from spikeflow.frontend.model import QuantDetector
from spikeflow.frontend.model.blocks import FoldedConvBNReLU


def small_config(input_size: int = 16, channels: tuple[int, ...] = (4, 8), kernels: tuple[int, ...] | None = None,
                 act_bits: int = 2, weight_bits: int = 4, head_weight_bits: int = 8, pools: tuple[bool, ...] = (),
                 scaling: str = "po2") -> ModelConfig:
    kernels = kernels or tuple(3 for _ in channels)
    pools = pools or tuple(True for _ in channels)
    layers: list[LayerSpec] = []
    for c, k, pool in zip(channels, kernels, pools):
        layers.append(LayerSpec(type="conv", channels=c, kernel=k))
        if pool:
            layers.append(LayerSpec(type="maxpool", kernel=2))
    return ModelConfig(name="small", input_size=input_size, layers=tuple(layers), act_bits=act_bits,
                       weight_bits=weight_bits, head_weight_bits=head_weight_bits, scaling=scaling,
                       train=TrainSpec(val_images=8))


def randomized_detector(cfg: ModelConfig, seed: int = 0, num_classes: int = 2) -> QuantDetector:
    """A QAT detector with random weights, BN statistics and activation scales, in eval mode."""
    gen = torch.Generator().manual_seed(seed)
    model = QuantDetector(cfg, [f"c{i}" for i in range(num_classes)])
    with torch.no_grad():
        for layer in model.backbone:
            if isinstance(layer, FoldedConvBNReLU):
                c = layer.bn.num_features
                layer.conv.weight.normal_(0, 0.3, generator=gen)
                layer.bn.weight.uniform_(0.5, 2.0, generator=gen)
                layer.bn.bias.normal_(0, 0.5, generator=gen)
                layer.bn.running_mean.normal_(0, 0.5, generator=gen)
                layer.bn.running_var.uniform_(0.2, 3.0, generator=gen)
                assert c > 0
        model.head.conv.weight.normal_(0, 0.2, generator=gen)
        model.head.conv.bias.normal_(0, 0.5, generator=gen)
    calib = torch.randint(0, 256, (4, 3, cfg.input_size, cfg.input_size), generator=gen).float() / 256
    model.start_qat([calib])
    return model.eval()


def random_frames(cfg: ModelConfig, count: int, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (count, 3, cfg.input_size, cfg.input_size), generator=gen, dtype=torch.uint8)
