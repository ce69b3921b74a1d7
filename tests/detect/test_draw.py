from pathlib import Path

import numpy as np
from PIL import Image

from spikeflow.detect import Detections, draw_detections
from spikeflow.detect.draw import class_color


def test_draw_writes_png_grid(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 60, (3, 16, 20), dtype=np.uint8) for _ in range(3)]
    det = Detections(
        np.array([[2, 2, 12, 10], [4, 4, 8, 8]], np.float32),
        np.array([0.87, 0.1], np.float32),
        np.array([1, 0]),
    )
    dets = [det, Detections.empty(), det]
    gt = [(np.array([[3, 3, 10, 12]], np.float32), np.array([1]))] * 3
    out = draw_detections(
        images, dets, ["cat", "dog"], tmp_path / "sub" / "grid.png", ground_truth=gt, cols=2
    )
    assert out == tmp_path / "sub" / "grid.png" and out.exists()
    with Image.open(out) as im:
        assert im.format == "PNG"
        assert im.size == (2 * 20 * 4, 2 * 16 * 4)
        pix = np.asarray(im.convert("RGB"))
    assert (pix == class_color(1)).all(axis=-1).any()  # predicted box drawn in its class colour
    assert not (pix == class_color(0)).all(axis=-1).any()  # below score threshold: not drawn
    assert (pix == 255).all(axis=-1).any()  # white ground truth


def test_draw_grayscale_single_row(tmp_path: Path) -> None:
    images = [np.zeros((1, 8, 8), np.uint8)] * 2
    out = draw_detections(images, [Detections.empty()] * 2, ["x"], str(tmp_path / "g.png"), scale=2)
    with Image.open(out) as im:
        assert im.size == (2 * 8 * 2, 8 * 2)
