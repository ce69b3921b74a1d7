"""Zynq bitstreams (PYNQ-Z2, ZCU104): a Vivado block design with the PS, an AXI DMA on the accelerator's streams
and its status registers, then synthesis, place, route and the timing check (bitstream_scripts/zynq_build.tcl.j2).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from typing import Any

from spikeflow.backends.bitstream.deploy import ir_metadata_files
from spikeflow.backends.bitstream.plan import (
    BitstreamPlan,
    Command,
    DeployFile,
    relative_to,
    render,
    write_mem_dir_define,
)
from spikeflow.backends.bitstream.registers import STATUS_ADDR_WIDTH, STATUS_REGISTERS
from spikeflow.backends.bitstream.reports import collect_vivado_reports
from spikeflow.backends.rtl.generator import RtlBuild, load_rtl
from spikeflow.errors import ConfigError
from spikeflow.flow.builddir import BuildDir
from spikeflow.flow.config import BuildConfig
from spikeflow.hw.sources import hardware_folder
from spikeflow.hw.stream import StreamFormat
from spikeflow.ir import load_network

SHELL = "spikeflow_dma_shell"
SHELL_SOURCES = ("spikeflow_axil_status.v", "spikeflow_dma_shell.v")
SCRIPT = "zynq_build.tcl"
CONSTRAINTS = "spikeflow_zynq.xdc"
SOURCES_FILE = "sources.f"
BD_NAME = "spikeflow_bd"
BIT, HWH = "spikeflow.bit", "spikeflow.hwh"
DMA_LENGTH_WIDTH = 26  # bits of the DMA's transfer length register: up to 64 MiB per transfer


@dataclass(frozen=True)
class ProcessingSystem:
    """The Zynq processing system IP of a part family, and the names of the ports the block design uses."""

    vlnv: str
    rule: str  # block automation rule (board presets)
    automation: str
    config: dict[str, str]
    master: str  # AXI master for control
    slave: str  # high-performance AXI slave for the DMA
    clock: str  # PL clock out (the clocking wizard's reference)
    resetn: str
    master_aclk: str
    slave_aclk: str
    address_space: str
    dma_base: int
    status_base: int
    ref_clock_mhz: float = 100.0


PROCESSING_SYSTEMS: dict[str, ProcessingSystem] = {
    "xc7": ProcessingSystem(
        vlnv="xilinx.com:ip:processing_system7", rule="xilinx.com:bd_rule:processing_system7",
        automation='make_external "FIXED_IO, DDR" apply_board_preset "1" Master "Disable" Slave "Disable"',
        config={"PCW_USE_M_AXI_GP0": "1", "PCW_USE_S_AXI_HP0": "1", "PCW_S_AXI_HP0_DATA_WIDTH": "64",
                "PCW_FPGA0_PERIPHERAL_FREQMHZ": "100"},
        master="M_AXI_GP0", slave="S_AXI_HP0", clock="FCLK_CLK0", resetn="FCLK_RESET0_N",
        master_aclk="M_AXI_GP0_ACLK", slave_aclk="S_AXI_HP0_ACLK", address_space="Data",
        dma_base=0x4040_0000, status_base=0x43C0_0000),
    "xcup": ProcessingSystem(
        vlnv="xilinx.com:ip:zynq_ultra_ps_e", rule="xilinx.com:bd_rule:zynq_ultra_ps_e",
        automation='apply_board_preset "1"',
        config={"PSU__USE__M_AXI_GP0": "1", "PSU__USE__M_AXI_GP1": "0", "PSU__USE__M_AXI_GP2": "0",
                "PSU__USE__S_AXI_GP2": "1", "PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ": "100"},
        master="M_AXI_HPM0_FPD", slave="S_AXI_HP0_FPD", clock="pl_clk0", resetn="pl_resetn0",
        master_aclk="maxihpm0_fpd_aclk", slave_aclk="saxihp0_fpd_aclk", address_space="Data",
        dma_base=0xA000_0000, status_base=0xA001_0000),
}


@dataclass(frozen=True)
class Segment:
    """A slave's window in the PS's address space."""

    name: str
    base: int
    range: int
    segment: str  # the block design's address segment
    summary: str

    @property
    def range_text(self) -> str:
        return f"{self.range // 1024}K"


def address_map(ps: ProcessingSystem) -> list[Segment]:
    return [Segment("dma", ps.dma_base, 0x1_0000, "dma/S_AXI_LITE/Reg", "AXI DMA registers (MM2S, S2MM)"),
            Segment("status", ps.status_base, 0x1_0000, "accel/s_axil/reg0",
                    "accelerator status registers (rtl/spikeflow_axil_status.v)")]


def processing_system(cfg: BuildConfig) -> ProcessingSystem:
    family = cfg.board.spec.family
    if family not in PROCESSING_SYSTEMS:
        raise ConfigError(f"board {cfg.board.value}: no Zynq processing system for part family {family!r}")
    return PROCESSING_SYSTEMS[family]


def _mem_width(stream_width: int) -> int:
    """The DMA's memory-map width: at least 64 bits (the HP port), never narrower than its stream."""
    return max(64, stream_width)


