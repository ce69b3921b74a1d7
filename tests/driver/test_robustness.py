"""Every robustness case of the driver: frames of the wrong size, channels or dtype; a device that does not answer;
results in sequence; a short transfer; a corrupt video frame; Ctrl-C."""

from __future__ import annotations

import json

import numpy as np
import pytest
from spikeflow_runtime.runner import RunOptions, run_source

from spikeflow.cli import main
from spikeflow.driver import DeviceOutput, SourceFrame, open_accelerator, open_source
from spikeflow.driver.backends.golden import GoldenAccelerator
from spikeflow.driver.model import DriverModel
from spikeflow.errors import DeviceTimeoutError, DriverError, FrameError
from tests.backends.rtl.simtools import require_verilator
from tests.driver.builds import SIZE, corrupt_video_frame, scene, write_video


class CountingGolden(GoldenAccelerator):
    """The golden back end, counting what reaches the device."""

    sent = 0

    def _execute(self, frames, payload):
        CountingGolden.sent += len(frames)
        return super()._execute(frames, payload)


@pytest.fixture
def golden(driver_build):
    CountingGolden.sent = 0
    return _opened(CountingGolden, driver_build)


def _opened(cls, build):
    model = DriverModel.of(build.root)
    return cls(model.deployed, driver_model=model)


@pytest.mark.parametrize("bad, match", [
    (np.zeros((20, 30, 3), np.float32), "must be uint8"),
    (np.zeros((20, 30, 3), np.uint16), "must be uint8"),
    (np.zeros((20, 30, 2), np.uint8), "shape \\[20, 30, 2\\]"),
    (np.zeros((2, 20, 30, 3), np.uint8), "shape"),
    (np.zeros((0, 30, 3), np.uint8), "empty image"),
], ids=["float", "uint16", "two-channels", "4d", "empty"])
def test_bad_frames_are_rejected_before_anything_is_sent(golden, bad, match):
    with pytest.raises(FrameError, match=match):
        golden.detect([scene(0), bad])
    assert CountingGolden.sent == 0


def test_infer_rejects_a_frame_not_at_the_input_size(golden):
    with pytest.raises(FrameError, match="uint8 frames"):
        golden.infer(np.zeros((1, 3, SIZE + 1, SIZE), np.uint8))
    with pytest.raises(FrameError, match="uint8 frames"):
        golden.infer(np.zeros((1, 3, SIZE, SIZE), np.int32))
    assert CountingGolden.sent == 0


def test_other_sizes_and_grey_or_rgba_images_are_letterboxed(golden):
    rgba = np.dstack([scene(4), np.full((24, 32), 9, np.uint8)])
    images = [scene(1, 50, 20), scene(2, 7, 90), scene(3)[..., 0], rgba]
    dets = golden.detect(images)
    assert len(dets) == 4 and CountingGolden.sent == 4
    frame = golden.prepare(scene(1, 50, 20)).frame
    assert frame.shape == (SIZE, SIZE, 3) and frame.dtype == np.uint8  # stream order: HWC
    ready = golden.prepare(frame)  # a letterboxed frame goes as it is
    assert ready.frame is frame and ready.letterbox.scale == 1.0
    chw = golden.prepare(np.ascontiguousarray(frame.transpose(2, 0, 1)))  # and a CHW one, transposed
    assert np.array_equal(chw.frame, frame) and chw.letterbox.scale == 1.0
    for d in (x for per in golden.detect([scene(5, 50, 20)]) for x in per):
        assert 0 <= d.box[0] <= d.box[2] <= 20 and 0 <= d.box[1] <= d.box[3] <= 50  # original pixels


def test_a_rejected_frame_in_a_stream_is_reported_and_the_stream_goes_on(golden, capsys):
    frames = [scene(0), scene(1).astype(np.float32), scene(2)]
    results = list(golden.stream_results(_source(frames)))
    assert [r.index for r in results] == [0, 1, 2] and results[1].error and not results[2].error
    assert "frame 1" in capsys.readouterr().err


