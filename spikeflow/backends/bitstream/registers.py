"""Register maps of the bitstream shells, defined once: the driver config and the cocotb tests read them here,
and the RTL (rtl/spikeflow_axil_status.v, rtl/spikeflow_kernel.v) implements them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from spikeflow_runtime.backends.pynq_dma import STATUS_ID  # "SPKF": the ID the driver checks on the board


@dataclass(frozen=True)
class Register:
    name: str
    offset: int
    access: str  # "r", "w", "rw"
    summary: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


# rtl/spikeflow_axil_status.v: the Zynq shell's status block
STATUS_REGISTERS: tuple[Register, ...] = (
    Register("ID", 0x00, "r", f"0x{STATUS_ID:08X} ('SPKF')"),
    Register("STREAM", 0x04, "r", "{OUT_WIDTH[15:0], IN_WIDTH[15:0]}: the accelerator's stream widths"),
    Register("FRAMES_IN", 0x08, "r", "input frames accepted (frames, not batches)"),
    Register("FRAMES_OUT", 0x0C, "r", "output frames sent (frames, not batches)"),
    Register("ERRORS", 0x10, "r", "malformed input frames, a misplaced or missing DMA TLAST included"),
    Register("CYCLES", 0x14, "r", "clock cycles since reset or the last clear"),
    Register("CONTROL", 0x18, "w", "bit 0: clear FRAMES_IN, FRAMES_OUT and CYCLES"),
    Register("BATCH", 0x1C, "rw", "frames per DMA transfer (reset 1, 0 counts as 1): the DMA's TLAST ends each "
                                  "batch on the input, the shell's on the output; write it while no batch runs"),
)
STATUS_ADDR_WIDTH = 6  # s_axil address bits of the status block

# rtl/spikeflow_kernel.v: the Alveo kernel's AXI-Lite control (the Vitis ap_ctrl_hs layout)
KERNEL_REGISTERS: tuple[Register, ...] = (
    Register("CTRL", 0x00, "rw", "bit 0 ap_start, 1 ap_done (clear on read), 2 ap_idle, 3 ap_ready"),
    Register("GIE", 0x04, "rw", "global interrupt enable"),
    Register("IER", 0x08, "rw", "interrupt enable: bit 0 done, bit 1 ready"),
    Register("ISR", 0x0C, "rw", "interrupt status (toggle on write)"),
    Register("frames", 0x10, "rw", "number of frames to run"),
    Register("input", 0x18, "rw", "input buffer address, 64 bits (0x18 low, 0x1C high)"),
    Register("output", 0x24, "rw", "output buffer address, 64 bits (0x24 low, 0x28 high)"),
    Register("errors", 0x30, "r", "malformed input frames since reset"),
)
KERNEL_ADDR_WIDTH = 6  # s_axi_control address bits of the kernel


def offsets(registers: tuple[Register, ...]) -> dict[str, int]:
    return {r.name: r.offset for r in registers}