def script_view(rtl: RtlBuild, cfg: BuildConfig, source: str) -> dict[str, Any]:
    fmt: StreamFormat = rtl.stream
    ps = processing_system(cfg)
    return {
        "source": source, "board": cfg.board.value, "network": rtl.name, "script": SCRIPT, "stream": fmt, "ps": ps,
        "dma": {"length_width": DMA_LENGTH_WIDTH, "mm2s_memory_width": _mem_width(fmt.bus_in_width),
                "s2mm_memory_width": _mem_width(fmt.bus_out_width), "burst": 16},
        "shell": SHELL, "status_addr_width": STATUS_ADDR_WIDTH, "bd_name": BD_NAME,
        "address_map": address_map(ps), "clock_pin": "*/clk_wiz/clk_out1",
        "outputs": {"bit": BIT, "hwh": HWH},
    }


def driver_config(rtl: RtlBuild, cfg: BuildConfig) -> dict[str, Any]:
    """What the PYNQ driver needs: files, stream format and packing, the address map and the registers."""
    fmt = rtl.stream
    ps = processing_system(cfg)
    return {
        "backend": "pynq", "board": cfg.board.value, "part": cfg.board.spec.part, "clock_mhz": cfg.clock,
        "network": rtl.name, "bitstream": BIT, "hwh": HWH, "stream": fmt.as_dict(),
        "packing": {"input": f"each {fmt.in_width}-bit input beat (channel-interleaved pixels, channel 0 in the "
                             f"low byte) in the low bits of a {fmt.bus_in_width}-bit little-endian DMA word, the "
                             f"bits above zero (StreamFormat.pack_frames_bus); one DMA MM2S transfer per batch "
                             f"of BATCH frames ({fmt.beats_per_frame} words each, TLAST on the batch's last word "
                             f"only)",
                    "output": f"{fmt.values_per_frame} {fmt.out_width}-bit little-endian two's-complement values "
                              f"per frame, positions row-major, channel fastest (StreamFormat.unpack_values); "
                              f"one DMA S2MM transfer per batch (TLAST after its BATCH-th frame)"},
        "dma": {"ip": "dma", "mm2s_width": fmt.bus_in_width, "s2mm_width": fmt.bus_out_width,
                "max_transfer_bytes": (1 << DMA_LENGTH_WIDTH) - 1},
        "address_map": {s.name: {"base": s.base, "range": s.range, "summary": s.summary} for s in address_map(ps)},
        "status_registers": [r.as_dict() for r in STATUS_REGISTERS],
    }


class ZynqTarget:
    kind = "zynq"

    def prepare(self, build: BuildDir, cfg: BuildConfig) -> BitstreamPlan:
        net = load_network(build.ir)
        rtl = load_rtl(build.rtl, net)
        spec = cfg.board.spec
        work = (build.bitstream / cfg.board.value).resolve()
        hdl = work / "hdl"
        hdl.mkdir(parents=True, exist_ok=True)
        library = hardware_folder("rtl")
        shell = []
        for name in SHELL_SOURCES:
            shutil.copyfile(library / name, hdl / name)
            shell.append(hdl / name)
        source = str(build.ir_json)
        mem_dir = write_mem_dir_define(hdl, source)
        constraints = render(f"{CONSTRAINTS}.j2", work / CONSTRAINTS, source=source, board=cfg.board.value,
                             clock_mhz=cfg.clock)
        mems = sorted(rtl.out_dir.glob("*.mem"))
        lines = [f"# generated by spikeflow (spikeflow/backends/bitstream/zynq.py) from {source}: the sources of "
                 f"the {cfg.board.value} bitstream, relative to this file",
                 *(relative_to(p, work) for p in [mem_dir, *rtl.sources, *shell, *mems, constraints])]
        sources = work / SOURCES_FILE
        sources.write_text("\n".join(lines) + "\n")
        script = render(f"{SCRIPT}.j2", work / SCRIPT, **script_view(rtl, cfg, source))
        driver = work / "driver.json"
        driver.write_text(json.dumps(driver_config(rtl, cfg), indent=2) + "\n")
        amap = work / "address_map.json"
        amap.write_text(json.dumps(driver_config(rtl, cfg)["address_map"], indent=2) + "\n")
        vivado = Command("vivado", ("-mode", "batch", "-notrace", "-nojournal", "-log", "vivado.log", "-source",
                                    SCRIPT, "-tclargs", spec.part, spec.board_part or "-", f"{cfg.clock:g}",
                                    SOURCES_FILE, "."), work, "vivado.log")
        files = [DeployFile(BIT, work / BIT, "bitstream (PYNQ Overlay)"),
                 DeployFile(HWH, work / HWH, "hardware handoff: block design, address map, clocks (PYNQ Overlay)"),
                 DeployFile("driver.json", driver, "driver config: stream format, packing, address map, registers"),
                 DeployFile("address_map.json", amap, "address map of the PS's control space"),
                 *ir_metadata_files(build),
                 DeployFile("timing_summary.rpt", work / "reports" / "timing_summary.rpt", "Vivado timing summary",
                            to_board=False),
                 DeployFile("utilization.rpt", work / "reports" / "utilization.rpt", "Vivado utilization",
                            to_board=False)]
        return BitstreamPlan(board=cfg.board.value, backend="pynq", work_dir=work,
                             deploy_dir=(build.deploy / cfg.board.value).resolve(), commands=[vivado], files=files,
                             reports_dir=work / "reports", tool_version_file=work / "vivado_version.txt",
                             generated=[script, sources, constraints, driver, amap, mem_dir, *shell])

    def collect(self, plan: BitstreamPlan, build: BuildDir, cfg: BuildConfig) -> dict[str, Any]:
        return collect_vivado_reports(plan, build, cfg)


