"""A fake of the pynq API surface the board back ends use, with a golden-model device behind it.

Zynq: Overlay(.bit) with the AXI DMA under driver.json's name (sendchannel/recvchannel: transfer, wait, idle; read
of S2MM_LENGTH), MMIO on the status block's window (ID, STREAM, FRAMES_IN, FRAMES_OUT, ERRORS, CYCLES, CONTROL),
allocate. Alveo: Overlay(.xclbin) with the kernel (start -> handle with done/wait, read of its registers).

It checks buffer sizes, dtypes and the call order (a transfer only on an idle channel, a receive programmed before
a frame's output can leave, buffers synced before a kernel start) and logs every call. `mode` simulates a device
that never answers ("timeout"), a short transfer ("short") or malformed frames ("frame_errors").
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spikeflow.backends.bitstream.registers import KERNEL_REGISTERS, STATUS_ID, STATUS_REGISTERS, offsets
from spikeflow.golden import run_counts
from spikeflow.hw.stream import StreamFormat
from spikeflow.ir import FewdIFNetwork

S2MM_LENGTH = 0x58


class FakeError(AssertionError):
    """The driver used the pynq API in a way the real one (or the hardware) would not accept."""


class Buffer(np.ndarray):
    """pynq.allocate's PynqBuffer: an ndarray with a physical address and cache/sync calls."""

    physical_address: int
    owner: Device
    freed: bool

    def flush(self) -> None:
        self.owner.log.append(("flush", self.physical_address))

    def invalidate(self) -> None:
        self.owner.log.append(("invalidate", self.physical_address))

    def sync_to_device(self) -> None:
        self.owner.log.append(("sync_to_device", self.physical_address))
        self.owner.card[self.physical_address] = np.array(self).copy()

    def sync_from_device(self) -> None:
        self.owner.log.append(("sync_from_device", self.physical_address))
        self[:] = self.owner.card.get(self.physical_address, np.array(self))

    def freebuffer(self) -> None:
        self.freed = True


@dataclass
class Device:
    """The board: the network it runs, its stream format, what went wrong on purpose, and a log of every call."""

    net: FewdIFNetwork
    fmt: StreamFormat
    mode: str = ""
    log: list[tuple] = field(default_factory=list)
    buffers: list[Buffer] = field(default_factory=list)
    card: dict[int, np.ndarray] = field(default_factory=dict)  # Alveo device memory by buffer address
    next_address: int = 0x1000_0000

    def compute(self, words: np.ndarray, count: int) -> tuple[np.ndarray, int]:
        """`count` frames of padded bus words -> (output values int32, malformed frames)."""
        fmt = self.fmt
        beats = words.reshape(-1, fmt.bus_in_bytes)
        if np.any(beats[:, fmt.beat_bytes:]):
            return np.zeros(0, np.int32), count  # padding bits set: the shell would see garbage
        frames = fmt.unpack_frames(beats[:, :fmt.beat_bytes].tobytes())
        v = run_counts(self.net, frames)
        errors = 1 if self.mode == "frame_errors" else 0
        return fmt.pack_values(v).reshape(-1).astype(np.int32), errors


def make_pynq(device: Device) -> types.ModuleType:
    """A module object to put in sys.modules["pynq"]."""
    mod = types.ModuleType("pynq")

    def allocate(shape, dtype, target=None, **kwargs) -> Buffer:
        buf = np.zeros(shape, dtype=dtype).view(Buffer)
        buf.physical_address = device.next_address
        buf.owner = device
        buf.freed = False
        device.next_address += 1 << 20
        device.buffers.append(buf)
        device.log.append(("allocate", tuple(np.atleast_1d(shape)), np.dtype(dtype).str))
        return buf

    mod.allocate = allocate
    mod.Overlay = lambda path, **kw: Overlay(device, Path(path))
    mod.MMIO = lambda base, length: StatusBlock(device, base, length)
    return mod


class Overlay:
    def __init__(self, device: Device, path: Path):
        if not path.is_file():
            raise FileNotFoundError(path)
        if path.suffix == ".bit" and not path.with_suffix(".hwh").is_file():
            raise FakeError(f"{path}: pynq needs the .hwh next to the .bit")
        device.log.append(("Overlay", path.name))
        self._device = device
        self._path = path
        self.dma = Dma(device)
        self.spikeflow = Kernel(device)


# -- Zynq -------------------------------------------------------------------------------------------------------
class StatusBlock:
    """MMIO on the status block (rtl/spikeflow_axil_status.v), offsets from registers.py."""

    bases: list[int] = []

    def __init__(self, device: Device, base: int, length: int):
        device.log.append(("MMIO", base, length))
        self.device = device
        self.regs = offsets(STATUS_REGISTERS)
        self.values = {"FRAMES_IN": 0, "FRAMES_OUT": 0, "ERRORS": 0, "CYCLES": 0}
        device.status = self  # type: ignore[attr-defined]

    def read(self, offset: int) -> int:
        name = {v: k for k, v in self.regs.items()}.get(offset)
        if name is None or name == "CONTROL":
            raise FakeError(f"read of status offset 0x{offset:x} ({name or 'no register'})")
        if name == "ID":
            return STATUS_ID
        if name == "STREAM":
            return self.device.fmt.out_width << 16 | self.device.fmt.in_width
        return self.values[name]

    def write(self, offset: int, value: int) -> None:
        if offset != self.regs["CONTROL"]:
            raise FakeError(f"write to read-only status offset 0x{offset:x}")
        self.device.log.append(("CONTROL", value))
        if value & 1:
            self.values.update(FRAMES_IN=0, FRAMES_OUT=0, CYCLES=0)


