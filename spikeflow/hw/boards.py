"""The boards spikeflow targets: part, default clock, synthesis family and capacities (the part table)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from spikeflow.errors import ConfigError


@dataclass(frozen=True)
class Capacity:
    """Resources of a part, in the units of report/resources.json."""

    LUT: int
    FF: int
    BRAM36: int
    URAM: int
    DSP: int

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


@dataclass(frozen=True)
class BoardSpec:
    part: str
    family: str  # Yosys synth_xilinx -family
    kind: str  # "zynq" (PS + DMA) or "alveo" (PCIe card, Vitis platform)
    clock_mhz: float  # the flow's default clock for this board
    capacity: Capacity
    platform: str = ""  # Vitis platform of an Alveo card
    board_part: str = ""  # Vivado board part of a Zynq board (PS presets); "" when Vivado needs none
    memory: str = ""  # Vitis memory bank the kernel's m_axi port is linked to (Alveo)


class Board(Enum):
    """A target board; its value is the name used in build configs and on the command line."""

    PYNQ_Z2 = "pynq-z2"
    ZCU104 = "zcu104"
    U50 = "u50"
    U250 = "u250"

    @property
    def spec(self) -> BoardSpec:
        return BOARDS[self]

    @classmethod
    def parse(cls, name: str, where: str = "board") -> Board:
        try:
            return cls(str(name).lower())
        except ValueError:
            known = ", ".join(b.value for b in cls)
            raise ConfigError(f"{where}: unknown board {name!r} (known: {known})") from None


BOARDS: dict[Board, BoardSpec] = {
    Board.PYNQ_Z2: BoardSpec("xc7z020clg400-1", "xc7", "zynq", 100.0,
                             Capacity(LUT=53_200, FF=106_400, BRAM36=140, URAM=0, DSP=220),
                             board_part="tul.com.tw:pynq-z2:part0:1.0"),
    Board.ZCU104: BoardSpec("xczu7ev-ffvc1156-2-e", "xcup", "zynq", 200.0,
                            Capacity(LUT=230_400, FF=460_800, BRAM36=312, URAM=96, DSP=1_728),
                            board_part="xilinx.com:zcu104:part0:1.1"),
    Board.U50: BoardSpec("xcu50-fsvh2104-2-e", "xcup", "alveo", 250.0,
                         Capacity(LUT=872_000, FF=1_743_000, BRAM36=1_344, URAM=640, DSP=5_952),
                         platform="xilinx_u50_gen3x16_xdma_5_202210_1", memory="HBM[0]"),
    Board.U250: BoardSpec("xcu250-figd2104-2L-e", "xcup", "alveo", 250.0,
                          Capacity(LUT=1_728_000, FF=3_456_000, BRAM36=2_688, URAM=1_280, DSP=12_288),
                          platform="xilinx_u250_gen3x16_xdma_4_1_202210_1", memory="DDR[0]"),
}
DEFAULT_BOARD = Board.ZCU104
