"""Reference models of the RTL library modules for the testbenches; importable without a simulator.

Stream packing is not defined here: it is spikeflow.hw.stream's (StreamFormat, pack_fields, unpack_fields).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from spikeflow.hw.stream import StreamFormat, pack_fields, unpack_fields, values_from_payload

__all__ = ["padded_frame", "windows", "neuron", "maxpool", "pack_fields", "unpack_fields", "values_from_payload"]


def padded_frame(fmt: StreamFormat, frame: np.ndarray, beats: int) -> np.ndarray:
    """What the input adapter makes of a frame cut short after `beats` beats: the rest zero-padded."""
    payload = bytearray(fmt.pack_frames(frame))
    payload[beats * fmt.beat_bytes:] = bytes(len(payload) - beats * fmt.beat_bytes)
    return fmt.unpack_frames(bytes(payload))[0]


def windows(image: np.ndarray, kernel: int, stride: int, padding: int) -> np.ndarray:
    """image [C,H,W] -> windows [Ho*Wo, k*k*C] in raster order, element (i*k+j)*C + c (as spikeflow_window)."""
    x = np.pad(image, ((0, 0), (padding, padding), (padding, padding)))
    win = sliding_window_view(x, (kernel, kernel), axis=(1, 2))[:, ::stride, ::stride]  # C,Ho,Wo,k,k
    c, ho, wo = win.shape[:3]
    return win.transpose(1, 2, 3, 4, 0).reshape(ho * wo, kernel * kernel * c)


def neuron(win: np.ndarray, weights: np.ndarray, bias: np.ndarray, thresholds: np.ndarray | None) -> np.ndarray:
    """win [N, n], weights [K, n] (window element order) -> counts [N, K] (or V when thresholds is None)."""
    v = win.astype(np.int64) @ weights.astype(np.int64).T + bias.astype(np.int64)[None]
    if thresholds is None:
        return v
    return (v[:, :, None] >= thresholds[None]).sum(axis=2)


def maxpool(image: np.ndarray, kernel: int, stride: int) -> np.ndarray:
    """image [C,H,W] -> pooled pixels [Ho*Wo, C]."""
    win = sliding_window_view(image, (kernel, kernel), axis=(1, 2))[:, ::stride, ::stride]
    pooled = win.max(axis=(-2, -1))  # C,Ho,Wo
    return pooled.transpose(1, 2, 0).reshape(-1, image.shape[0])