def test_rtlsim_device_that_does_not_answer_raises(driver_build):
    require_verilator()
    acc = open_accelerator(driver_build.root, "rtlsim", max_cycles=50)
    with pytest.raises(DeviceTimeoutError, match="did not finish within 50 cycles"):
        acc.infer(np.zeros((2, 3, SIZE, SIZE), np.uint8))


def test_the_timeout_follows_the_expected_cycles(golden):
    assert golden.timeout_s(1) >= 2.0
    many = golden.timeout_s(1_000_000)
    from spikeflow.hw.cycles import limits_from_estimate

    expected = (limits_from_estimate(golden.model.estimated_cycles_per_frame, 1_000_000).run
                / (golden.model.clock_mhz * 1e6))
    assert many == pytest.approx(expected)


class ShortDevice(GoldenAccelerator):
    def _execute(self, frames, payload):
        out = super()._execute(frames, payload)
        return DeviceOutput(out.payload[:-4])


class MissingFrameDevice(GoldenAccelerator):
    def _execute(self, frames, payload):
        return DeviceOutput(super()._execute(frames, payload).payload, frames_out=len(frames) - 1)


@pytest.mark.parametrize("cls, match", [(ShortDevice, "short transfer"), (MissingFrameDevice, "sent 1 frame")])
def test_every_frame_yields_exactly_one_result(driver_build, cls, match):
    acc = _opened(cls, driver_build)
    with pytest.raises(DriverError, match=match):
        acc.infer(np.zeros((2, 3, SIZE, SIZE), np.uint8))


def test_sequence_numbers_are_checked(golden):
    frames = [SourceFrame(0, "a", scene(0)), SourceFrame(2, "c", scene(2))]
    with pytest.raises(DriverError, match="out of sequence: frame 2 after frame 0"):
        list(golden.stream_results(frames))
    results = list(golden.stream_results(_source([scene(i) for i in range(7)]), batch=3))
    assert [r.index for r in results] == list(range(7))


def test_a_corrupt_video_frame_is_reported_and_skipped(golden, tmp_path, capsys):
    good = write_video(tmp_path / "good.avi", 12)
    bad = corrupt_video_frame(good, 5, tmp_path / "bad.avi")
    results = list(golden.stream_results(open_source(bad)))
    assert [r.index for r in results] == list(range(12))
    assert [r.index for r in results if r.error] == [5] and "corrupt video frame" in results[5].error
    assert "frame 5" in capsys.readouterr().err
    clean = list(golden.stream_results(open_source(good)))
    for a, b in zip(results, clean, strict=True):
        if not a.error:
            assert np.array_equal(a.values, b.values)  # the frames around it are decoded as in the clean video
    assert [i for i, _ in golden.stream(open_source(bad))] == [i for i in range(12) if i != 5]


def test_ctrl_c_stops_cleanly_and_keeps_what_was_written(driver_build, tmp_path):
    def interrupted():
        for i in range(100):
            if i == 5:
                raise KeyboardInterrupt
            yield SourceFrame(i, f"f{i}", scene(i))

    out = tmp_path / "det.jsonl"
    opts = RunOptions("-", out=out, save_images=tmp_path / "img", batch=2, progress=False)
    with pytest.raises(KeyboardInterrupt):
        run_source(open_accelerator(driver_build.root, "golden"), opts, source=interrupted())
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [d["frame"] for d in lines] == [0, 1, 2, 3]  # frame 4 was waiting for its batch when Ctrl-C came
    assert len(list((tmp_path / "img").glob("*.jpg"))) == 4


def test_ctrl_c_in_the_cli_exits_130(driver_build, tmp_path, monkeypatch):
    import spikeflow.driver.run as run_module

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "run_command", interrupt)
    assert main(["run", str(driver_build.root), "--source", str(tmp_path), "--no-progress"]) == 130


def test_bad_source_and_backend_are_user_errors(driver_build, tmp_path):
    assert main(["run", str(driver_build.root), "--source", str(tmp_path / "missing.mp4"), "--no-progress"]) == 2
    assert main(["run", str(tmp_path), "--source", str(tmp_path), "--no-progress"]) == 2


def _source(images):
    for i, im in enumerate(images):
        yield SourceFrame(i, f"f{i}", im)
