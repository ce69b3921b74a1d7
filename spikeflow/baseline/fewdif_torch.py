"""The FewdIF network of an IR run in PyTorch, count mode: one convolution and a threshold count per layer, on
the IR's DAG (residual adds, concats, upsamplers, forks, several heads).

Values are integers held in float tensors. A layer runs in float32 when every partial sum of its convolution
is below 2^24 in magnitude (then any summation order is exact), else in float64. The convolution result is
rounded to the nearest integer before the thresholds are compared, which also absorbs the small errors of
non-exact GPU convolution algorithms (Winograd, FFT); TF32 is switched off while the network runs.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F

from spikeflow.golden.graph import walk
from spikeflow.golden.ops import check_frames, exact_dtype, magnitude_bound
from spikeflow.ir import FewdIFConcat, FewdIFConv, FewdIFHead, FewdIFMaxPool, FewdIFNetwork, FewdIFUpsample, Layer


@contextmanager
def exact_float32():
    """Disable TF32 in matmul and cuDNN convolution for the duration (restored afterwards)."""
    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


class FewdIFTorch(torch.nn.Module):
    """Batched count-mode FewdIF inference on the IR's DAG: `forward` maps uint8 frames [N,C,H,W] to head V (float,
    integral); a tuple of every head's V, in IR order, when the network has several heads.

    Layers run in IR (topological) order on the tensors they name, as the golden model does (spikeflow.golden.count):
    a residual conv adds its shortcut's counts times 2^residual_shift per channel to V before firing, a concat joins
    channels, an upsampler repeats each count on a factor x factor block, a fork is a tensor read twice.
    """

    def __init__(self, net: FewdIFNetwork) -> None:
        super().__init__()
        self.net = net
        for i, layer in enumerate(net.layers):
            if isinstance(layer, FewdIFConv | FewdIFHead):
                bound = magnitude_bound(layer.weights, layer.bias, layer.in_max)
                if isinstance(layer, FewdIFConv) and layer.has_residual:
                    bound += int(layer.residual_max().max())
                dtype = torch.float32 if exact_dtype(bound) is np.float32 else torch.float64
                self.register_buffer(f"w{i}", torch.as_tensor(layer.weights.astype(np.int64)).to(dtype))
                self.register_buffer(f"b{i}", torch.as_tensor(layer.bias.astype(np.int64)).to(dtype))
                if isinstance(layer, FewdIFConv):
                    # V stays within [-bound, bound]: clipping keeps every comparison and makes thresholds exact.
                    th = np.clip(layer.thresholds.astype(np.int64), -bound - 1, bound + 1)
                    self.register_buffer(f"t{i}", torch.as_tensor(th).to(dtype).T.reshape(-1, 1, th.shape[0], 1, 1))
                if isinstance(layer, FewdIFConv) and layer.has_residual:
                    scale = np.left_shift(1, np.asarray(layer.residual_shift, dtype=np.int64))
                    self.register_buffer(f"s{i}", torch.as_tensor(scale).to(dtype).view(1, -1, 1, 1))
        self.index = {layer.name: i for i, layer in enumerate(net.layers)}

    @property
    def device(self) -> torch.device:
        return next(self.buffers()).device

    def _step(self, layer: Layer, xs: list[torch.Tensor]) -> torch.Tensor:
        if isinstance(layer, FewdIFMaxPool):
            return F.max_pool2d(xs[0], layer.kernel, layer.stride)
        if isinstance(layer, FewdIFConcat):
            dtype = max((x.dtype for x in xs), key=lambda d: torch.finfo(d).bits)
            return torch.cat([x.to(dtype) for x in xs], dim=1)
        if isinstance(layer, FewdIFUpsample):
            return xs[0].repeat_interleave(layer.factor, dim=2).repeat_interleave(layer.factor, dim=3)
        i = self.index[layer.name]
        w, b = getattr(self, f"w{i}"), getattr(self, f"b{i}")
        v = torch.round(F.conv2d(xs[0].to(w.dtype), w, None, layer.stride, layer.padding)) + b.view(1, -1, 1, 1)
        if isinstance(layer, FewdIFHead):
            return v
        if layer.has_residual:
            v = v + xs[1].to(w.dtype) * getattr(self, f"s{i}")
        # count = number of thresholds reached; thresholds [T, 1, K, 1, 1] broadcast against V [N, K, H, W]
        th = getattr(self, f"t{i}")
        x = (v >= th[0]).to(w.dtype)
        for j in range(1, th.shape[0]):
            x.add_(v >= th[j])
        return x

    def forward(self, frames: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        with exact_float32():
            outs = walk(self.net, frames, self._step)
        heads = tuple(outs[h.name] for h in self.net.heads)
        return heads[0] if len(heads) == 1 else heads

    @torch.no_grad()
    def run_heads(self, frames: np.ndarray, batch: int = 16) -> list[np.ndarray]:
        """Every head's membrane V as int64 [N, K, Gh, Gw], like `spikeflow.golden.run_counts_heads`."""
        frames = check_frames(self.net, frames)
        outs: list[list[np.ndarray]] = [[] for _ in self.net.heads]
        for start in range(0, len(frames), batch):
            x = torch.from_numpy(np.ascontiguousarray(frames[start:start + batch])).to(self.device)
            v = self(x)
            for out, head in zip(outs, v if isinstance(v, tuple) else (v,), strict=True):
                out.append(torch.round(head).to(torch.int64).cpu().numpy())
        return [np.concatenate(out) for out in outs]

    def run(self, frames: np.ndarray, batch: int = 16) -> np.ndarray:
        """Head membrane V as int64 [N, K, Gh, Gw] of a single-head network, like `spikeflow.golden.run_counts`
        (several heads: run_heads)."""
        self.net.head  # noqa: B018 - raises IRError naming the heads when there are several
        return self.run_heads(frames, batch)[0]
