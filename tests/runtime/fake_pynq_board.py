"""A stand-in `pynq` for a deploy folder's run.py, on numpy and the standard library alone (no spikeflow, no
spikeflow_runtime): the test copies it as pynq.py into a folder on the subprocess's PYTHONPATH.

The board behind it answers from a recording instead of computing: `Overlay(DEPLOY/BOARD/spikeflow.bit)` reads
DEPLOY/BOARD/driver.json (stream format, the DMA's name, the status registers) and DEPLOY/replay.npz (the golden
model's outputs of the build's frames, keyed by the sha1 of a frame's packed input bytes, as the replay back end
keys them). A frame that was not recorded is a FakeError naming it, unless fake_pynq.json next to this file says
`"unrecorded": "zeros"` (throughput runs of random frames).

Surface (that of tests/driver/fake_pynq.py): allocate(shape, dtype) -> buffer with physical_address, flush,
invalidate, sync_to_device, sync_from_device, freebuffer; Overlay(path) with the AXI DMA under driver.json's name
(sendchannel / recvchannel: transfer(buffer, start=0, nbytes=0), wait(), idle; read(S2MM_LENGTH)); MMIO(base,
length) on the status block (ID, STREAM, FRAMES_IN, FRAMES_OUT, ERRORS, CYCLES, CONTROL, BATCH). One DMA input
transfer carries BATCH frames of padded bus words; one output transfer takes that batch's values. Every call is
logged; the log is written as JSON at exit when fake_pynq.json names a "log" file.
"""

import atexit
import hashlib
import json
from pathlib import Path

import numpy as np

S2MM_LENGTH = 0x58  # the AXI DMA's S2MM_LENGTH register: bytes written by the last receive
STATUS_ID = 0x53504B46  # "SPKF", the status block's ID register
CYCLES_PER_FRAME = 1000  # what the stand-in board counts per frame
FIFO_BATCHES = 2  # computed batches the board holds before an input transfer stalls
CONFIG = Path(__file__).with_name("fake_pynq.json")


class FakeError(AssertionError):
    """run.py used the pynq API in a way the real one (or the hardware) would not accept."""


def _config():
    return json.loads(CONFIG.read_text()) if CONFIG.is_file() else {}


LOG = []
_STATE = {"board": None}


def _write_log():
    path = _config().get("log")
    if path:
        Path(path).write_text(json.dumps(LOG))


atexit.register(_write_log)


class Buffer(np.ndarray):
    """pynq.allocate's PynqBuffer: an ndarray with a physical address and cache calls (a view keeps them)."""

    def __array_finalize__(self, obj):
        self.physical_address = getattr(obj, "physical_address", None)
        self.freed = getattr(obj, "freed", False)

    def flush(self):
        LOG.append(["flush", int(self.physical_address)])

    def invalidate(self):
        LOG.append(["invalidate", int(self.physical_address)])

    def sync_to_device(self):
        LOG.append(["sync_to_device", int(self.physical_address)])

    def sync_from_device(self):
        LOG.append(["sync_from_device", int(self.physical_address)])

    def freebuffer(self):
        LOG.append(["freebuffer", int(self.physical_address)])
        self.freed = True


_NEXT_ADDRESS = [0x1000_0000]


def allocate(shape, dtype="u4", target=None, **kwargs):
    buf = np.zeros(shape, dtype=dtype).view(Buffer)
    buf.physical_address = _NEXT_ADDRESS[0]
    buf.freed = False
    _NEXT_ADDRESS[0] += max(1 << 20, buf.nbytes)
    LOG.append(["allocate", int(buf.physical_address), [int(s) for s in np.atleast_1d(shape)], np.dtype(dtype).str])
    return buf


class Board:
    """The recorded device: driver.json's stream format and registers, replay.npz's outputs."""

    def __init__(self, bitstream):
        folder = bitstream.parent
        self.driver = json.loads((folder / "driver.json").read_text())
        s = self.driver["stream"]
        self.beat_bytes = int(s["beat_bytes"])
        self.bus_in_bytes = int(s["bus_in_width"]) // 8
        self.beats_per_frame = int(s["beats_per_frame"])
        self.values_per_frame = int(s["values_per_frame"])
        self.value_dtype = np.dtype(f"<i{int(s['out_width']) // 8}")
        self.stream_word = int(s["out_width"]) << 16 | int(s["in_width"])
        config = _config()
        recording = Path(config.get("recording", folder.parent / "replay.npz"))
        with np.load(str(recording), allow_pickle=False) as data:
            self.rows = {bytes(d): i for i, d in enumerate(data["digests"])}
            self.outputs = data["outputs"].astype(self.value_dtype)
        self.unrecorded = config.get("unrecorded", "error")
        self.registers = {r["name"]: int(r["offset"]) for r in self.driver["status_registers"]}
        self.values = {"FRAMES_IN": 0, "FRAMES_OUT": 0, "ERRORS": 0, "CYCLES": 0, "BATCH": 1}
        self.frames_seen = 0

    @property
    def batch(self):
        return max(1, self.values["BATCH"])

    @property
    def frame_bus_bytes(self):
        return self.beats_per_frame * self.bus_in_bytes

    def compute(self, data):
        """Padded bus words of whole frames -> their output values in stream order (one flat array)."""
        if data.size % self.frame_bus_bytes:
            raise FakeError(f"input transfer of {data.size} bytes is not whole frames of {self.frame_bus_bytes} "
                            f"bytes")
        beats = data.reshape(-1, self.bus_in_bytes)
        if np.any(beats[:, self.beat_bytes:]):
            self.values["ERRORS"] += 1  # the padding bits are set: the shell sees garbage pixels
        payload = np.ascontiguousarray(beats[:, :self.beat_bytes]).reshape(-1, self.beats_per_frame * self.beat_bytes)
        out = np.empty((len(payload), self.values_per_frame), self.value_dtype)
        for i, frame in enumerate(payload):
            row = self.rows.get(hashlib.sha1(frame.tobytes()).digest())
            if row is None and self.unrecorded != "zeros":
                raise FakeError(f"frame {self.frames_seen} sent to the board was not recorded in replay.npz")
            out[i] = 0 if row is None else self.outputs[row]
            self.frames_seen += 1
        return out.reshape(-1)


