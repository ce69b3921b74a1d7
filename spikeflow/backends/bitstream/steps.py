"""The bitstream step: write the board's scripts, file list and constraints, run Vivado (or v++) when it is on
PATH, read back its reports, and list what to copy to the board in deploy/<board>/.

Without the tool it stops with ToolMissingError after writing everything it can; with dry_run it prints the exact
commands and runs none.
"""

from __future__ import annotations

import shutil
import subprocess

from spikeflow.backends.bitstream.deploy import write_deploy
from spikeflow.backends.bitstream.plan import BitstreamPlan, Command
from spikeflow.backends.bitstream.targets import get_target
from spikeflow.errors import BitstreamError, ToolMissingError
from spikeflow.flow.builddir import BuildDir
from spikeflow.flow.config import BuildConfig

TOOL_HINTS = {
    "vivado": "source /tools/Xilinx/Vivado/<version>/settings64.sh",
    "v++": "source /tools/Xilinx/Vitis/<version>/settings64.sh and XRT's setup.sh",
}


def step_bitstream(build: BuildDir, cfg: BuildConfig) -> None:
    bitstream_flow(build, cfg)


def bitstream_flow(build: BuildDir, cfg: BuildConfig, dry_run: bool = False) -> BitstreamPlan:
    target = get_target(cfg.board.spec.kind)
    plan = target.prepare(build, cfg)
    shown = ", ".join(build.relative(p) for p in plan.generated[:4])
    print(f"   {cfg.board.value} ({cfg.board.spec.part}, {cfg.clock:g} MHz): wrote {shown} in "
          f"{build.relative(plan.work_dir)}")
    print("   commands:")
    for command in plan.commands:
        print(f"     {command.shell()}")
    if dry_run:
        write_deploy(plan, build, cfg, "dry run")
        print(f"   dry run: nothing run; deploy listing in {build.relative(plan.deploy_dir)}")
        return plan
    missing = [tool for tool in plan.tools if shutil.which(tool) is None]
    if missing:
        write_deploy(plan, build, cfg, "tool missing")
        hints = "; ".join(f"{t}: {TOOL_HINTS.get(t, 'put it on PATH')}" for t in missing)
        raise ToolMissingError(
            f"{' and '.join(missing)} not found on PATH: the {cfg.board.value} scripts, file list and constraints are "
            f"in {plan.work_dir} and the deploy listing in {plan.deploy_dir}; to build, {hints}, or run it in "
            f"docker (docker/run.sh make bitstream BOARD={cfg.board.value})")
    try:
        for command in plan.commands:
            _run(command)
    finally:
        timing = target.collect(plan, build, cfg)
        if timing:
            print(f"   timing at {cfg.clock:g} MHz: WNS {timing['wns_ns']} ns, WHS {timing['whs_ns']} ns, Fmax "
                  f"{timing['fmax_mhz']} MHz; report: {build.relative(build.report / 'timing.json')}")
    write_deploy(plan, build, cfg, "built")
    print(f"   deploy: {build.relative(plan.deploy_dir)} (manifest.json, DEPLOY.md)")
    return plan


def _run(command: Command) -> None:
    """Run one tool command from its folder, echoing its output; a failure names the log and the first error."""
    print(f"   running: {command.shell()}", flush=True)
    lines: list[str] = []
    with subprocess.Popen(command.argv(), cwd=command.cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            print(f"     | {lines[-1]}", flush=True)
    if proc.returncode != 0:
        errors = [line.strip() for line in lines if line.lstrip().startswith("ERROR")]
        first = errors[0] if errors else (lines or ["(no output)"])[-1].strip()
        raise BitstreamError(f"{command.tool} failed (exit {proc.returncode}): {first} (log: "
                             f"{command.cwd / command.log})")
