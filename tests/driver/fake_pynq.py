"""A fake of the pynq API surface the board back ends use, with a golden-model device behind it.

Zynq: Overlay(.bit) with the AXI DMA under driver.json's name (sendchannel/recvchannel: transfer(buffer, start=0,
nbytes=0), wait, idle; read of S2MM_LENGTH), MMIO on the status block's window (ID, STREAM, FRAMES_IN, FRAMES_OUT,
ERRORS, CYCLES, CONTROL, BATCH), allocate. The device behaves as rtl/spikeflow_dma_shell.v: one send of n frames
carries the DMA's TLAST at its end only; the shell cuts it into batches of BATCH frames (a batch end without the
TLAST, or a TLAST before a batch's end, counts in ERRORS), and each batch leaves as one output packet, which one
receive takes (S2MM_LENGTH: the bytes written). FRAMES_IN and FRAMES_OUT count frames.
Alveo: Overlay(.xclbin) with the kernel (start -> handle with done/wait, read of its registers).

It checks buffer sizes, dtypes and the call order (a transfer only on an idle channel, BATCH written only while no
batch runs, a sent buffer unchanged until the DMA has read it, a batch of more than FIFO_FRAMES frames stalls until
a receive is programmed, buffers synced before a kernel start) and logs every call. `mode` simulates a device that
never answers ("timeout"), a short transfer ("short"), malformed frames ("frame_errors") or a frame counter that
disagrees with the data ("out_of_sequence").

It imports the golden model and the register table from spikeflow (so it is not yet a stand-alone `pynq` for a
subprocess without spikeflow: tests/runtime/fake_pynq_board.py is that one).
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
FIFO_FRAMES = 2  # frames the accelerator takes in before its output must leave (a receive programmed)
CYCLES_PER_FRAME = 1000  # what the fake status block counts per frame out


class StatusBlock:
    """MMIO on the status block (rtl/spikeflow_axil_status.v), offsets from registers.py."""

    def __init__(self, device: Device, base: int, length: int):
        device.log.append(("MMIO", base, length))
        self.device = device
        self.regs = offsets(STATUS_REGISTERS)
        self.names = {v: k for k, v in self.regs.items()}
        self.values = {"FRAMES_IN": 0, "FRAMES_OUT": 0, "ERRORS": 0, "CYCLES": 0, "BATCH": 1}
        device.status = self  # type: ignore[attr-defined]

    @property
    def batch(self) -> int:
        return self.values["BATCH"] or 1

    def read(self, offset: int) -> int:
        name = self.names.get(offset)
        if name is None or name == "CONTROL":
            raise FakeError(f"read of status offset 0x{offset:x} ({name or 'no register'})")
        if name == "ID":
            return STATUS_ID
        if name == "STREAM":
            return self.device.fmt.out_width << 16 | self.device.fmt.in_width
        return self.values[name] & 0xFFFFFFFF

    def write(self, offset: int, value: int) -> None:
        name = self.names.get(offset)
        if name not in ("CONTROL", "BATCH"):
            raise FakeError(f"write to read-only status offset 0x{offset:x} ({name or 'no register'})")
        self.device.log.append((name, value))
        if name == "BATCH":
            dma = self.device.overlay_dma  # type: ignore[attr-defined]
            if dma.sendchannel.busy or dma.recvchannel.busy or dma.packets:
                raise FakeError(f"BATCH written ({value}) while a batch runs: the shell would cut it wrongly")
            self.values["BATCH"] = value
        elif value & 1:
            self.values.update(FRAMES_IN=0, FRAMES_OUT=0, CYCLES=0)


class Channel:
    def __init__(self, dma: Dma, name: str):
        self.dma = dma
        self.name = name
        self.buffer: Buffer | None = None
        self.start = 0
        self.nbytes = 0
        self.sent: bytes = b""  # what the buffer held when the send was programmed
        self.busy = False
        self.error = ""

    @property
    def idle(self) -> bool:
        self.dma.step()
        return not self.busy

    def transfer(self, buf: Buffer, start: int = 0, nbytes: int = 0) -> None:
        fmt = self.dma.device.fmt
        if self.busy:
            raise FakeError(f"{self.name}: transfer while the channel is busy (RuntimeError: DMA channel not idle)")
        if not isinstance(buf, Buffer) or buf.freed:
            raise FakeError(f"{self.name}: transfer of a buffer pynq.allocate did not make")
        nbytes = nbytes or buf.nbytes - start
        if start < 0 or nbytes <= 0 or start + nbytes > buf.nbytes:
            raise FakeError(f"{self.name}: {nbytes} bytes from {start} of a {buf.nbytes}-byte buffer")
        frame = fmt.beats_per_frame * fmt.bus_in_bytes if self.name == "send" else fmt.values_per_frame * 4
        dtype = np.uint8 if self.name == "send" else np.dtype("<i4")
        if buf.dtype != dtype or nbytes % frame:
            what = f"{fmt.beats_per_frame} {fmt.bus_in_width}-bit words" if self.name == "send" else \
                f"{fmt.values_per_frame} int32"
            raise FakeError(f"{self.name}: {nbytes} bytes of a {buf.dtype} buffer, expected whole frames of {what}")
        self.dma.device.log.append((self.name, buf.physical_address, nbytes))
        if self.name == "send":
            buf.flush()  # pynq flushes a send buffer itself
            self.sent = np.asarray(buf).view(np.uint8)[start:start + nbytes].tobytes()
        self.buffer, self.start, self.nbytes = buf, start, nbytes
        self.busy = True
        self.error = ""

    def wait(self) -> None:
        if self.busy:
            raise FakeError(f"{self.name}: wait() would spin forever on a channel that never goes idle")
        if self.error:
            raise RuntimeError(self.error)
        if self.name == "recv" and self.buffer is not None:
            self.buffer.invalidate()  # pynq invalidates a receive buffer after the transfer


class Dma:
    """The AXI DMA with the shell and the accelerator behind it (see the module's docstring)."""

    def __init__(self, device: Device):
        self.device = device
        self.sendchannel = Channel(self, "send")
        self.recvchannel = Channel(self, "recv")
        self.packets: list[np.ndarray] = []  # output batches [frames, values] waiting for a receive
        self.length = 0
        device.overlay_dma = self  # type: ignore[attr-defined]

    def step(self) -> None:
        dev, send, recv = self.device, self.sendchannel, self.recvchannel
        if dev.mode == "timeout":
            return
        status = dev.status  # type: ignore[attr-defined]
        fmt = dev.fmt
        frame_bytes = fmt.beats_per_frame * fmt.bus_in_bytes
        if send.busy:
            n = send.nbytes // frame_bytes
            waiting = sum(len(p) for p in self.packets)
            if recv.busy or waiting + n <= FIFO_FRAMES:  # else the accelerator stalls on its output
                data = np.asarray(send.buffer).view(np.uint8)[send.start:send.start + send.nbytes]
                if data.tobytes() != send.sent:
                    raise FakeError("send: the buffer changed while the DMA was reading it")
                values, errors = dev.compute(data, n)
                values = values.reshape(n, -1) if values.size else np.zeros((n, fmt.values_per_frame), np.int32)
                batch = status.batch
                for first in range(0, n, batch):
                    self.packets.append(values[first:first + batch])
                    # the shell: a batch end without the DMA's TLAST, or the TLAST before a batch's end
                    errors += 1 if first + batch != n else 0
                status.values["ERRORS"] += errors
                status.values["FRAMES_IN"] += n
                send.busy = False
        if recv.busy and self.packets:
            packet = self.packets.pop(0)
            values = packet.reshape(-1)
            if dev.mode == "short":
                values = values[:-3]
            room = recv.nbytes // 4
            if values.size > room:
                recv.error = "DMA Internal Error (a packet longer than the receive)"
                values = values[:room]
            out = np.asarray(recv.buffer).reshape(-1)
            out[recv.start // 4:recv.start // 4 + values.size] = values
            self.length = values.size * 4
            status.values["FRAMES_OUT"] += len(packet) + (1 if dev.mode == "out_of_sequence" else 0)
            status.values["CYCLES"] += CYCLES_PER_FRAME * len(packet)
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
