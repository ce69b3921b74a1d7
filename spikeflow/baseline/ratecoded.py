"""Conventional ANN-to-SNN conversion of the detector's float network: rate-coded IF neurons.

The standard recipe of Diehl et al. 2015 / Rueckauer et al. 2017 (snntoolbox):

- Network: the trained detector's float path. Batch norm folded with its running statistics
  (`FoldedConvBNReLU.folded`), float weights, plain (unclipped) ReLU, no quantization anywhere.
- Data-based normalisation: lambda_l is the `percentile` (default 99.9 %) of the non-zero ReLU activations of
  conv layer l on a few calibration images. Weights become W_l * lambda_{l-1} / lambda_l, biases
  b_l / lambda_l (lambda_{-1} = 1 for the analog input), and every threshold is 1; a rate r in [0, 1] then
  stands for the activation r * lambda_l.
- Neurons: integrate-and-fire, reset by subtraction, membrane starting at 0, bias added every timestep.
- Input: the analog image (pixel / 256, as in training) as a constant current every timestep. Its convolution
  is the same at every timestep, so it is computed once and reused (an optimisation in the baseline's favour).
- Max-pool: the gating scheme of Rueckauer et al. 2017: each pooling unit passes on, at every timestep, the
  spike of the input neuron in its window with the largest spike count so far (counts include the current
  timestep; ties go to the first neuron in the window). Its rate converges to the maximum rate in the window,
  unlike an OR of the spike trains, which overestimates it.
- Head: non-spiking. It accumulates W_head * (lambda * spikes) + b_head every timestep; the output after T
  timesteps is the accumulated value divided by T. As the head is linear, the accumulation is computed on the
  summed spikes of each chunk of timesteps, which is the same sum.

Timesteps are simulated in chunks: within a chunk each layer convolves all of the chunk's input spike frames in
one batched call, then runs the IF recurrence and the pooling gate over the chunk (a multi-step schedule that is
faster than layer-by-layer per timestep on both CPU and GPU, again in the baseline's favour).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from spikeflow.frontend.model import QuantDetector
from spikeflow.frontend.model.blocks import FoldedConvBNReLU

DEFAULT_PERCENTILE = 99.9


@dataclass
class FloatConv:
    weight: torch.Tensor  # [K, C, k, k]
    bias: torch.Tensor  # [K]
    stride: int
    padding: int


@dataclass
class FloatPool:
    kernel: int
    stride: int


FloatLayer = FloatConv | FloatPool


@torch.no_grad()
def float_layers(model: QuantDetector) -> tuple[list[FloatLayer], FloatConv]:
    """The detector's float network: folded conv + ReLU layers and max-pools, then the (linear) head."""
    layers: list[FloatLayer] = []
    for layer in model.backbone:
        if isinstance(layer, FoldedConvBNReLU):
            w, b = layer.folded(layer.bn.running_mean, layer.bn.running_var)
            layers.append(FloatConv(w.detach().float().clone(), b.detach().float().clone(),
                                    _int(layer.conv.stride), _int(layer.conv.padding)))
        elif isinstance(layer, nn.MaxPool2d):
            layers.append(FloatPool(_int(layer.kernel_size), _int(layer.stride)))
        else:
            raise TypeError(f"rate-coded conversion: unexpected backbone module {type(layer).__name__}")
    head = model.head.conv
    return layers, FloatConv(head.weight.detach().float().clone(), head.bias.detach().float().clone(), 1, 0)


def _int(value) -> int:
    return int(value[0]) if isinstance(value, tuple | list) else int(value)


@torch.no_grad()
def ann_forward(layers: list[FloatLayer], head: FloatConv, x: torch.Tensor,
                collect: list[torch.Tensor] | None = None) -> torch.Tensor:
    """The float ANN (ReLU after every conv); with `collect`, each conv layer's ReLU output is appended."""
    for layer in layers:
        if isinstance(layer, FloatConv):
            x = F.relu(F.conv2d(x, layer.weight, layer.bias, layer.stride, layer.padding))
            if collect is not None:
                collect.append(x)
        else:
            x = F.max_pool2d(x, layer.kernel, layer.stride)
    return F.conv2d(x, head.weight, head.bias)


@torch.no_grad()
def activation_percentiles(layers: list[FloatLayer], head: FloatConv, images: torch.Tensor,
                           percentile: float = DEFAULT_PERCENTILE) -> list[float]:
    """lambda_l per conv layer: the percentile of its non-zero ReLU activations over the calibration images."""
    acts: list[torch.Tensor] = []
    ann_forward(layers, head, images, acts)
    out = []
    for a in acts:
        values = a[a > 0].double().cpu().numpy()
        out.append(float(np.percentile(values, percentile)) if values.size else 1.0)
    return out


