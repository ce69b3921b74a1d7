"""A small build folder for the driver tests: a random IR with a detection head (3 anchors x (5 + 2 classes)) and
its RTL, and frames and videos made in the test."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from spikeflow.backends.rtl import generate_rtl
from spikeflow.flow.builddir import BuildDir
from spikeflow.ir import IRMeta
from spikeflow.ir.random import random_network

SIZE = 16


def small_driver_build(root: Path) -> BuildDir:
    net = random_network(np.random.default_rng(7), input_shape=(3, SIZE, SIZE), channels=(4, 8),
                         pool_after=(True, True), head_channels=21, name="drivernet")
    net = dataclasses.replace(net, meta=IRMeta(names=("cat", "dog"), anchors=((3.0, 3.0), (6.0, 6.0), (10.0, 10.0))))
    build = BuildDir(root)
    net.save(build.ir)
    generate_rtl(net, build.rtl)
    return build


def scene(i: int, h: int = 24, w: int = 32) -> np.ndarray:
    """An RGB frame HxWx3 that changes with i: a moving bright square on a coloured background."""
    img = np.zeros((h, w, 3), np.uint8)
    img[..., 0] = (i * 37) % 256
    img[..., 2] = (255 - i * 11) % 256
    x = (i * 3) % (w - 8)
    img[4:12, x:x + 8] = 250
    return img


def write_video(path: Path, count: int, codec: str = "mjpeg") -> Path:
    import imageio.v2 as imageio

    writer = imageio.get_writer(str(path), format="FFMPEG", codec=codec, fps=10, quality=8, macro_block_size=1)
    for i in range(count):
        writer.append_data(scene(i))
    writer.close()
    return path


def corrupt_video_frame(path: Path, frame: int, out: Path) -> Path:
    """Copy an MJPEG video with the entropy-coded data of one frame overwritten with random bytes."""
    import random

    data = bytearray(path.read_bytes())
    soi = [i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0xD8]
    start, end = soi[frame], soi[frame + 1]
    scan = data.index(b"\xff\xda", start)
    rng = random.Random(1)
    for j in range(scan + 20, end - 40):
        data[j] = rng.randrange(256)
    out.write_bytes(bytes(data))
    return out
