import numpy as np
import pytest
from PIL import Image

from spikeflow.data import Letterbox, letterbox_image


def test_round_trip_random_boxes() -> None:
    rng = np.random.default_rng(0)
    lb = Letterbox(scale=0.37, pad_x=12.0, pad_y=0.0, orig_w=640, orig_h=480)
    xy = rng.uniform(0, 480, (50, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(1, 100, (50, 2))], 1)
    assert np.allclose(lb.to_original(lb.to_input(boxes)), boxes)
    assert lb.to_input(np.zeros((0, 4))).shape == (0, 4)


@pytest.mark.parametrize(("w", "h"), [(100, 50), (30, 90), (64, 64), (200, 200)])
def test_padding_is_centred(w: int, h: int) -> None:
    img = Image.new("RGB", (w, h), (200, 10, 10))
    arr, lb = letterbox_image(img, 64)
    assert arr.shape == (3, 64, 64) and arr.dtype == np.uint8
    assert lb.orig_w == w and lb.orig_h == h
    assert lb.scale == pytest.approx(min(64 / w, 64 / h))
    content = (arr[0] > 150).astype(int)  # the red image, not the grey padding
    ys, xs = np.nonzero(content)
    left, right = xs.min(), 63 - xs.max()
    top, bottom = ys.min(), 63 - ys.max()
    assert abs(left - right) <= 1 and abs(top - bottom) <= 1
    assert (left, top) == (lb.pad_x, lb.pad_y)
    corners = lb.to_input(np.array([[0.0, 0.0, w, h]]))[0]
    assert corners == pytest.approx([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], abs=0.51)
    if left > 0 or top > 0:
        assert (arr[:, 0, 0] == 114).all()
