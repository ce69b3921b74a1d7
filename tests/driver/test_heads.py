"""The driver's simulated devices with several heads: the golden, replay and rtlsim back ends write the one output
stream (the heads one after the other per frame), the Accelerator splits it into each head's values and decodes
them together (decode_heads: one NMS over all heads' candidates)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from spikeflow_runtime.decode import HeadParams, decode_heads
from spikeflow_runtime.model import DeployedModel
from spikeflow_runtime.settings import DecodeSettings
from spikeflow_runtime.sources import open_source

from spikeflow.backends.rtl import generate_rtl
from spikeflow.driver.backends.golden import GoldenAccelerator
from spikeflow.driver.backends.replay import GoldenReplayAccelerator
from spikeflow.golden import run_counts_heads
from spikeflow.hw.cycles import cycles_per_frame, estimate_cycles, limits_from_estimate
from spikeflow.hw.folding import default_folding
from spikeflow.hw.stream import stream_format
from spikeflow.ir import FewdIFNetwork
from spikeflow.ir.random import random_dag_network
from tests.backends.rtl.simtools import require_verilator

FRAMES = 6
DECODE = DecodeSettings(conf_threshold=0.01, iou_threshold=0.5, max_det=50)


def _two_head_net() -> FewdIFNetwork:
    """A random two-head DAG whose heads have 6 channels each (1 anchor x (5 + 1 class))."""
    for seed in range(400):
        net = random_dag_network(np.random.default_rng(seed), two_heads=True)
        if all(h.out_shape[0] == 6 for h in net.heads):
            return net
    raise AssertionError("no two-head DAG with 6-channel heads")


def _model(net: FewdIFNetwork) -> DeployedModel:
    size = net.input_shape[1]
    heads = tuple(HeadParams(num_classes=1, anchors=((2.0 + 4 * i, 2.0 + 4 * i),), input_size=size,
                             grid=h.out_shape[1], out_scale=tuple(float(s) for s in h.out_scale), names=("obj",))
                  for i, h in enumerate(net.heads))
    est = cycles_per_frame(estimate_cycles(net, default_folding(net)))
    return DeployedModel(name=net.name, stream=stream_format(net), head=heads[0], clock_mhz=100.0,
                         estimated_cycles_per_frame=est, limit_cycles_per_frame=limits_from_estimate(est, 1).per_frame,
                         heads=heads)


@pytest.fixture(scope="module")
def two_heads():  # noqa: ANN201
    net = _two_head_net()
    frames = np.random.default_rng(5).integers(0, 256, size=(FRAMES, *net.input_shape), dtype=np.uint8)
    return net, _model(net), frames, run_counts_heads(net, frames)


def _check(acc, model: DeployedModel, frames: np.ndarray, golden: list[np.ndarray]) -> None:  # noqa: ANN001
    v = acc.infer(frames)
    assert isinstance(v, list) and len(v) == 2
    assert all(np.array_equal(a, g) for a, g in zip(v, golden, strict=True))
    hwc = frames.transpose(0, 2, 3, 1)
    values, dets = acc.detect_prepared([acc.prepare(f) for f in hwc])
    assert all(np.array_equal(a, g) for a, g in zip(values, golden, strict=True))
    expected = decode_heads(golden, model.heads, DECODE.conf_threshold, DECODE.iou_threshold, DECODE.max_det)
    assert [len(d) for d in dets] == [len(e) for e in expected]
    assert sum(len(d) for d in dets) > 0  # something to compare


def test_the_golden_device_returns_and_decodes_every_head(two_heads) -> None:
    net, model, frames, golden = two_heads
    acc = GoldenAccelerator(model, DECODE, driver_model=SimpleNamespace(net=net))
    _check(acc, model, frames, golden)
    results = list(acc.stream_results(open_source(np.ascontiguousarray(frames.transpose(0, 2, 3, 1)))))
    assert [r.index for r in results] == list(range(FRAMES))
    assert all(np.array_equal(r.values[i], golden[i][r.index]) for r in results for i in range(2))


def test_the_replay_device_records_and_replays_every_head(two_heads, tmp_path) -> None:
    net, model, frames, golden = two_heads
    acc = GoldenReplayAccelerator(model, DECODE, driver_model=SimpleNamespace(net=net, build=SimpleNamespace(
        deploy=tmp_path)), device_fps=1e6)
    assert acc.record(frames) == FRAMES
    _check(acc, model, frames, golden)


@pytest.mark.slow
def test_the_rtlsim_device_returns_every_head_bit_exact(two_heads, tmp_path) -> None:
    require_verilator()
    from spikeflow.driver.backends.rtlsim import RtlsimAccelerator

    net, model, frames, golden = two_heads
    generate_rtl(net, tmp_path / "rtl")
    acc = RtlsimAccelerator(model, DECODE, driver_model=SimpleNamespace(net=net, build=SimpleNamespace(
        rtl=tmp_path / "rtl")))
    _check(acc, model, frames, golden)
    assert acc.device_cycles_per_frame()


def test_drive_step_compares_each_head(tmp_path) -> None:  # noqa: ANN001
    """The drive step's comparison on a two-head build (it stacked the values as one array and failed)."""
    import dataclasses

    from spikeflow.driver.step import compare_backends
    from spikeflow.flow.builddir import BuildDir
    from spikeflow.ir.network import IRMeta

    require_verilator()
    net = _two_head_net()
    net = dataclasses.replace(net, meta=IRMeta(names=("obj",), anchors=((3.0, 3.0), (6.0, 6.0))))
    build = BuildDir(tmp_path / "b")
    net.save(build.ir)
    generate_rtl(net, build.rtl)
    frames = np.random.default_rng(8).integers(0, 256, size=(4, *net.input_shape), dtype=np.uint8)
    stage, _ = compare_backends(build.root, frames)
    assert stage.frames == 4 and stage.mismatches == 0 and stage.extra["in_order"]
    assert list(stage.extra["heads"]) == [head.name for head in net.heads]