class RateCodedSNN(nn.Module):
    """Rate-coded IF network with normalised weights and unit thresholds; `run` simulates T timesteps."""

    def __init__(self, layers: list[FloatLayer], head: FloatConv, lambdas: list[float],
                 percentile: float = DEFAULT_PERCENTILE) -> None:
        super().__init__()
        self.percentile = percentile
        self.lambdas = list(lambdas)
        self.kinds: list[tuple[str, int, int]] = []  # (kind, stride or kernel, padding or stride)
        prev = 1.0
        convs = iter(lambdas)
        for i, layer in enumerate(layers):
            if isinstance(layer, FloatConv):
                lam = next(convs)
                self.register_buffer(f"w{i}", layer.weight * (prev / lam))
                self.register_buffer(f"b{i}", (layer.bias / lam).view(1, -1, 1, 1))
                self.kinds.append(("conv", layer.stride, layer.padding))
                prev = lam
            else:
                self.kinds.append(("pool", layer.kernel, layer.stride))
        # The head sees spikes standing for activations lambda * s.
        self.register_buffer("head_w", head.weight * prev)
        self.register_buffer("head_b", head.bias.view(1, -1, 1, 1))

    @property
    def device(self) -> torch.device:
        return self.head_w.device

    @torch.no_grad()
    def run(self, x: torch.Tensor, timesteps: int | list[int], chunk: int = 8) -> dict[int, torch.Tensor]:
        """Head outputs after each of `timesteps` (one simulation up to the largest); x: analog images [N,3,H,W]."""
        wanted = sorted({timesteps} if isinstance(timesteps, int) else set(timesteps))
        t_max = wanted[-1]
        state: dict[int, torch.Tensor] = {}
        current0 = None
        head_acc = None
        outputs: dict[int, torch.Tensor] = {}
        t = 0
        while t < t_max:
            nxt = next(w for w in wanted if w > t)
            tc = min(chunk, nxt - t)
            s: torch.Tensor | None = None  # spikes [tc, N, C, H, W] entering the next layer
            for i, (kind, a, b) in enumerate(self.kinds):
                if kind == "conv":
                    w, bias = getattr(self, f"w{i}"), getattr(self, f"b{i}")
                    if s is None:  # first layer: constant analog input current
                        if current0 is None:
                            current0 = F.conv2d(x, w, None, a, b) + bias
                        currents = current0.expand(tc, *current0.shape)
                    else:
                        flat = F.conv2d(s.flatten(0, 1), w, None, a, b)
                        currents = flat.view(tc, -1, *flat.shape[1:]) + bias
                    s = self._integrate_fire(i, currents, state)
                else:
                    s = self._gate_pool(i, s, a, b, state)
            summed = F.conv2d(s.sum(dim=0), self.head_w, None) + tc * self.head_b
            head_acc = summed if head_acc is None else head_acc + summed
            t += tc
            if t in wanted:
                outputs[t] = head_acc / t
        return outputs

    @staticmethod
    def _integrate_fire(i: int, currents: torch.Tensor, state: dict[int, torch.Tensor]) -> torch.Tensor:
        v = state.get(i)
        if v is None:
            v = torch.zeros_like(currents[0])
        out = torch.empty_like(currents)
        for t in range(currents.shape[0]):
            v = v + currents[t]
            spikes = (v >= 1.0).to(v.dtype)
            v = v - spikes
            out[t] = spikes
        state[i] = v
        return out

    @staticmethod
    def _gate_pool(i: int, s: torch.Tensor, kernel: int, stride: int, state: dict[int, torch.Tensor]
                   ) -> torch.Tensor:
        counts = state.get(i)
        if counts is None:
            counts = torch.zeros_like(s[0])
        outs = []
        for t in range(s.shape[0]):
            counts = counts + s[t]
            pooled, idx = F.max_pool2d(counts, kernel, stride, return_indices=True)
            outs.append(s[t].flatten(2).gather(2, idx.flatten(2)).view_as(pooled))
        state[i] = counts
        return torch.stack(outs)


@torch.no_grad()
def convert_detector(model: QuantDetector, calibration: torch.Tensor,
                     percentile: float = DEFAULT_PERCENTILE) -> RateCodedSNN:
    """Rate-coded SNN of a detector; `calibration`: a few analog images (pixel / 256) [N, 3, H, W]."""
    layers, head = float_layers(model)
    lambdas = activation_percentiles(layers, head, calibration.float().cpu(), percentile)
    return RateCodedSNN(layers, head, lambdas, percentile)
