"""The runtime's pynq and alveo back ends (spikeflow_runtime.backends) against a fake of the pynq API
(tests/driver/fake_pynq.py) with a golden-model device behind it that behaves as the bitstreams' shells: bit-exact
results, one send and one receive per batch, buffer sizes, dtypes and call order, the counters checked per batch,
and a timeout, a short transfer, malformed frames and results out of sequence each raising a clear error. pynq
itself is never installed here."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from spikeflow_runtime.backends.alveo import AlveoAccelerator
from spikeflow_runtime.backends.pynq_dma import PynqAccelerator
from spikeflow_runtime.errors import ConfigError, DeviceTimeoutError, DriverError, ToolMissingError

from spikeflow.backends.bitstream.steps import bitstream_flow
from spikeflow.driver.model import DriverModel
from spikeflow.flow.config import BuildConfig, ModelSource
from spikeflow.golden import run_counts
from spikeflow.hw.boards import Board
from spikeflow.ir import load_network
from tests.driver.builds import SIZE
from tests.driver.fake_pynq import Device, FakeError, make_pynq

BOARDS = {"pynq": (Board.ZCU104, ("spikeflow.bit", "spikeflow.hwh")), "alveo": (Board.U50, ("spikeflow.xclbin",))}
CLASSES = {"pynq": PynqAccelerator, "alveo": AlveoAccelerator}


@pytest.fixture(scope="module")
def board_build(driver_build):
    """The driver build with each board's driver.json (bitstream step, dry run) and stand-in bitstream files."""
    for board, files in BOARDS.values():
        cfg = BuildConfig(ModelSource("checkpoint", driver_build.root / "model.pt"), board=board)
        plan = bitstream_flow(driver_build, cfg, dry_run=True)
        for name in files:
            (plan.deploy_dir / name).write_bytes(b"stand-in")
    return driver_build


@pytest.fixture(scope="module")
def model(board_build):
    return DriverModel.of(board_build.root).deployed


def _device(build, monkeypatch, mode: str = "") -> Device:
    net = load_network(build.ir)
    device = Device(net, DriverModel.of(build.root).deployed.stream, mode=mode)
    monkeypatch.setitem(sys.modules, "pynq", make_pynq(device))
    return device


def _open(backend: str, model, root: Path, **options):
    return CLASSES[backend](model, folder=[root / "deploy"], board=BOARDS[backend][0].value, **options)


def _edited_deploy(build, tmp_path: Path, edit) -> Path:
    """A deploy folder with a copy of the ZCU104's driver.json as `edit(doc)` leaves it."""
    deploy = tmp_path / "deploy"
    shutil.copytree(build.root / "deploy" / "zcu104", deploy / "zcu104")
    path = deploy / "zcu104" / "driver.json"
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    return deploy


def _frames(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 3, SIZE, SIZE), dtype=np.uint8)


def _entries(device: Device, *names: str) -> list[tuple]:
    return [e for e in device.log if e[0] in names]


@pytest.mark.parametrize("backend", ["pynq", "alveo"])
def test_board_backend_is_bit_exact(board_build, model, monkeypatch, backend):
    device = _device(board_build, monkeypatch)
    board = BOARDS[backend][0]
    frames = _frames(7)
    with _open(backend, model, board_build.root, max_batch=3) as acc:  # 7 frames: runs of 3, 3 and 1
        assert acc.model.clock_mhz == board.spec.clock_mhz
        assert np.array_equal(acc.infer(frames), run_counts(device.net, frames))
        images = [np.full((20, 30, 3), i * 30, np.uint8) for i in range(3)]
        prepared = [acc.prepare(im) for im in images]
        v, dets = acc.detect_prepared(prepared)
        letterboxed = np.stack([p.frame for p in prepared]).transpose(0, 3, 1, 2)
        gold = run_counts(device.net, letterboxed)
        assert np.array_equal(v, gold)
        assert dets == acc.decode_batch(model.stream.pack_values(gold).reshape(-1, *v.shape[2:], v.shape[1]),
                                        prepared)
        perf = acc.throughput_test(4, batch=2)
        assert perf["frames"] == 4 and perf["host_fps"] > 0
    assert all(b.freed for b in device.buffers)


