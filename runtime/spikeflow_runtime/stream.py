"""The stream contract: the AXI-Stream formats of the accelerator's ports, defined once (the flow imports it).

Input (`s_axis`): 8-bit pixels in raster order, channels interleaved (channel 0 in the low byte of a pixel),
`pixels_per_beat` pixels per beat (pixel 0 in the low bits), TLAST on the last beat of a frame. In memory that is
a frame in HWC order, so a letterboxed HxWxC image is already the payload.

Output (`m_axis`): one head membrane value per beat, sign-extended to `out_width` bits (little-endian bytes),
positions row-major and channel fastest, TLAST on the last value of a frame.

Several heads (a DAG with more than one head, `heads`): still ONE output stream. Per frame it carries the heads'
values concatenated in IR head order (`net.heads`), each head's values row-major with channel fastest exactly as
a single head's, TLAST on the last value of the last head. So a frame is `values_per_frame` = the sum of the
heads' K*Gh*Gw values; the DMA, the bitstream scripts and the driver's single output buffer see one longer frame.
Every head's values share the beat width (`out_width`, sign-extended); `value_bits` is the widest head's
accumulator. `head_shapes` gives each head's (K, Gh, Gw); `unpack_heads` / `stream_heads` split a frame's values
into per-head arrays and `pack_values` takes a list of per-head arrays. A single-head format keeps its old fields
(`out_channels`, `out_height`, `out_width_px`) and dictionary (no `heads` key), so model.json files written
before still load. With several heads those three fields hold head 0's shape and `heads` all of them.

Status: `status_frame_error` pulses on a malformed frame, `status_error_count` (`status_width` bits) counts them.

Memory side (bitstreams): a DMA engine or an AXI master moves whole bus words, a power of two of at least 32 bits.
The input beat is padded to `bus_in_width` bits (the pixels in the low `in_width` bits, zeros above), one beat
per bus word, so the driver packs each beat into `bus_in_bytes` bytes (`pack_frames_bus`). The 32-bit output
beats are already legal (`bus_out_width` = `out_width`).

The Python harness wrapper, the cocotb testbenches, the generated top and the C++ harness take their widths and
orders from here (through spikeflow.hw.stream, which adds the constructor from an IR).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from spikeflow_runtime.errors import ConfigError, FrameError

PIXEL_BITS = 8  # the network's input: unsigned 8-bit pixels
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
    heads: tuple[tuple[int, int, int], ...] = ()  # each head's (K, Gh, Gw) in IR order, for several heads; () for one

    def __post_init__(self) -> None:
        object.__setattr__(self, "heads", tuple(tuple(int(d) for d in h) for h in self.heads))
        if len(self.heads) == 1:
            object.__setattr__(self, "heads", ())  # one head: the old fields alone
        if self.heads and self.heads[0] != (self.out_channels, self.out_height, self.out_width_px):
            raise ConfigError(f"head 0 {list(self.heads[0])} disagrees with out_channels/out_height/out_width_px "
                              f"{[self.out_channels, self.out_height, self.out_width_px]}")
        if any(len(h) != 3 or min(h) < 1 for h in self.heads):
            raise ConfigError(f"heads must be (channels, height, width) triples of positive sizes, got "
                              f"{[list(h) for h in self.heads]}")
        if self.pixels_per_beat < 1 or (self.height * self.width) % self.pixels_per_beat:
            raise ConfigError(f"pixels_per_beat={self.pixels_per_beat} must divide the {self.height * self.width} "
                              f"pixels of a frame")
        if self.value_bits > self.out_width:
            raise ConfigError(f"head values of {self.value_bits} bits exceed the {self.out_width}-bit output stream")

    @classmethod
    def from_dict(cls, doc: dict[str, Any], where: str = "stream") -> StreamFormat:
        """The format from its `as_dict()` (driver.json, model.json); a missing or inconsistent key is named."""
        names = [f.name for f in fields(cls)]
        missing = [n for n in names[:8] if n not in doc]
        if missing:
            raise ConfigError(f"{where}: stream format lacks {', '.join(missing)}")
        try:
            ints = {n: int(doc[n]) for n in names if n in doc and n != "heads"}
            fmt = cls(**ints, heads=tuple(tuple(int(d) for d in h) for h in doc.get("heads", ())))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: bad stream format ({exc})") from exc
        derived = fmt.as_dict()
        wrong = [k for k in derived if k in doc and k != "heads" and int(doc[k]) != derived[k]]
        if wrong:
            raise ConfigError(f"{where}: stream format keys {', '.join(wrong)} disagree with the others")
        return fmt

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """A frame as [C, H, W] (the IR's order)."""
        return (self.channels, self.height, self.width)

    @property
    def frame_shape(self) -> tuple[int, int, int]:
        """A frame in stream order, [H, W, C]: the layout of an image and of the payload."""
        return (self.height, self.width, self.channels)

    @property
    def output_shape(self) -> tuple[int, int, int]:
        """The one head's [K, Gh, Gw] (ConfigError with several heads: use head_shapes)."""
        if self.heads:
            raise ConfigError(f"the output stream carries {len(self.heads)} heads: use head_shapes, not output_shape")
        return (self.out_channels, self.out_height, self.out_width_px)

    @property
    def head_shapes(self) -> tuple[tuple[int, int, int], ...]:
        """Every head's [K, Gh, Gw] in stream (IR head) order; one entry for a single head."""
        return self.heads or ((self.out_channels, self.out_height, self.out_width_px),)

    @property
    def head_values(self) -> tuple[int, ...]:
        """Values per frame of each head, in stream order."""
        return tuple(k * gh * gw for k, gh, gw in self.head_shapes)

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
    def bus_frame_bytes(self) -> int:
        """Bytes of one frame on the memory side (padded beats)."""
        return self.beats_per_frame * self.bus_in_bytes

    @property
    def values_per_frame(self) -> int:
        """Output values (beats) per frame: the sum over the heads."""
        return sum(self.head_values)

    @property
    def value_bytes(self) -> int:
        return self.out_width // 8

    @property
    def value_dtype(self) -> str:
        return f"<i{self.value_bytes}"

    @property
    def output_frame_bytes(self) -> int:
        return self.values_per_frame * self.value_bytes

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

    def as_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = asdict(self)
        heads = doc.pop("heads")
        if heads:  # several heads only: a single head's dictionary is the one written before there were several
            doc["heads"] = [list(h) for h in heads]
        return {**doc, "in_width": self.in_width, "beat_bytes": self.beat_bytes,
                "beats_per_frame": self.beats_per_frame, "values_per_frame": self.values_per_frame,
                "bus_in_width": self.bus_in_width, "bus_out_width": self.bus_out_width}

    # -- input ----------------------------------------------------------------------------------------------
    def check_frames(self, frames: np.ndarray) -> np.ndarray:
        """uint8 frames [N,C,H,W] or [N,H,W,C] (or one frame) -> the same frames as [N,H,W,C] (a view, no copy)."""
        frames = np.asarray(frames)
        if frames.ndim == 3:
            frames = frames[None]
        if frames.ndim == 4 and frames.dtype == np.uint8:
            if tuple(frames.shape[1:]) == self.frame_shape:
                return frames
            if tuple(frames.shape[1:]) == self.input_shape:
                return frames.transpose(0, 2, 3, 1)
        c, h, w = self.input_shape
        raise FrameError(f"the stream takes uint8 frames [N, {h}, {w}, {c}] (or [N, {c}, {h}, {w}]), got "
                         f"{frames.dtype} {list(frames.shape)}")

    def pack_frames(self, frames: np.ndarray) -> bytes:
        """uint8 frames (see check_frames) -> the input stream's payload, frame after frame."""
        return np.ascontiguousarray(self.check_frames(frames)).tobytes()

    def pack_frames_bus(self, frames: np.ndarray) -> bytes:
        """uint8 frames -> the memory-side input payload: each beat padded with zeros to `bus_in_bytes` bytes."""
        return self.pack_frames_bus_into(frames).tobytes()

    def pack_frames_bus_into(self, frames: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """As pack_frames_bus, as a uint8 array written into `out` (e.g. a DMA buffer of at least that many bytes)
        when given: the driver's hot path, one pass over the frames."""
        hwc = self.check_frames(frames)
        n = len(hwc)
        size = n * self.bus_frame_bytes
        if out is None:
            out = np.empty(size, np.uint8)
        elif out.dtype != np.uint8 or out.ndim != 1 or out.size < size or not out.flags.c_contiguous:
            raise FrameError(f"pack_frames_bus_into: the output buffer must be contiguous uint8 of at least {size} "
                             f"bytes, got {out.dtype} {list(out.shape)}")
        dst = out[:size]
        if self.beat_bytes == 3 and self.bus_in_bytes == 4 and hwc.flags.c_contiguous and n:
            _pad_rgb_to_words(hwc.reshape(-1), dst)
        else:
            words = dst.reshape(n * self.beats_per_frame, self.bus_in_bytes)
            words[:, :self.beat_bytes] = hwc.reshape(-1, self.beat_bytes)
            words[:, self.beat_bytes:] = 0
        return dst

    def unpack_frames(self, payload: bytes) -> np.ndarray:
        """The input stream's payload of whole frames -> uint8 frames [N,C,H,W]."""
        data = np.frombuffer(bytes(payload), dtype=np.uint8)
        if data.size % self.frame_bytes:
            raise FrameError(f"{data.size} bytes is not a whole number of {self.frame_bytes}-byte frames")
        return data.reshape(-1, self.height, self.width, self.channels).transpose(0, 3, 1, 2)

    def unpack_frames_bus(self, payload: np.ndarray) -> np.ndarray:
        """The memory-side payload of whole frames (padded beats) -> uint8 frames [N,C,H,W]."""
        data = np.frombuffer(payload, dtype=np.uint8) if not isinstance(payload, np.ndarray) else payload
        if data.size % self.bus_frame_bytes:
            raise FrameError(f"{data.size} bytes is not a whole number of {self.bus_frame_bytes}-byte padded frames")
        beats = data.reshape(-1, self.bus_in_bytes)[:, :self.beat_bytes]
        return self.unpack_frames(np.ascontiguousarray(beats).tobytes())

    # -- output ---------------------------------------------------------------------------------------------
    def pack_values(self, v: Any) -> np.ndarray:
        """Head V [N,K,Gh,Gw] (or one [K,Gh,Gw]), or with several heads a list of each head's V in head order ->
        values in output stream order [N, values_per_frame]."""
        heads = list(v) if isinstance(v, (list, tuple)) else [v]
        if len(heads) != len(self.head_shapes):
            raise FrameError(f"the output stream carries {len(self.head_shapes)} head(s), got values of {len(heads)}")
        rows = []
        for h, shape in zip(heads, self.head_shapes):
            h = np.asarray(h, dtype=np.int64)
            if h.ndim == 3:
                h = h[None]
            if tuple(h.shape[1:]) != shape:
                raise FrameError(f"head values {list(h.shape)} do not match the head's [N, "
                                 f"{', '.join(map(str, shape))}]")
            rows.append(h.transpose(0, 2, 3, 1).reshape(len(h), -1))
        return rows[0] if len(rows) == 1 else np.concatenate(rows, axis=1)

    def _frames_of(self, data: np.ndarray) -> np.ndarray:
        if data.size % self.values_per_frame:
            raise FrameError(f"{data.size} output values is not a whole number of {self.values_per_frame}-value "
                             f"frames")
        return data.reshape(-1, self.values_per_frame)

    def _payload_values(self, payload: Any) -> np.ndarray:
        if isinstance(payload, np.ndarray):
            return payload.view(self.value_dtype).reshape(-1)
        return np.frombuffer(payload, dtype=self.value_dtype)

    def stream_heads(self, payload: Any) -> list[np.ndarray]:
        """The output payload (bytes or an array of `value_dtype`) of whole frames -> each head's values
        [N, Gh, Gw, K] in stream order, views of the payload (no copy)."""
        frames = self._frames_of(self._payload_values(payload))
        out, start = [], 0
        for (k, gh, gw), n in zip(self.head_shapes, self.head_values):
            out.append(frames[:, start:start + n].reshape(-1, gh, gw, k))
            start += n
        return out

    def stream_values(self, payload: Any) -> np.ndarray:
        """The output payload of whole frames -> values [N, Gh, Gw, K] in stream order, a view of the payload (no
        copy); one head only (several: stream_heads)."""
        k, gh, gw = self.output_shape
        return self._frames_of(self._payload_values(payload)).reshape(-1, gh, gw, k)

    def unpack_heads(self, values: Any) -> list[np.ndarray]:
        """Output stream values (ints, or the raw little-endian payload) of whole frames -> each head's V int64
        [N,K,Gh,Gw], in head order (one entry for a single head)."""
        if isinstance(values, (bytes, bytearray, memoryview)):
            values = values_from_payload(bytes(values), self.out_width)
        frames = self._frames_of(np.asarray(values, dtype=np.int64).reshape(-1))
        out, start = [], 0
        for (k, gh, gw), n in zip(self.head_shapes, self.head_values):
            out.append(frames[:, start:start + n].reshape(-1, gh, gw, k).transpose(0, 3, 1, 2))
            start += n
        return out

    def unpack_values(self, values: Any) -> np.ndarray:
        """Output stream values (ints, or the raw little-endian payload) of whole frames -> V int64 [N,K,Gh,Gw];
        one head only (several: unpack_heads)."""
        self.output_shape  # noqa: B018  (raises with several heads)
        return self.unpack_heads(values)[0]


def _pad_rgb_to_words(src: np.ndarray, dst: np.ndarray) -> None:
    """3-byte beats -> 4-byte little-endian words (zero top byte), in one pass: each word reads 4 bytes at a 3-byte
    stride (the 4th is the next beat's first byte) and masks the top byte off. The last beat is copied alone, so
    nothing is read past the end of `src`."""
    beats = src.size // 3
    words = dst.view("<u4")
    if beats > 1:
        ahead = np.ndarray(shape=(beats - 1,), dtype="<u4", buffer=src, offset=0, strides=(3,))
        np.bitwise_and(ahead, 0x00FFFFFF, out=words[:beats - 1])
    last = dst[4 * (beats - 1):4 * beats]
    last[:3] = src[3 * (beats - 1):]
    last[3] = 0


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
