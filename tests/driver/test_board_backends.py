"""The pynq and alveo back ends against a fake of the pynq API (tests/driver/fake_pynq.py) with a golden-model
device behind it: bit-exact results, buffer sizes, dtypes and call order, and a timeout, a short transfer and a
frame-error count each raising a clear error. pynq itself is never installed here."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from spikeflow.backends.bitstream.steps import bitstream_flow
from spikeflow.driver import Accelerator
from spikeflow.errors import DeviceTimeoutError, DriverError, StepError, ToolMissingError
from spikeflow.flow.config import BuildConfig, ModelSource
from spikeflow.golden import run_counts
from spikeflow.hw.boards import Board
from spikeflow.hw.stream import stream_format
from tests.driver.builds import SIZE
from tests.driver.fake_pynq import Device, FakeError, make_pynq

BOARDS = {"pynq": (Board.ZCU104, ("spikeflow.bit", "spikeflow.hwh")), "alveo": (Board.U50, ("spikeflow.xclbin",))}


@pytest.fixture(scope="module")
def board_build(driver_build):
    """The driver build with each board's driver.json (bitstream step, dry run) and stand-in bitstream files."""
    for board, files in BOARDS.values():
        cfg = BuildConfig(ModelSource("checkpoint", driver_build.root / "model.pt"), board=board)
        plan = bitstream_flow(driver_build, cfg, dry_run=True)
        for name in files:
            (plan.deploy_dir / name).write_bytes(b"stand-in")
    return driver_build


def _device(build, monkeypatch, mode: str = "") -> Device:
    from spikeflow.ir import load_network

    net = load_network(build.ir)
    device = Device(net, stream_format(net), mode=mode)
    monkeypatch.setitem(sys.modules, "pynq", make_pynq(device))
    return device


def _frames(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 3, SIZE, SIZE), dtype=np.uint8)


@pytest.mark.parametrize("backend", ["pynq", "alveo"])
def test_board_backend_is_bit_exact(board_build, monkeypatch, backend):
    device = _device(board_build, monkeypatch)
    board = BOARDS[backend][0]
    frames = _frames(7)
    with Accelerator.open(board_build.root, backend, board=board.value, **(
            {"max_batch": 3} if backend == "alveo" else {})) as acc:
        assert acc.model.clock_mhz == board.spec.clock_mhz
        v = acc.infer(frames)
        assert np.array_equal(v, run_counts(device.net, frames))
        images = [np.full((20, 30, 3), i * 30, np.uint8) for i in range(3)]
        golden = Accelerator.open(board_build.root, "golden")
        assert acc.detect(images) == golden.detect(images)
        perf = acc.throughput_test(4, batch=2)
        assert perf["frames"] == 4 and perf["host_fps"] > 0
    assert all(b.freed for b in device.buffers)


def test_pynq_call_order_and_buffers(board_build, monkeypatch):
    device = _device(board_build, monkeypatch)
    fmt = device.fmt
    with Accelerator.open(board_build.root, "pynq", board="zcu104") as acc:
        acc.infer(_frames(3))
        assert acc.device_cycles_per_frame() == 1000  # the fake status block's CYCLES / FRAMES_OUT
    log = device.log
    assert log[0] == ("Overlay", "spikeflow.bit")
    assert ("MMIO", 0xA001_0000, 0x1_0000) in log  # the status window of zynq.py's address map
    allocs = [e for e in log if e[0] == "allocate"]
    assert allocs == [("allocate", (fmt.beats_per_frame * fmt.bus_in_bytes,), "|u1")] * 2 + \
        [("allocate", (fmt.values_per_frame,), "<i4")] * 2
    data = [e[0] for e in log if e[0] in ("send", "recv", "CONTROL")]
    # clear the counters; receive 0 before send 0; send n+1 before receive n+1 (double buffering)
    assert data == ["CONTROL", "recv", "send", "send", "recv", "send", "recv"]
    sends = [e[1] for e in log if e[0] == "send"]
    assert sends[0] != sends[1] and sends[0] == sends[2]  # two input buffers, alternating


