"""DriverModel.of and the deploy folder on a build with two heads: the IR's anchors (head after head) split over the
heads by their channel counts, model.json round-trips with both heads, and replay.npz records both heads' golden
values in stream order."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from spikeflow_runtime.backends.replay import REPLAY_FILE, Recording
from spikeflow_runtime.model import DeployedModel

from spikeflow.driver.deploy import write_deploy_folder
from spikeflow.driver.model import DriverModel
from spikeflow.errors import StepError
from spikeflow.flow.builddir import BuildDir
from spikeflow.flow.frames import FrameSet
from spikeflow.golden import run_counts_heads
from spikeflow.ir import IRMeta
from tests.driver.test_heads import _two_head_net

ANCHORS = ((2.0, 2.0), (6.0, 6.0))  # one anchor per 6-channel head (5 + 1 class)


def _build(root: Path, anchors: tuple[tuple[float, float], ...] = ANCHORS) -> BuildDir:
    net = dataclasses.replace(_two_head_net(), meta=IRMeta(names=("obj",), anchors=anchors))
    build = BuildDir(root)
    net.save(build.ir)
    return build


def test_driver_model_of_a_two_head_build(tmp_path: Path) -> None:
    build = _build(tmp_path / "b")
    model = DriverModel.of(build.root)
    d = model.deployed
    assert len(d.heads) == 2 and d.head == d.heads[0]
    assert [h.anchors for h in d.heads] == [(ANCHORS[0],), (ANCHORS[1],)]
    assert [(h.channels, h.grid, h.grid) for h in d.heads] == list(d.stream.head_shapes) == model.net.output_shapes
    assert [h.out_scale for h in d.heads] == [tuple(float(s) for s in h.out_scale) for h in model.net.heads]
    assert DeployedModel.from_dict(d.to_dict()) == d


def test_anchors_that_do_not_split_over_the_heads(tmp_path: Path) -> None:
    build = _build(tmp_path / "b", anchors=ANCHORS + ((9.0, 9.0),))
    with pytest.raises(StepError, match=r"network\.json: 3 anchors do not split over heads of \[6, 6\] channels"):
        DriverModel.of(build.root)


def test_deploy_folder_of_a_two_head_build(tmp_path: Path) -> None:
    build = _build(tmp_path / "b")
    net = DriverModel.of(build.root).net
    frames = np.random.default_rng(3).integers(0, 256, size=(3, *net.input_shape), dtype=np.uint8)
    FrameSet(frames, np.zeros((0, 4), np.float32), np.zeros(0, np.int64), np.zeros(0, np.int64), ["random"] * 3,
             "synthetic").save(build.frames)
    out = write_deploy_folder(build)
    deployed = DeployedModel.load(out)
    assert len(deployed.heads) == 2
    fmt = deployed.stream
    rec = Recording.load(out / REPLAY_FILE, fmt.values_per_frame, fmt.value_dtype)
    want = fmt.pack_values(run_counts_heads(net, frames))
    assert want.shape == (3, sum(k * g * g for k, g, _ in fmt.head_shapes))
    np.testing.assert_array_equal(rec.outputs, want)
