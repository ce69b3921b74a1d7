import numpy as np
import pytest
import torch

from spikeflow.data import SampleLoader, SyntheticDetection, build_dataset, collate
from spikeflow.data.synthetic import MAX_SIDE, MIN_SIDE, NAMES


def test_same_index_is_identical() -> None:
    a, b = SyntheticDetection("train", 64, 10, seed=3), SyntheticDetection("train", 64, 10, seed=3)
    for i in (0, 7):
        sa, sb = a[i], b[i]
        assert np.array_equal(sa.image, sb.image)
        assert np.array_equal(sa.boxes, sb.boxes)
        assert np.array_equal(sa.labels, sb.labels)
        assert sa.source == f"synthetic:train:{i}"


def test_index_independent_of_access_order() -> None:
    ds = SyntheticDetection("train", 64, 10)
    first = ds[5].image
    _ = [ds[i] for i in range(10)]
    assert np.array_equal(ds[5].image, first)


def test_seeds_splits_and_indices_differ() -> None:
    base = SyntheticDetection("train", 64, 4, seed=0)[0].image
    assert not np.array_equal(base, SyntheticDetection("train", 64, 4, seed=1)[0].image)
    assert not np.array_equal(base, SyntheticDetection("val", 64, 4, seed=0)[0].image)
    assert not np.array_equal(base, SyntheticDetection("train", 64, 4, seed=0)[1].image)


@pytest.mark.parametrize("size", [64, 256])
def test_samples_are_well_formed(size: int) -> None:
    ds = SyntheticDetection("val", size, 40 if size == 64 else 10)
    assert ds.names == NAMES and ds.input_size == size and not ds.report.skipped
    for s in (ds[i] for i in range(len(ds))):
        assert s.image.dtype == np.uint8 and s.image.shape == (3, size, size)
        assert s.boxes.dtype == np.float32 and s.labels.dtype == np.int64
        assert 1 <= len(s.labels) <= 6 and s.boxes.shape == (len(s.labels), 4)
        assert ((s.labels >= 0) & (s.labels < len(NAMES))).all()
        assert (s.boxes >= 0).all() and (s.boxes <= size).all()
        wh = s.boxes[:, 2:] - s.boxes[:, :2]
        assert (wh > 0).all()
        side = wh.max(1)
        assert (side >= MIN_SIDE * size - 1e-3).all() and (side <= MAX_SIDE * size + 1e-3).all()
        assert s.letterbox.scale == 1 and s.letterbox.pad_x == 0 and s.letterbox.orig_w == size


def test_objects_are_visible_in_the_image() -> None:
    """The pixels inside a box differ from the image-wide statistics: something is drawn there."""
    s = SyntheticDetection("train", 64, 1)[0]
    x0, y0, x1, y1 = s.boxes[-1].round().astype(int)
    inside = s.image[:, y0:y1, x0:x1].reshape(3, -1).astype(float)
    assert inside.std(1).max() > 5 or abs(inside.mean() - s.image.mean()) > 5


def test_out_of_range_index() -> None:
    ds = SyntheticDetection("train", 64, 3)
    with pytest.raises(IndexError):
        ds[3]
    assert np.array_equal(ds[-1].image, ds[2].image)


def test_build_dataset_and_loader() -> None:
    ds = build_dataset(None, "train", 64, synthetic_count=10, seed=1)
    assert isinstance(ds, SyntheticDetection) and len(ds) == 10
    assert isinstance(build_dataset("synthetic", "val", 64, synthetic_count=3), SyntheticDetection)
    images, samples = collate([ds[0], ds[1]])
    assert images.dtype == torch.float32 and images.shape == (2, 3, 64, 64)
    assert torch.equal(images[0] * 256, torch.from_numpy(ds[0].image).float())
    assert len(samples) == 2

    loader = SampleLoader(ds, batch_size=4, shuffle=True, seed=2)
    assert len(loader) == 3 and len(SampleLoader(ds, 4, shuffle=False, seed=0, drop_last=True)) == 2
    order0 = [s.source for _, b in loader for s in b]
    assert sorted(order0) == sorted(f"synthetic:train:{i}" for i in range(10))
    assert [s.source for _, b in loader for s in b] == order0
    loader.set_epoch(1)
    assert [s.source for _, b in loader for s in b] != order0
    plain = SampleLoader(ds, batch_size=4, shuffle=False, seed=0)
    assert [s.source for _, b in plain for s in b] == [f"synthetic:train:{i}" for i in range(10)]
