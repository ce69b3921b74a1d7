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
class Ecp5Device:
    """A Lattice ECP5 part as nextpnr-ecp5 names it, its native capacities and the board's oscillator and pins."""

    device: str  # nextpnr-ecp5's device option without "--": "um5g-85k"
    package: str  # nextpnr-ecp5 --package
    speed: int  # nextpnr-ecp5 --speed
    capacity: dict[str, int]  # LUT4, FF, EBR (18 kbit block RAM), MULT18 (18x18 multipliers)
    oscillator_mhz: float  # the board's clock input: drives the design directly, or an EHXPLLL for other clocks
    constraints: str  # the LPF template of the board's pins (spikeflow/backends/pnr/templates/)


@dataclass(frozen=True)
class BoardSpec:
    part: str
    family: str  # Yosys synth_xilinx -family (synth_ecp5 for kind "ecp5")
    kind: str  # "zynq" (PS + DMA), "alveo" (PCIe card, Vitis platform) or "ecp5" (open flow: the pnr step)
    clock_mhz: float  # the flow's default clock for this board
    capacity: Capacity
    platform: str = ""  # Vitis platform of an Alveo card
    board_part: str = ""  # Vivado board part of a Zynq board (PS presets); "" when Vivado needs none
    memory: str = ""  # Vitis memory bank the kernel's m_axi port is linked to (Alveo)
    ecp5: Ecp5Device | None = None  # the open ECP5 flow's part, package, speed and pins (kind "ecp5")


class Board(Enum):
    """A target board; its value is the name used in build configs and on the command line."""

    PYNQ_Z2 = "pynq-z2"
    ZCU104 = "zcu104"
    U50 = "u50"
    U250 = "u250"
    ULX3S_85F = "ulx3s-85f"

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
    # Radiona ULX3S with the LFE5UM5G-85F-8BG381 (the board is also sold with an LFE5U-85F-6; this entry is the
    # UM5G, speed grade 8). Pins (clk_25mhz G2, btn[1] FIRE1 R1, led[0..2] B2/C2/C1, ftdi_rxd L4) from the board's
    # published constraint file, emard/ulx3s doc/constraints/ulx3s_v20.lpf (file version 0a4321a, 24 Feb 2019):
    # https://github.com/emard/ulx3s/blob/master/doc/constraints/ulx3s_v20.lpf (templates/ulx3s.lpf.j2).
    # Capacity in the fold step's units: a LUT4 counts as a LUT, two 18 kbit EBRs as a BRAM36, an 18x18 multiplier
    # as a DSP; the native figures are in ecp5.capacity.
    Board.ULX3S_85F: BoardSpec("LFE5UM5G-85F-8BG381", "ecp5", "ecp5", 25.0,
                               Capacity(LUT=83_640, FF=83_640, BRAM36=104, URAM=0, DSP=156),
                               ecp5=Ecp5Device("um5g-85k", "CABGA381", 8,
                                               {"LUT4": 83_640, "FF": 83_640, "EBR": 208, "MULT18": 156},
                                               oscillator_mhz=25.0, constraints="ulx3s.lpf.j2")),
}
DEFAULT_BOARD = Board.ZCU104
