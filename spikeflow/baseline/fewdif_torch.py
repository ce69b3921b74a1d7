"""The FewdIF network of an IR run in PyTorch, count mode: one convolution and a threshold count per layer.

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

from spikeflow.golden.ops import check_frames, exact_dtype, magnitude_bound
from spikeflow.ir import FewdIFConv, FewdIFHead, FewdIFNetwork


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
    """Batched count-mode FewdIF inference; `forward` maps uint8 frames [N,C,H,W] to head V (float, integral)."""

    def __init__(self, net: FewdIFNetwork) -> None:
        super().__init__()
        net.require_chain("the torch baseline")
        self.net = net
        self.plan: list[tuple[str, object]] = []
        for i, layer in enumerate(net.layers):
            if isinstance(layer, FewdIFConv | FewdIFHead):
                bound = magnitude_bound(layer.weights, layer.bias, layer.in_max)
                dtype = torch.float32 if exact_dtype(bound) is np.float32 else torch.float64
                self.register_buffer(f"w{i}", torch.as_tensor(layer.weights.astype(np.int64)).to(dtype))
                self.register_buffer(f"b{i}", torch.as_tensor(layer.bias.astype(np.int64)).to(dtype))
                if isinstance(layer, FewdIFConv):
                    # V stays within [-bound, bound]: clipping keeps every comparison and makes thresholds exact.
                    th = np.clip(layer.thresholds.astype(np.int64), -bound - 1, bound + 1)
                    self.register_buffer(f"t{i}", torch.as_tensor(th).to(dtype).T.reshape(-1, 1, th.shape[0], 1, 1))
            self.plan.append((layer.kind, layer))

    @property
    def device(self) -> torch.device:
        return next(self.buffers()).device

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        x = frames
        with exact_float32():
            for i, (kind, layer) in enumerate(self.plan):
                if kind == "maxpool":
                    x = F.max_pool2d(x, layer.kernel, layer.stride)
                    continue
                w, b = getattr(self, f"w{i}"), getattr(self, f"b{i}")
                v = torch.round(F.conv2d(x.to(w.dtype), w, None, layer.stride, layer.padding)) + b.view(1, -1, 1, 1)
                if kind == "head":
                    return v
                # count = number of thresholds reached; thresholds [T, 1, K, 1, 1] broadcast against V [N, K, H, W]
                th = getattr(self, f"t{i}")
                x = (v >= th[0]).to(w.dtype)
                for j in range(1, th.shape[0]):
                    x.add_(v >= th[j])
        raise AssertionError("network has no head")

    @torch.no_grad()
    def run(self, frames: np.ndarray, batch: int = 16) -> np.ndarray:
        """Head membrane V as int64 [N, K, Gh, Gw], like `spikeflow.golden.run_counts`."""
        frames = check_frames(self.net, frames)
        outs = []
        for start in range(0, len(frames), batch):
            x = torch.from_numpy(np.ascontiguousarray(frames[start:start + batch])).to(self.device)
            outs.append(torch.round(self(x)).to(torch.int64).cpu().numpy())
        return np.concatenate(outs)
