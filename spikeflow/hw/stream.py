"""The stream contract: the AXI-Stream formats of the accelerator's ports, defined once.

Input (`s_axis`): 8-bit pixels in raster order, channels interleaved (channel 0 in the low byte of a pixel),
`pixels_per_beat` pixels per beat (pixel 0 in the low bits), TLAST on the last beat of a frame.

Output (`m_axis`): one head membrane value per beat, sign-extended to `out_width` bits (little-endian bytes),
positions row-major and channel fastest, TLAST on the last value of a frame.

Status: `status_frame_error` pulses on a malformed frame, `status_error_count` (`status_width` bits) counts them.

Memory side (bitstreams): a DMA engine or an AXI master moves whole bus words, a power of two of at least 32 bits.
The input beat is padded to `bus_in_width` bits (the pixels in the low `in_width` bits, zeros above), one beat
per bus word, so the driver packs each beat into `bus_in_bytes` bytes (`pack_frames_bus`). The 32-bit output
beats are already legal (`bus_out_width` = `out_width`).

The Python harness wrapper, the cocotb testbenches, the generated top (template parameters) and the C++ harness
(template parameters) all take their widths and orders from here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from spikeflow.errors import ConfigError, FrameError
from spikeflow.ir import PIXEL_BITS, FewdIFNetwork

OUT_WIDTH = 32  # bits of one output beat
STATUS_WIDTH = 32  # bits of the frame-error counter
MIN_BUS_WIDTH = 32  # narrowest memory-side word (AXI DMA stream, Vitis m_axi)
MAX_BUS_WIDTH = 1024  # widest AXI DMA stream and AXI data bus


def bus_width(bits: int) -> int:
    """The memory-side word that carries a `bits`-wide beat: the next power of two, at least 32 bits."""
    width = MIN_BUS_WIDTH
    while width < bits:
        width *= 2
    if width > MAX_BUS_WIDTH:
        raise ConfigError(f"a {bits}-bit stream beat exceeds the widest AXI bus ({MAX_BUS_WIDTH} bits): use fewer "
                          f"pixels per beat")
    return width


@dataclass(frozen=True)
class StreamFormat:
    """Widths and sizes of the accelerator's stream ports for one network and input beat width."""

    channels: int
    height: int
    width: int
    pixels_per_beat: int
    out_channels: int
    out_height: int
    out_width_px: int
    value_bits: int  # significant bits of a head value (the head's accumulator width)
    pixel_bits: int = PIXEL_BITS
    out_width: int = OUT_WIDTH
    status_width: int = STATUS_WIDTH

    @classmethod
    def of(cls, net: FewdIFNetwork, pixels_per_beat: int = 1) -> StreamFormat:
        c, h, w = net.input_shape
        k, gh, gw = net.output_shape
        if pixels_per_beat < 1 or (h * w) % pixels_per_beat:
            raise ConfigError(f"pixels_per_beat={pixels_per_beat} must divide the {h * w} pixels of a frame")
        fmt = cls(c, h, w, pixels_per_beat, k, gh, gw, net.head.acc_bits)
        if fmt.value_bits > fmt.out_width:
            raise ConfigError(f"head {net.head.name}: acc_bits {fmt.value_bits} exceeds the {fmt.out_width}-bit "
                              f"output stream")
        return fmt

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (self.channels, self.height, self.width)

    @property
    def output_shape(self) -> tuple[int, int, int]:
        return (self.out_channels, self.out_height, self.out_width_px)

    @property
    def in_width(self) -> int:
        """Bits of one input beat (s_axis_tdata)."""
        return self.pixel_bits * self.channels * self.pixels_per_beat

    @property
    def beat_bytes(self) -> int:
        return self.in_width // 8

    @property
    def beats_per_frame(self) -> int:
        return self.height * self.width // self.pixels_per_beat

    @property
    def frame_bytes(self) -> int:
        return self.beats_per_frame * self.beat_bytes

    @property
    def values_per_frame(self) -> int:
        return self.out_channels * self.out_height * self.out_width_px

    @property
    def value_bytes(self) -> int:
        return self.out_width // 8

    @property
    def value_dtype(self) -> str:
        return f"<i{self.value_bytes}"

    @property
    def bus_in_width(self) -> int:
        """Bits of one input word on the memory side (DMA MM2S stream, m_axi read): `in_width` padded."""
        return bus_width(self.in_width)

    @property
    def bus_in_bytes(self) -> int:
        return self.bus_in_width // 8

    @property
    def bus_out_width(self) -> int:
        """Bits of one output word on the memory side (DMA S2MM stream, m_axi write)."""
        return bus_width(self.out_width)

    def as_dict(self) -> dict[str, int]:
        return {**asdict(self), "in_width": self.in_width, "beat_bytes": self.beat_bytes,
                "beats_per_frame": self.beats_per_frame, "values_per_frame": self.values_per_frame,
                "bus_in_width": self.bus_in_width, "bus_out_width": self.bus_out_width}

    # -- input ----------------------------------------------------------------------------------------------
    def check_frames(self, frames: np.ndarray) -> np.ndarray:
        frames = np.asarray(frames)
        if frames.ndim == 3:
            frames = frames[None]
        if frames.ndim != 4 or tuple(frames.shape[1:]) != self.input_shape or frames.dtype != np.uint8:
            raise FrameError(f"the stream takes uint8 frames [N, {', '.join(map(str, self.input_shape))}], "
                             f"got {frames.dtype} {list(frames.shape)}")
        return frames

    def pack_frames(self, frames: np.ndarray) -> bytes:
        """uint8 frames [N,C,H,W] (or one [C,H,W]) -> the input stream's payload, frame after frame."""
        frames = self.check_frames(frames)
        return np.ascontiguousarray(frames.transpose(0, 2, 3, 1)).tobytes()

    def pack_frames_bus(self, frames: np.ndarray) -> bytes:
        """uint8 frames -> the memory-side input payload: each beat padded with zeros to `bus_in_bytes` bytes."""
        beats = np.frombuffer(self.pack_frames(frames), dtype=np.uint8).reshape(-1, self.beat_bytes)
        padded = np.zeros((len(beats), self.bus_in_bytes), dtype=np.uint8)
        padded[:, :self.beat_bytes] = beats
        return padded.tobytes()

    def unpack_frames(self, payload: bytes) -> np.ndarray:
        """The input stream's payload of whole frames -> uint8 frames [N,C,H,W]."""
        data = np.frombuffer(bytes(payload), dtype=np.uint8)
        if data.size % self.frame_bytes:
            raise FrameError(f"{data.size} bytes is not a whole number of {self.frame_bytes}-byte frames")
        return data.reshape(-1, self.height, self.width, self.channels).transpose(0, 3, 1, 2)

    # -- output ---------------------------------------------------------------------------------------------
    def pack_values(self, v: np.ndarray) -> np.ndarray:
        """Head V [N,K,Gh,Gw] (or one [K,Gh,Gw]) -> values in output stream order [N, values_per_frame]."""
        v = np.asarray(v, dtype=np.int64)
        if v.ndim == 3:
            v = v[None]
        return v.transpose(0, 2, 3, 1).reshape(len(v), -1)

    def unpack_values(self, values: np.ndarray | bytes) -> np.ndarray:
        """Output stream values (ints, or the raw little-endian payload) of whole frames -> V [N,K,Gh,Gw]."""
        if isinstance(values, bytes | bytearray | memoryview):
            values = values_from_payload(bytes(values), self.out_width)
        values = np.asarray(values, dtype=np.int64).reshape(-1)
        if values.size % self.values_per_frame:
            raise FrameError(f"{values.size} output values is not a whole number of {self.values_per_frame}-value "
                             f"frames")
        k, gh, gw = self.output_shape
        return values.reshape(-1, gh, gw, k).transpose(0, 3, 1, 2)


def values_from_payload(data: bytes, out_width: int = OUT_WIDTH) -> np.ndarray:
    """Output stream payload (little-endian `out_width`-bit beats, two's complement) -> int64 values."""
    return np.frombuffer(bytes(data), dtype=f"<i{out_width // 8}").astype(np.int64)


def pack_fields(values: np.ndarray, bits: int) -> int:
    """Unsigned `bits`-wide fields (field 0 in the low bits) -> one integer word."""
    out = 0
    for i, v in enumerate(np.asarray(values).reshape(-1).tolist()):
        out |= (int(v) & ((1 << bits) - 1)) << (i * bits)
    return out


def unpack_fields(word: int, bits: int, n: int, signed: bool = False) -> np.ndarray:
    """One integer word -> `n` fields of `bits` bits (field 0 in the low bits), two's complement if signed."""
    vals = [(int(word) >> (i * bits)) & ((1 << bits) - 1) for i in range(n)]
    if signed:
        vals = [v - (1 << bits) if v >> (bits - 1) else v for v in vals]
    return np.array(vals, dtype=np.int64)
