"""The project's one letterbox: geometry, the box mapping, its three resample back ends and how one is chosen, and
the dataset readers' pixels being the runtime's."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from spikeflow_runtime.errors import ConfigError, FrameError, ToolMissingError
from spikeflow_runtime.letterbox import (
    Letterbox,
    backend_installed,
    letterbox,
    letterbox_backend,
    open_rgb,
    to_8bit,
    use_letterbox_backend,
)

from spikeflow.data import YoloDataset, letterbox_image
from tests.conftest import IN_CI
from tests.data.images import photo, photo16

BILINEAR = Image.Resampling.BILINEAR
HAS_CV2 = backend_installed("opencv")


@pytest.fixture(autouse=True)
def automatic_backend():
    use_letterbox_backend(None)
    yield
    use_letterbox_backend(None)


@pytest.fixture(scope="module")
def photo640() -> np.ndarray:
    """A real photograph as a 640x480 camera frame."""
    return np.ascontiguousarray(np.asarray(photo().resize((640, 480))))


def reference_letterbox(image: np.ndarray, size: int, fill: int = 114) -> np.ndarray:
    """The letterbox written out here with Pillow: bilinear with reducing_gap=1.0, pasted centred on grey (HWC)."""
    h, w = image.shape[:2]
    scale = min(size / w, size / h)
    nw, nh = max(1, min(size, round(w * scale))), max(1, min(size, round(h * scale)))
    canvas = Image.new("RGB", (size, size), (fill, fill, fill))
    canvas.paste(Image.fromarray(image).resize((nw, nh), BILINEAR, reducing_gap=1.0), ((size - nw) // 2,
                                                                                       (size - nh) // 2))
    return np.asarray(canvas)


def test_round_trip_random_boxes() -> None:
    rng = np.random.default_rng(0)
    lb = Letterbox(scale=0.37, pad_x=12.0, pad_y=0.0, orig_w=640, orig_h=480)
    xy = rng.uniform(0, 480, (50, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(1, 100, (50, 2))], 1)
    assert np.allclose(lb.to_original(lb.to_input(boxes)), boxes)
    assert lb.to_input(np.zeros((0, 4))).shape == (0, 4)


# OpenCV is pinned in requirements.txt: under CI=true its tests run (a missing cv2 fails them); elsewhere they skip
NO_CV2 = pytest.mark.skipif(not HAS_CV2 and not IN_CI, reason="OpenCV is not installed")
BACKENDS = ["pillow", "numpy", pytest.param("opencv", marks=NO_CV2)]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("w", "h"), [(100, 50), (30, 90), (64, 64), (200, 200), (640, 480)])
def test_padding_is_centred(backend: str, w: int, h: int) -> None:
    image = np.zeros((h, w, 3), np.uint8)
    image[...] = (200, 10, 10)
    frame, lb = letterbox(image, 64, backend=backend)
    assert frame.shape == (64, 64, 3) and frame.dtype == np.uint8 and frame.flags.c_contiguous
    assert lb.orig_w == w and lb.orig_h == h
    assert lb.scale == pytest.approx(min(64 / w, 64 / h))
    ys, xs = np.nonzero(frame[..., 0] > 150)  # the red image, not the grey padding
    left, right, top, bottom = xs.min(), 63 - xs.max(), ys.min(), 63 - ys.max()
    assert abs(left - right) <= 1 and abs(top - bottom) <= 1
    assert (left, top) == (lb.pad_x, lb.pad_y)
    corners = lb.to_input(np.array([[0.0, 0.0, w, h]]))[0]
    assert corners == pytest.approx([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], abs=0.51)
    if left > 0 or top > 0:
        assert (frame[0, 0] == 114).all()


def test_an_image_already_at_the_size_is_returned_as_it_is() -> None:
    image = np.asarray(photo().resize((64, 64)))
    frame, lb = letterbox(image, 64)
    assert frame is image and lb == Letterbox.identity(64)


def test_pillow_backend_is_the_reference_letterbox(photo640: np.ndarray) -> None:
    for size in (256, 64, 640):
        frame, _ = letterbox(photo640, size, backend="pillow")
        assert np.array_equal(frame, reference_letterbox(photo640, size)), size
    grey_fill, _ = letterbox(photo640, 100, fill=0)
    assert (grey_fill[:12] == 0).all() and np.array_equal(grey_fill, reference_letterbox(photo640, 100, fill=0))


@pytest.mark.parametrize("size", [256, 64, 97])
def test_numpy_backend_is_pillows_bilinear_filter(photo640: np.ndarray, size: int) -> None:
    """Same geometry as Pillow; pixels equal to Pillow's bilinear resample without pre-reduction (up to 1 where a
    Pillow version orders the two passes the other way), close to the default back end's."""
    by_pillow, box_pillow = letterbox(photo640, size, backend="pillow")
    by_numpy, box_numpy = letterbox(photo640, size, backend="numpy")
    assert box_numpy == box_pillow and by_numpy.shape == by_pillow.shape == (size, size, 3)
    nw, nh = round(640 * box_numpy.scale), round(480 * box_numpy.scale)
    fair = np.asarray(Image.fromarray(photo640).resize((nw, nh), BILINEAR)).astype(int)
    content = by_numpy[int(box_numpy.pad_y):int(box_numpy.pad_y) + nh, :nw].astype(int)
    assert np.abs(content - fair).max() <= 1
    diff = np.abs(by_numpy.astype(int) - by_pillow)
    assert diff.mean() < 3.0 and np.percentile(diff, 99) <= 24