def test_pynq_moves_a_batch_in_one_send_and_one_receive(board_build, model, monkeypatch):
    device = _device(board_build, monkeypatch)
    fmt = device.fmt
    with _open("pynq", model, board_build.root, max_batch=8) as acc:
        assert np.array_equal(acc.infer(_frames(5)), run_counts(device.net, _frames(5)))
        assert acc.device_cycles_per_frame() == 1000  # the fake status block's CYCLES / frames
        assert acc.device_fps() == pytest.approx(acc.model.clock_mhz * 1e3)
    log = device.log
    assert log[0] == ("Overlay", "spikeflow.bit")
    assert ("MMIO", 0xA001_0000, 0x1_0000) in log  # the status window of zynq.py's address map
    assert _entries(device, "allocate") == [("allocate", (8 * fmt.bus_frame_bytes,), "|u1")] * 2 + \
        [("allocate", (8 * fmt.values_per_frame,), "<i4")] * 2
    out = [e for e in device.buffers if e.dtype == np.dtype("<i4")][0]
    # clear the counters, BATCH = 5, the receive (sentinel-filled, flushed) before the one send of 5 frames
    assert _entries(device, "CONTROL", "BATCH", "flush", "send", "recv", "invalidate")[:5] == [
        ("CONTROL", 1), ("BATCH", 5), ("flush", out.physical_address),
        ("recv", out.physical_address, 5 * fmt.output_frame_bytes),
        ("send", device.buffers[0].physical_address, 5 * fmt.bus_frame_bytes)]
    assert len(_entries(device, "send")) == len(_entries(device, "recv")) == 1
    assert ("invalidate", out.physical_address) in log  # pynq's wait() on the receive


