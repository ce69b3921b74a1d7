"""Shared helpers of the RTL tests: find verilator (fail under CI, skip otherwise) and run cocotb."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from spikeflow.backends.rtl.tools import use_verilator
from spikeflow.errors import ToolMissingError

REPO = Path(__file__).resolve().parents[3]
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
               testcase: Sequence[str] | None = None, build_args: Sequence[str] = (), public_depth: int = 1) -> Path:
    """Build `toplevel` with verilator and run the cocotb `test_module` from sim/; fail on any test failure.
    `public_depth`: the module levels the testbench sees (1: the top's ports)."""
    require_verilator()
    runner = _cached_runner()
    runner.public_depth = public_depth
    build_dir = Path(build_dir)
    runner.build(sources=[str(s) for s in sources], hdl_toplevel=toplevel, parameters=dict(parameters or {}),
                 build_dir=build_dir, always=True, build_args=["-j", "2", "--output-split", "0", *build_args],
                 timescale=("1ns", "1ps"))
    _store_runtime(build_dir)
    env = {"PYTHONPATH": os.pathsep.join([str(SIM_DIR), str(REPO), os.environ.get("PYTHONPATH", "")])}
    env.update(extra_env or {})
    results = runner.test(hdl_toplevel=toplevel, test_module=test_module, test_dir=SIM_DIR,
                          build_dir=build_dir, extra_env=env, testcase=list(testcase) if testcase else None,
                          results_xml=str(build_dir / "results.xml"))
    failed = _failures(Path(results))
    assert not failed, f"cocotb tests failed: {failed} (log in {build_dir})"
    return Path(results)


# The Verilator runtime objects (verilated*.o) do not depend on the design: compile them once per machine and
# Verilator install and copy them into every cocotb build folder (make then skips them), which saves most
# of each build's time.
_RUNTIME = ("verilated", "verilated_vpi", "verilated_threads", "verilated_dpi")


def _runtime_cache() -> Path:
    key = hashlib.sha256(os.environ.get("VERILATOR_ROOT", str(require_verilator())).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"spikeflow-verilated-{key}"


_RESTORE = """
import os, shutil, sys
cache, build = sys.argv[1], sys.argv[2]
names = sys.argv[3:]
if all(os.path.isfile(os.path.join(cache, n + ".o")) for n in names):
    for n in names:
        for ext in (".o", ".d"):
            shutil.copyfile(os.path.join(cache, n + ext), os.path.join(build, n + ext))
        os.utime(os.path.join(build, n + ".o"))  # newer than the Vtop.mk verilator just wrote
"""


def _cached_runner():
    """A cocotb Verilator runner that reuses the cached runtime objects between verilator and make."""
    from spikeflow.backends.rtl.cocotb_runner import ports_only_verilator_class

    cache = _runtime_cache()

    class CachedVerilator(ports_only_verilator_class()):
        def _build_command(self):
            cmds = super()._build_command()
            restore = [sys.executable, "-c", _RESTORE, str(cache), str(self.build_dir), *_RUNTIME]
            return [cmds[0], restore, *cmds[1:]]

    return CachedVerilator()


def _store_runtime(build_dir: Path) -> None:
    cache = _runtime_cache()
    if all((cache / f"{n}.o").is_file() for n in _RUNTIME):
        return
    if not all((build_dir / f"{n}{ext}").is_file() for n in _RUNTIME for ext in (".o", ".d")):
        return
    tmp = Path(tempfile.mkdtemp(prefix=cache.name + ".", dir=cache.parent))
    for n in _RUNTIME:
        for ext in (".o", ".d"):
            shutil.copy2(build_dir / f"{n}{ext}", tmp / f"{n}{ext}")
    try:
        tmp.rename(cache)  # atomic; another process may have won the race
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)


def ran_testcases(results_xml: Path) -> list[str]:
    """Names of the cocotb tests a results file records as run (not skipped)."""
    import xml.etree.ElementTree as ET  # noqa: PLC0415

    return [c.get("name", "?") for c in ET.parse(results_xml).getroot().iter("testcase")
            if c.find("skipped") is None]


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