def _board():
    board = _STATE["board"]
    if board is None:
        raise FakeError("no Overlay loaded: pynq programs the bitstream before any MMIO or DMA")
    return board


class Channel:
    def __init__(self, dma, name):
        self.dma = dma
        self.name = name
        self.view = None
        self.busy = False

    @property
    def idle(self):
        self.dma.step()
        return not self.busy

    def transfer(self, array, start=0, nbytes=0):
        if self.busy:
            raise FakeError(f"{self.name}: transfer while the channel is busy")
        if not isinstance(array, Buffer) or array.physical_address is None or array.freed:
            raise FakeError(f"{self.name}: transfer of a buffer pynq.allocate did not make (or one freed)")
        if not array.flags.c_contiguous:
            raise FakeError(f"{self.name}: transfer of a non-contiguous buffer")
        raw = array.reshape(-1).view(np.uint8)
        nbytes = nbytes or raw.size - start
        if start < 0 or start + nbytes > raw.size:
            raise FakeError(f"{self.name}: {nbytes} bytes from {start} past the end of a {raw.size}-byte buffer")
        if nbytes > int(self.dma.board.driver["dma"]["max_transfer_bytes"]):
            raise FakeError(f"{self.name}: {nbytes} bytes exceed the DMA's buffer length register")
        LOG.append([self.name, int(array.physical_address), int(start), int(nbytes)])
        self.view = raw[start:start + nbytes]
        self.busy = True

    def wait(self):
        self.dma.step()
        if self.busy:
            raise FakeError(f"{self.name}: wait() would spin forever on a transfer that cannot finish (a receive "
                            f"must be programmed for the board's output)")


class Dma:
    """The AXI DMA with the board behind it: an input batch is computed while fewer than FIFO_BATCHES wait for a
    receive; a receive takes one whole batch."""

    def __init__(self, board):
        self.board = board
        self.sendchannel = Channel(self, "send")
        self.recvchannel = Channel(self, "recv")
        self.queue = []
        self.length = 0

    def step(self):
        board, send, recv = self.board, self.sendchannel, self.recvchannel
        if send.busy and len(self.queue) < FIFO_BATCHES:
            frames = send.view.size // board.frame_bus_bytes
            if frames != board.batch:
                raise FakeError(f"send: a transfer of {frames} frame(s) with BATCH = {board.batch}: TLAST would end "
                                f"the batch in the wrong place")
            self.queue.append(board.compute(send.view))
            board.values["FRAMES_IN"] += frames
            send.busy = False
        if recv.busy and self.queue:
            values = self.queue.pop(0)
            data = values.view(np.uint8)
            if data.size > recv.view.size:
                raise FakeError(f"recv: {data.size} output bytes for a {recv.view.size}-byte receive")
            recv.view[:data.size] = data
            self.length = data.size
            frames = values.size // board.values_per_frame
            board.values["FRAMES_OUT"] += frames
            board.values["CYCLES"] += frames * CYCLES_PER_FRAME
            recv.busy = False

    def read(self, offset):
        if offset != S2MM_LENGTH:
            raise FakeError(f"DMA register read at 0x{offset:x}")
        return self.length


class Overlay:
    def __init__(self, path, **kwargs):
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(str(path))
        if path.suffix != ".bit" or not path.with_suffix(".hwh").is_file():
            raise FakeError(f"{path}: pynq loads a .bit with its .hwh next to it")
        LOG.append(["Overlay", path.name])
        board = Board(path)
        _STATE["board"] = board
        setattr(self, board.driver["dma"]["ip"], Dma(board))


class MMIO:
    """The status block's registers, offsets from driver.json."""

    def __init__(self, base, length=4, **kwargs):
        board = _board()
        window = board.driver["address_map"]["status"]
        if (int(base), int(length)) != (int(window["base"]), int(window["range"])):
            raise FakeError(f"MMIO(0x{base:x}, 0x{length:x}) is not the status window {window}")
        LOG.append(["MMIO", int(base), int(length)])
        self.board = board
        self.names = {v: k for k, v in board.registers.items()}

    def read(self, offset, length=4):
        name = self.names.get(offset)
        if name is None or name == "CONTROL":
            raise FakeError("read of status offset 0x{:x} ({})".format(offset, name or "no register"))
        if name == "ID":
            return STATUS_ID
        if name == "STREAM":
            return self.board.stream_word
        return self.board.values[name]

    def write(self, offset, value):
        name = self.names.get(offset)
        if name not in ("CONTROL", "BATCH"):
            raise FakeError("write to status offset 0x{:x} ({})".format(offset, name or "no register"))
        LOG.append([name, int(value)])
        if name == "BATCH":
            self.board.values["BATCH"] = int(value)
        elif int(value) & 1:
            self.board.values.update(FRAMES_IN=0, FRAMES_OUT=0, CYCLES=0)