def test_numpy_backend_enlarges_like_pillow() -> None:
    small = np.asarray(photo().resize((30, 40)))
    frame, box = letterbox(small, 64, backend="numpy")
    fair = np.asarray(Image.fromarray(small).resize((48, 64), BILINEAR)).astype(int)
    assert box.pad_x == 8.0 and np.abs(frame[:, 8:56].astype(int) - fair).max() <= 1
    assert np.array_equal(frame, letterbox(small, 64, backend="pillow")[0])  # no pre-reduction when enlarging


@NO_CV2
def test_opencv_backend_is_close_to_pillow(photo640: np.ndarray) -> None:
    by_cv, box_cv = letterbox(photo640, 256, backend="opencv")
    by_pillow, box_pillow = letterbox(photo640, 256, backend="pillow")
    assert box_cv == box_pillow and np.abs(by_cv.astype(int) - by_pillow).mean() < 3.0


def test_backend_choice_is_explicit(photo640: np.ndarray) -> None:
    assert letterbox_backend() == "pillow" and letterbox_backend("numpy") == "numpy"
    use_letterbox_backend("numpy")
    assert letterbox_backend() == "numpy"
    assert np.array_equal(letterbox(photo640, 64)[0], letterbox(photo640, 64, backend="numpy")[0])
    assert not np.array_equal(letterbox(photo640, 64)[0], letterbox(photo640, 64, backend="pillow")[0])
    use_letterbox_backend(None)
    assert letterbox_backend() == "pillow"
    with pytest.raises(ConfigError, match="choose one of pillow, opencv, numpy"):
        use_letterbox_backend("magick")


def test_without_pillow_the_fallback_is_chosen_and_pillow_is_named(monkeypatch: pytest.MonkeyPatch,
                                                                    photo640: np.ndarray) -> None:
    monkeypatch.setitem(sys.modules, "PIL", None)  # import PIL raises ImportError
    monkeypatch.setitem(sys.modules, "cv2", None)
    assert letterbox_backend() == "numpy"
    frame, _ = letterbox(photo640, 64)
    assert frame.shape == (64, 64, 3)
    with pytest.raises(ToolMissingError, match=r"pip install Pillow"):
        letterbox(photo640, 64, backend="pillow")
    with pytest.raises(ToolMissingError, match=r"pip install opencv-python-headless"):
        use_letterbox_backend("opencv")
    with pytest.raises(ToolMissingError, match=r"reading an image file needs the Python package Pillow"):
        open_rgb("any.png")


@pytest.mark.parametrize("bad", [np.zeros((20, 30, 3), np.float32), np.zeros((20, 30), np.uint8),
                                 np.zeros((0, 30, 3), np.uint8)])
def test_letterbox_takes_uint8_rgb_only(bad: np.ndarray) -> None:
    with pytest.raises(FrameError, match="expected a uint8 HxWx3 image"):
        letterbox(bad, 32)


def test_dataset_letterbox_is_the_runtime_letterbox_transposed(photo640: np.ndarray) -> None:
    for image in (photo640, photo640[:300, :123]):
        chw, box = letterbox_image(Image.fromarray(image), 64)
        frame, runtime_box = letterbox(np.ascontiguousarray(image), 64)
        assert box == runtime_box and chw.shape == (3, 64, 64) and chw.flags.c_contiguous
        assert np.array_equal(chw, frame.transpose(2, 0, 1))


def test_yolo_reader_gives_the_runtime_pixels(tmp_path: Path) -> None:
    """A training sample and the device's frame of the same file are the same pixels."""
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    photo().resize((160, 120)).save(tmp_path / "images" / "a.jpg", quality=90)
    (tmp_path / "labels" / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (tmp_path / "data.yaml").write_text(yaml.safe_dump({"train": "images", "val": "images", "names": ["face"]}))
    sample = YoloDataset(tmp_path / "data.yaml", "train", 48)[0]
    frame, box = letterbox(np.asarray(open_rgb(tmp_path / "images" / "a.jpg")), 48)
    assert sample.letterbox == box and np.array_equal(sample.image, frame.transpose(2, 0, 1))


def test_16bit_greyscale_keeps_its_top_8_bits() -> None:
    grey16 = photo16()[..., 0]
    im = Image.fromarray(grey16.astype(np.uint16))
    assert im.mode.startswith("I;16")
    assert np.array_equal(np.asarray(to_8bit(im)), (grey16 >> 8).astype(np.uint8))
    rgb = Image.new("RGB", (3, 2))
    assert to_8bit(rgb) is rgb
