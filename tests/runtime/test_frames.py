"""Frames in: every image the driver takes made into the device's HWC frame, every other one rejected with a
FrameError that names the frame."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from spikeflow_runtime.errors import FrameError
from spikeflow_runtime.frames import prepare_image
from spikeflow_runtime.letterbox import Letterbox, letterbox

from tests.driver.builds import scene

SIZE = 16


@pytest.mark.parametrize("bad, match", [
    (np.zeros((20, 30, 3), np.float32), "must be uint8"),
    (np.zeros((20, 30, 3), np.uint16), "must be uint8"),
    (np.zeros((20, 30, 3), bool), "must be uint8"),
    (np.zeros((20, 30, 2), np.uint8), "shape \\[20, 30, 2\\]"),
    (np.zeros((2, 20, 30, 3), np.uint8), "shape \\[2, 20, 30, 3\\]"),
    (np.zeros(30, np.uint8), "shape \\[30\\]"),
    (np.zeros((0, 30, 3), np.uint8), "empty image"),
    (np.zeros((20, 0), np.uint8), "empty image"),
], ids=["float", "uint16", "bool", "two-channels", "4d", "1d", "empty", "empty-grey"])
def test_bad_images_are_rejected_naming_the_frame(bad, match):
    with pytest.raises(FrameError, match=f"^frame 7 \\(a.png\\): .*{match}"):
        prepare_image(bad, SIZE, where="frame 7 (a.png)")


def test_an_rgb_image_is_letterboxed_to_a_contiguous_hwc_frame():
    image = scene(1, 50, 20)
    ready = prepare_image(image, SIZE)
    expected, box = letterbox(image, SIZE)
    assert ready.frame.shape == (SIZE, SIZE, 3) and ready.frame.flags.c_contiguous
    assert np.array_equal(ready.frame, expected) and ready.letterbox == box
    assert ready.letterbox.orig_w == 20 and ready.letterbox.orig_h == 50 and ready.image is image


@pytest.mark.parametrize("mode", ["L", "LA1", "RGBA"])
def test_grey_and_rgba_images_become_rgb_as_pillow_converts_them(mode):
    rgb = scene(4, 24, 32)
    pil = Image.fromarray(rgb).convert("L" if mode != "RGBA" else "RGBA")
    if mode == "RGBA":
        pil.putalpha(9)
    image = np.asarray(pil)[..., None] if mode == "LA1" else np.asarray(pil)  # HxW, HxWx1 or HxWx4
    ready = prepare_image(image, SIZE)
    as_pillow = np.asarray(pil.convert("RGB"))
    assert ready.image.shape == (24, 32, 3) and np.array_equal(ready.image, as_pillow)
    assert np.array_equal(ready.frame, letterbox(as_pillow, SIZE)[0])


def test_a_letterboxed_chw_frame_goes_as_it_is_in_hwc():
    chw = np.random.default_rng(0).integers(0, 256, (3, SIZE, SIZE), dtype=np.uint8)
    ready = prepare_image(chw, SIZE)
    assert ready.frame.shape == (SIZE, SIZE, 3) and ready.frame.flags.c_contiguous
    assert np.array_equal(ready.frame, chw.transpose(1, 2, 0)) and ready.letterbox == Letterbox.identity(SIZE)
    assert np.array_equal(ready.image, ready.frame)
    grey_model = prepare_image(chw[:1], SIZE, channels=1)
    assert grey_model.frame.shape == (SIZE, SIZE, 1) and grey_model.image.shape == (SIZE, SIZE, 3)


def test_an_hwc_frame_at_the_size_goes_through_without_a_copy():
    hwc = np.ascontiguousarray(scene(2, SIZE, SIZE))
    ready = prepare_image(hwc, SIZE)
    assert ready.frame is hwc and ready.image is hwc and ready.letterbox == Letterbox.identity(SIZE)


def test_a_grey_model_takes_frames_not_images():
    with pytest.raises(FrameError, match="only RGB models take images"):
        prepare_image(scene(0), SIZE, channels=1, where="frame 0")


def test_the_numpy_backend_can_be_asked_for():
    image = scene(3, 50, 20)
    by_numpy = prepare_image(image, SIZE, backend="numpy")
    assert by_numpy.letterbox == prepare_image(image, SIZE).letterbox
    assert np.array_equal(by_numpy.frame, letterbox(image, SIZE, backend="numpy")[0])
