"""Shared helpers of the RTL tests: find verilator (fail under CI, skip otherwise) and run cocotb."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from spikeflow.errors import ToolMissingError
from spikeflow.rtl.tools import use_verilator

REPO = Path(__file__).resolve().parents[2]
RTL_DIR = REPO / "rtl"
SIM_DIR = REPO / "sim"


def require_verilator() -> Path:
    """Put verilator on PATH for this process; without it fail when CI=true, skip otherwise."""
    try:
        return use_verilator()
    except ToolMissingError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {exc}")
        pytest.skip(str(exc))


def run_cocotb(sources: Sequence[Path], toplevel: str, test_module: str, build_dir: Path,
               parameters: Mapping[str, object] | None = None, extra_env: Mapping[str, str] | None = None,
               testcase: Sequence[str] | None = None) -> Path:
    """Build `toplevel` with verilator and run the cocotb `test_module` from sim/; fail on any test failure."""
    require_verilator()
    from cocotb_tools.runner import get_runner  # noqa: PLC0415 - needs verilator on PATH first

    runner = get_runner("verilator")
    build_dir = Path(build_dir)
    runner.build(sources=[str(s) for s in sources], hdl_toplevel=toplevel, parameters=dict(parameters or {}),
                 build_dir=build_dir, always=True, build_args=["-j", "2", "--output-split", "0"],
                 timescale=("1ns", "1ps"))
    env = {"PYTHONPATH": os.pathsep.join([str(SIM_DIR), str(REPO), os.environ.get("PYTHONPATH", "")])}
    env.update(extra_env or {})
    results = runner.test(hdl_toplevel=toplevel, test_module=test_module, test_dir=SIM_DIR,
                          build_dir=build_dir, extra_env=env, testcase=list(testcase) if testcase else None,
                          results_xml=str(build_dir / "results.xml"))
    failed = _failures(Path(results))
    assert not failed, f"cocotb tests failed: {failed} (log in {build_dir})"
    return Path(results)


def _failures(results_xml: Path) -> list[str]:
    import xml.etree.ElementTree as ET  # noqa: PLC0415

    root = ET.parse(results_xml).getroot()
    bad = []
    cases = list(root.iter("testcase"))
    if not cases:
        return ["(no cocotb test ran)"]
    for case in cases:
        if case.find("failure") is not None or case.find("error") is not None:
            bad.append(case.get("name", "?"))
    return bad