def test_alveo_call_order_and_buffers(board_build, monkeypatch):
    device = _device(board_build, monkeypatch)
    fmt = device.fmt
    with Accelerator.open(board_build.root, "alveo", board="u50", max_batch=2) as acc:
        acc.infer(_frames(5))
    allocs = [e for e in device.log if e[0] == "allocate"]
    assert allocs == [("allocate", (2 * fmt.beats_per_frame * fmt.bus_in_bytes,), "|u1")] * 2 + \
        [("allocate", (2 * fmt.values_per_frame,), "<i4")] * 2
    starts = [e for e in device.log if e[0] == "start"]
    assert [s[1] for s in starts] == [2, 2, 1] and starts[0][2] != starts[1][2]
    first_start = device.log.index(starts[0])
    second_stage = [i for i, e in enumerate(device.log) if e[0] == "sync_to_device"][2]
    assert second_stage < device.log.index(starts[1])  # batch 2 synced before it starts ...
    assert first_start < second_stage  # ... while batch 1 runs


@pytest.mark.parametrize("backend", ["pynq", "alveo"])
def test_device_that_does_not_answer_times_out(board_build, monkeypatch, backend):
    _device(board_build, monkeypatch, mode="timeout")
    acc = Accelerator.open(board_build.root, backend, board=BOARDS[backend][0].value)
    monkeypatch.setattr(type(acc), "timeout_s", lambda self, frames: 0.05)
    with pytest.raises(DeviceTimeoutError, match="no answer within 0.05 s"):
        acc.infer(_frames(2))


@pytest.mark.parametrize("backend", ["pynq", "alveo"])
def test_short_transfer_is_an_error(board_build, monkeypatch, backend):
    _device(board_build, monkeypatch, mode="short")
    acc = Accelerator.open(board_build.root, backend, board=BOARDS[backend][0].value)
    with pytest.raises(DriverError, match="short transfer"):
        acc.infer(_frames(2))


@pytest.mark.parametrize("backend", ["pynq", "alveo"])
def test_frame_errors_are_reported(board_build, monkeypatch, backend):
    _device(board_build, monkeypatch, mode="frame_errors")
    acc = Accelerator.open(board_build.root, backend, board=BOARDS[backend][0].value)
    with pytest.raises(DriverError, match="malformed input frame"):
        acc.infer(_frames(2))


def test_fake_rejects_wrong_buffers(board_build, monkeypatch):
    device = _device(board_build, monkeypatch)
    acc = Accelerator.open(board_build.root, "pynq", board="zcu104")
    pynq = sys.modules["pynq"]
    with pytest.raises(FakeError, match="expected one frame"):
        acc.dma.sendchannel.transfer(pynq.allocate(shape=(acc.fmt.frame_bytes,), dtype=np.uint8))
    assert device.fmt.frame_bytes != acc.in_bytes  # 24-bit beats padded to 32-bit words


def test_stream_mismatch_between_bitstream_and_ir_is_refused(board_build, monkeypatch, tmp_path):
    import json
    import shutil

    _device(board_build, monkeypatch)
    copy = tmp_path / "b"
    shutil.copytree(board_build.root, copy)
    path = copy / "deploy" / "zcu104" / "driver.json"
    doc = json.loads(path.read_text())
    doc["stream"]["pixels_per_beat"] = 2
    path.write_text(json.dumps(doc))
    with pytest.raises(DriverError, match="pixels_per_beat"):
        Accelerator.open(copy, "pynq", board="zcu104")
    with pytest.raises(StepError, match="no driver.json for the alveo back end and board zcu104"):
        Accelerator.open(copy, "alveo", board="zcu104")


def test_without_pynq_the_board_backends_say_how_to_install_it(board_build, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynq", None)
    with pytest.raises(ToolMissingError, match=r"spikeflow\[board\]"):
        Accelerator.open(board_build.root, "pynq", board="zcu104")


def test_the_core_install_never_imports_pynq(board_build):
    code = ("import sys, numpy as np; from spikeflow.driver import Accelerator; import spikeflow.cli; "
            f"a = Accelerator.open({str(board_build.root)!r}, 'golden'); a.infer(np.zeros((1, 3, {SIZE}, {SIZE}), "
            "np.uint8)); import spikeflow.driver.backends.pynq_dma, spikeflow.driver.backends.alveo; "
            "assert 'pynq' not in sys.modules, 'pynq imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