class Channel:
    def __init__(self, dma: Dma, name: str):
        self.dma = dma
        self.name = name
        self.buffer: Buffer | None = None
        self.busy = False

    @property
    def idle(self) -> bool:
        self.dma.step()
        return not self.busy

    def transfer(self, buf: Buffer) -> None:
        fmt = self.dma.device.fmt
        if self.busy:
            raise FakeError(f"{self.name}: transfer while the channel is busy")
        if not isinstance(buf, Buffer) or buf.freed:
            raise FakeError(f"{self.name}: transfer of a buffer pynq.allocate did not make")
        if self.name == "send" and (buf.dtype != np.uint8 or buf.nbytes != fmt.beats_per_frame * fmt.bus_in_bytes):
            raise FakeError(f"send: {buf.dtype} buffer of {buf.nbytes} bytes, expected one frame of "
                            f"{fmt.beats_per_frame} {fmt.bus_in_width}-bit words")
        if self.name == "recv" and (buf.dtype != np.dtype("<i4") or buf.nbytes != fmt.values_per_frame * 4):
            raise FakeError(f"recv: {buf.dtype} buffer of {buf.nbytes} bytes, expected {fmt.values_per_frame} int32")
        self.dma.device.log.append((self.name, buf.physical_address))
        self.buffer = buf
        self.busy = True

    def wait(self) -> None:
        if self.busy:
            raise FakeError(f"{self.name}: wait() would spin forever on a channel that never goes idle")


class Dma:
    """The AXI DMA with the accelerator behind it: a sent frame is computed once a receive is programmed."""

    def __init__(self, device: Device):
        self.device = device
        self.sendchannel = Channel(self, "send")
        self.recvchannel = Channel(self, "recv")
        self.queue: list[np.ndarray] = []  # computed frames waiting for a receive
        self.length = 0

    def step(self) -> None:
        dev, send, recv = self.device, self.sendchannel, self.recvchannel
        if dev.mode == "timeout":
            return
        status = dev.status  # type: ignore[attr-defined]
        if send.busy and len(self.queue) < 2:  # the accelerator's FIFOs take about a frame
            values, errors = dev.compute(np.asarray(send.buffer), 1)
            status.values["ERRORS"] += errors
            status.values["FRAMES_IN"] += 1
            self.queue.append(values)
            send.busy = False
        if recv.busy and self.queue:
            values = self.queue.pop(0)
            n = len(values) - (3 if dev.mode == "short" else 0)
            recv.buffer[:n] = values[:n]
            self.length = n * 4
            status.values["FRAMES_OUT"] += 1
            status.values["CYCLES"] += 1000
            recv.busy = False

    def read(self, offset: int) -> int:
        if offset != S2MM_LENGTH:
            raise FakeError(f"DMA read of offset 0x{offset:x}")
        return self.length


# -- Alveo ------------------------------------------------------------------------------------------------------
class Handle:
    def __init__(self, kernel: Kernel):
        self.kernel = kernel

    @property
    def done(self) -> bool:
        return self.kernel.device.mode != "timeout"

    def wait(self) -> None:
        if not self.done:
            raise FakeError("wait() on a kernel that never finishes would hang")


class Kernel:
    """The ap_ctrl_hs kernel: start(frames, input, output) in kernel.xml's order."""

    def __init__(self, device: Device):
        self.device = device
        self.errors = 0
        self.running: Handle | None = None

    def start(self, *args) -> Handle:
        dev, fmt = self.device, self.device.fmt
        if self.running is not None and not self.running.done:
            raise FakeError("start while the kernel is running (ap_ctrl_hs)")
        if len(args) != 3 or not isinstance(args[0], int) or not all(isinstance(a, Buffer) for a in args[1:]):
            kinds = [type(a).__name__ for a in args]
            raise FakeError(f"start(frames: int, input: buffer, output: buffer), got {kinds}")
        count, inp, out = args
        if inp.dtype != np.uint8 or inp.nbytes < count * fmt.beats_per_frame * fmt.bus_in_bytes:
            raise FakeError(f"input: {inp.dtype} buffer of {inp.nbytes} bytes for {count} frames")
        if out.dtype != np.dtype("<i4") or out.size < count * fmt.values_per_frame:
            raise FakeError(f"output: {out.dtype} buffer of {out.size} values for {count} frames")
        if inp.physical_address not in dev.card or out.physical_address not in dev.card:
            raise FakeError("kernel started on a buffer that was never synced to the device")
        dev.log.append(("start", count, inp.physical_address, out.physical_address))
        words = dev.card[inp.physical_address][:count * fmt.beats_per_frame * fmt.bus_in_bytes]
        values, errors = dev.compute(words, count)
        self.errors += errors
        if dev.mode == "short":
            values = values[:-fmt.values_per_frame]  # the last frame never arrives
        memory = dev.card[out.physical_address]
        memory[:len(values)] = values
        self.running = Handle(self)
        return self.running

    def read(self, offset: int) -> int:
        if offset != offsets(KERNEL_REGISTERS)["errors"]:
            raise FakeError(f"kernel register read at 0x{offset:x}")
        return self.errors
