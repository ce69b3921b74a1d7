"""Run spikeflow's Vivado/Vitis scripts under tclsh against a stub of the tool commands, and read the calls back."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from spikeflow.backends.rtl import generate_rtl
from spikeflow.flow.builddir import BuildDir
from spikeflow.flow.config import BuildConfig, ModelSource
from spikeflow.hw.boards import Board
from spikeflow.ir.random import random_network
from tests.conftest import IN_CI

HERE = Path(__file__).resolve().parent
STUB = HERE / "vivado_stub.tcl"
REPORTS = HERE / "reports"


def require_tool(name: str) -> str:
    """The tool's path; without it fail when CI=true, skip otherwise."""
    found = shutil.which(name)
    if found:
        return found
    if IN_CI:
        pytest.fail(f"CI=true but {name} is not installed")
    pytest.skip(f"{name} is not installed")


def small_build(root: Path, board: Board, pixels_per_beat: int = 1) -> tuple[BuildDir, BuildConfig]:
    """A build folder with an IR and its RTL (a small random network), and a config for `board`."""
    net = random_network(np.random.default_rng(5), input_shape=(3, 8, 6), channels=(4,), pool_after=(False,),
                         head_channels=5, name="stubnet")
    build = BuildDir(root)
    net.save(build.ir)
    generate_rtl(net, build.rtl, pixels_per_beat=pixels_per_beat)
    cfg = BuildConfig(ModelSource("checkpoint", root / "model.pt"), board=board)
    return build, cfg


@dataclass
class Call:
    cmd: str
    args: list[str]
    dict: dict[str, str]


@dataclass
class StubRun:
    returncode: int
    output: str
    calls: list[Call]

    def named(self, cmd: str) -> list[Call]:
        return [c for c in self.calls if c.cmd == cmd]

    def index(self, cmd: str) -> int:
        """Position of the first call of `cmd` (fails the test when it was never called)."""
        for i, c in enumerate(self.calls):
            if c.cmd == cmd:
                return i
        raise AssertionError(f"{cmd} was never called")

    def properties(self, obj: str) -> dict[str, str]:
        """Every CONFIG value set with set_property -dict on `obj`, merged."""
        out: dict[str, str] = {}
        for c in self.named("set_property"):
            if c.args and c.args[-1] == obj:
                out.update(c.dict)
        return out


def stub_env(log: Path, **values: object) -> dict[str, str]:
    env = dict(os.environ, SPIKEFLOW_STUB_LOG=str(log), SPIKEFLOW_STUB_REPORTS=str(REPORTS))
    env.update({f"SPIKEFLOW_STUB_{k.upper()}": str(v) for k, v in values.items()})
    return env


def run_script(script: Path, args: list[str], cwd: Path, **values: object) -> StubRun:
    """tclsh the stub with `script` and its -tclargs, from `cwd`; values set the stub's WNS, WHS, CRITICAL."""
    tclsh = require_tool("tclsh")
    log = cwd / "stub_calls.jsonl"
    log.unlink(missing_ok=True)
    proc = subprocess.run([tclsh, str(STUB), str(script), *args], cwd=cwd, env=stub_env(log, **values),
                          capture_output=True, text=True)
    calls = [Call(d["cmd"], d["args"], d.get("dict", {}))
             for d in map(json.loads, log.read_text().splitlines())] if log.is_file() else []
    return StubRun(proc.returncode, proc.stdout + proc.stderr, calls)


def tclargs(argv: list[str]) -> tuple[Path, list[str]]:
    """The script and the -tclargs of a `vivado -mode batch -source SCRIPT -tclargs ...` command."""
    return Path(argv[argv.index("-source") + 1]), argv[argv.index("-tclargs") + 1:]


def fake_vivado(bin_dir: Path, log: Path) -> Path:
    """A `vivado` executable on bin_dir that runs its -source script under tclsh against the stub."""
    tclsh = require_tool("tclsh")
    bin_dir.mkdir(parents=True, exist_ok=True)
    exe = bin_dir / "vivado"
    exe.write_text(f"""#!/bin/sh
# fake vivado for tests: vivado -mode batch ... -source SCRIPT -tclargs ARGS -> tclsh vivado_stub.tcl SCRIPT ARGS
while [ $# -gt 0 ]; do
  case "$1" in
    -source) script="$2"; shift 2 ;;
    -tclargs) shift; break ;;
    *) shift ;;
  esac
done
SPIKEFLOW_STUB_LOG="{log}" SPIKEFLOW_STUB_REPORTS="{REPORTS}" exec "{tclsh}" "{STUB}" "$script" "$@"
""")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return exe


FAKE_VPP = '''#!{python}
"""fake v++ for tests: records its arguments, checks the .xo and link.cfg, then plays the implementation under the
Vivado stub (synth, opt, place, route) and sources link.cfg's post-route hook, as v++ --link would."""
import json, os, subprocess, sys, tempfile
args = sys.argv[1:]
log = os.environ.get("SPIKEFLOW_STUB_LOG", {log!r})
with open(log, "a") as f:
    f.write(json.dumps({{"cmd": "v++", "args": args}}) + "\\n")
out = args[args.index("-o") + 1]
xo = args[-1]
if not os.path.isfile(xo):
    print(f"ERROR: [v++ 60-602] Input file not found: {{xo}}"); sys.exit(1)
hook = None
for line in open(args[args.index("--config") + 1]):
    if line.startswith("prop=run.impl_1.STEPS.ROUTE_DESIGN.TCL.POST="):
        hook = line.split("=", 2)[2].strip()
if not hook or not os.path.isfile(hook):
    print(f"ERROR: post-route hook {{hook}} not found"); sys.exit(1)
with tempfile.NamedTemporaryFile("w", suffix=".tcl", delete=False) as t:
    t.write("create_project -in_memory -part xcu50-fsvh2104-2-e\\nsynth_design -top level0_wrapper\\nopt_design\\n"
            "place_design\\nroute_design\\nsource " + hook + "\\nwrite_bitstream routed.bit\\n")
env = dict(os.environ, SPIKEFLOW_STUB_LOG=log, SPIKEFLOW_STUB_REPORTS={reports!r})
proc = subprocess.run([{tclsh!r}, {stub!r}, t.name], env=env, capture_output=True, text=True)
print(proc.stdout, end="")
if proc.returncode:
    print("ERROR: [v++ 60-773] In step impl: the implementation failed"); sys.exit(1)
open(out, "w").write("stub xclbin\\n")
'''


def fake_vpp(bin_dir: Path, log: Path) -> Path:
    """A `v++` executable on bin_dir (see FAKE_VPP)."""
    import sys

    tclsh = require_tool("tclsh")
    bin_dir.mkdir(parents=True, exist_ok=True)
    exe = bin_dir / "v++"
    exe.write_text(FAKE_VPP.format(python=sys.executable, log=str(log), reports=str(REPORTS), tclsh=tclsh,
                                   stub=str(STUB)))
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return exe