def test_pynq_double_buffering(board_build, model, monkeypatch):
    """Batch 1 is packed into the other slot while batch 0 runs, and started by collect(0) before it returns."""
    device = _device(board_build, monkeypatch)
    a, b = _frames(3, seed=1), _frames(2, seed=2)
    with _open("pynq", model, board_build.root) as acc:
        first = acc.submit(a)
        second = acc.submit(b)
        assert [e[2] // device.fmt.bus_frame_bytes for e in _entries(device, "send")] == [3]  # 1 waits its turn
        with pytest.raises(DriverError, match="not collected"):
            acc.submit(b)
        with pytest.raises(DriverError, match="collected before"):
            acc.collect(second)
        va = acc.collect(first)
        sends = _entries(device, "send")
        assert [e[2] // device.fmt.bus_frame_bytes for e in sends] == [3, 2]  # started before collect(0) returned
        assert sends[0][1] != sends[1][1]  # two input buffers
        assert [e for e in _entries(device, "BATCH")] == [("BATCH", 3), ("BATCH", 2)]
        vb = acc.collect(second)
        assert np.array_equal(va.transpose(0, 3, 1, 2), run_counts(device.net, a))
        assert np.array_equal(vb.transpose(0, 3, 1, 2), run_counts(device.net, b))
        acc.infer(a)
        assert _entries(device, "send")[-1][1] == sends[0][1]  # slots alternate


def test_pynq_splits_a_batch_beyond_the_dma_transfer(board_build, model, monkeypatch, tmp_path):
    device = _device(board_build, monkeypatch)
    fmt = device.fmt
    limit = 2 * max(fmt.bus_frame_bytes, fmt.output_frame_bytes) + 1
    deploy = _edited_deploy(board_build, tmp_path, lambda doc: doc["dma"].update(max_transfer_bytes=limit))
    frames = _frames(5)
    with PynqAccelerator(model, folder=deploy, board="zcu104") as acc:
        assert acc.run_frames == 2
        assert np.array_equal(acc.infer(frames), run_counts(device.net, frames))
    assert [e[2] // fmt.bus_frame_bytes for e in _entries(device, "send")] == [2, 2, 1]
    assert [e[1] for e in _entries(device, "BATCH")] == [2, 2, 1]


def test_alveo_call_order_and_buffers(board_build, model, monkeypatch):
    device = _device(board_build, monkeypatch)
    fmt = device.fmt
    with _open("alveo", model, board_build.root, max_batch=2) as acc:
        acc.infer(_frames(5))
        starts = _entries(device, "start")
        assert [s[1] for s in starts] == [2, 2, 1]  # a batch beyond the buffers runs in pieces
        first, second = acc.submit(_frames(2)), acc.submit(_frames(2, seed=3))
        acc.collect(first)
        acc.collect(second)
    assert _entries(device, "allocate") == [("allocate", (2 * fmt.bus_frame_bytes,), "|u1")] * 2 + \
        [("allocate", (2 * fmt.values_per_frame,), "<i4")] * 2
    starts = [i for i, e in enumerate(device.log) if e[0] == "start"]
    assert device.log[starts[-2]][2] != device.log[starts[-1]][2]  # two input buffers
    syncs = [i for i, e in enumerate(device.log) if e[0] == "sync_to_device" and i > starts[-2]]
    assert syncs and syncs[0] < starts[-1]  # batch 2 goes to the card while batch 1 runs


@pytest.mark.parametrize("backend", ["pynq", "alveo"])
def test_device_that_does_not_answer_times_out(board_build, model, monkeypatch, backend):
    _device(board_build, monkeypatch, mode="timeout")
    acc = _open(backend, model, board_build.root)
    monkeypatch.setattr(type(acc), "timeout_s", lambda self, frames: 0.05)
    with pytest.raises(DeviceTimeoutError, match=r"batch 0 \(frames 0..1 of 2\).*no answer within 0.05 s"):
        acc.infer(_frames(2))


@pytest.mark.parametrize("backend", ["pynq", "alveo"])
def test_short_transfer_is_an_error(board_build, model, monkeypatch, backend):
    _device(board_build, monkeypatch, mode="short")
    acc = _open(backend, model, board_build.root)
    with pytest.raises(DriverError, match=r"short transfer.*batch 0"):
        acc.infer(_frames(2))


@pytest.mark.parametrize("backend", ["pynq", "alveo"])
def test_frame_errors_are_reported(board_build, model, monkeypatch, backend):
    _device(board_build, monkeypatch, mode="frame_errors")
    acc = _open(backend, model, board_build.root)
    with pytest.raises(DriverError, match=r"1 malformed input frame\(s\) in batch 0"):
        acc.infer(_frames(2))


def test_results_out_of_sequence_are_an_error(board_build, model, monkeypatch):
    _device(board_build, monkeypatch, mode="out_of_sequence")
    acc = _open("pynq", model, board_build.root)
    with pytest.raises(DriverError, match="counts 3 frame.*out for the 2 sent: results out of sequence"):
        acc.infer(_frames(2))


@pytest.mark.parametrize("backend", ["pynq", "alveo"])
def test_counters_are_checked_per_batch(board_build, model, monkeypatch, backend):
    """A batch that goes wrong is named, after batches that went right."""
    device = _device(board_build, monkeypatch)
    acc = _open(backend, model, board_build.root)
    acc.infer(_frames(2))
    device.mode = "frame_errors"
    with pytest.raises(DriverError, match="malformed input frame.*in batch 1 "):
        acc.infer(_frames(3))


def test_the_fake_cuts_a_send_into_batches_as_the_shell_does(board_build, model, monkeypatch):
    """BATCH 2 and a send of 3 frames: a batch of 2 without the DMA's TLAST (an error), then one of 1 ended by it
    (another), as rtl/spikeflow_dma_shell.v counts them (sim/tb_dma_shell.py)."""
    device = _device(board_build, monkeypatch)
    acc = _open("pynq", model, board_build.root)
    acc.status.write(acc.reg["BATCH"], 2)
    buf = acc.in_bufs[0]
    frames = _frames(3)
    acc.pack(frames, out=buf)
    acc.dma.sendchannel.transfer(buf, 0, 3 * acc.in_bytes)
    got = []
    for _ in range(2):
        acc.dma.recvchannel.transfer(acc.out_bufs[0], 0, 3 * acc.out_bytes)
        assert acc.dma.recvchannel.idle and acc.dma.sendchannel.idle
        got.append(np.array(acc.out_bufs[0][:acc.dma.read(0x58) // 4]))
    assert [g.size // device.fmt.values_per_frame for g in got] == [2, 1]
    assert np.array_equal(np.concatenate(got), device.fmt.pack_values(run_counts(device.net, frames)).reshape(-1))
    assert [acc._read(r) for r in ("FRAMES_IN", "FRAMES_OUT", "ERRORS")] == [3, 3, 2]


def test_fake_rejects_wrong_use(board_build, model, monkeypatch):
    device = _device(board_build, monkeypatch)
    acc = _open("pynq", model, board_build.root)
    pynq = sys.modules["pynq"]
    with pytest.raises(FakeError, match="whole frames"):
        acc.dma.sendchannel.transfer(pynq.allocate(shape=(acc.fmt.frame_bytes,), dtype=np.uint8))
    assert device.fmt.frame_bytes != acc.in_bytes  # 24-bit beats padded to 32-bit words
    acc.dma.sendchannel.transfer(acc.in_bufs[0], 0, 3 * acc.in_bytes)  # 3 frames stall without a receive
    with pytest.raises(FakeError, match="BATCH written"):
        acc.status.write(acc.reg["BATCH"], 3)
    with pytest.raises(FakeError, match="not idle"):
        acc.dma.sendchannel.transfer(acc.in_bufs[1], 0, acc.in_bytes)
    acc.in_bufs[0][0] ^= 1
    acc.dma.recvchannel.transfer(acc.out_bufs[0], 0, 3 * acc.out_bytes)
    with pytest.raises(FakeError, match="changed while the DMA was reading it"):
        _ = acc.dma.sendchannel.idle


def test_stream_mismatch_and_missing_driver_config_are_refused(board_build, model, monkeypatch, tmp_path):
    _device(board_build, monkeypatch)
    deploy = _edited_deploy(board_build, tmp_path, lambda doc: doc["stream"].update(pixels_per_beat=2))
    with pytest.raises(DriverError, match="pixels_per_beat"):
        PynqAccelerator(model, folder=deploy, board="zcu104")
    with pytest.raises(ConfigError, match="no driver.json for the alveo back end and board zcu104"):
        AlveoAccelerator(model, folder=deploy, board="zcu104")
    with pytest.raises(ConfigError, match="no driver.json for the pynq back end"):
        PynqAccelerator(model, folder=tmp_path / "empty")


def test_a_bitstream_without_the_batch_register_is_refused(board_build, model, monkeypatch, tmp_path):
    _device(board_build, monkeypatch)

    def drop_batch(doc):
        doc["status_registers"] = [r for r in doc["status_registers"] if r["name"] != "BATCH"]

    deploy = _edited_deploy(board_build, tmp_path, drop_batch)
    with pytest.raises(DriverError, match="no BATCH register.*rebuild it"):
        PynqAccelerator(model, folder=deploy, board="zcu104")


@pytest.mark.parametrize("backend", ["pynq", "alveo"])
def test_without_pynq_the_board_backends_say_how_to_install_it(board_build, model, monkeypatch, backend):
    monkeypatch.setitem(sys.modules, "pynq", None)
    with pytest.raises(ToolMissingError, match=r"spikeflow-runtime\[board\]"):
        _open(backend, model, board_build.root)


def test_the_board_backends_import_neither_pynq_nor_the_flow():
    code = ("import sys; import spikeflow_runtime.backends.pynq_dma, spikeflow_runtime.backends.alveo; "
            "assert 'pynq' not in sys.modules, 'pynq imported'; "
            "flow = [m for m in sys.modules if m == 'spikeflow' or m.startswith('spikeflow.')]; "
            "assert not flow, flow")
    subprocess.run([sys.executable, "-c", code], check=True)
