"""Run a build's steps in order, from and to a named step, timing each (report/time_per_step.json)."""

from __future__ import annotations

import time
from pathlib import Path

from spikeflow.errors import ConfigError, StepError
from spikeflow.flow.builddir import BuildDir
from spikeflow.flow.config import BuildConfig
from spikeflow.flow.registry import Step, get_step
from spikeflow.flow.report import write_report


def select_steps(cfg: BuildConfig, first: str | None = None, last: str | None = None) -> list[Step]:
    """The config's steps from `first` to `last` (inclusive), in the config's order."""
    names = list(cfg.steps)
    for bound in (first, last):
        if bound is not None:
            get_step(bound)  # an unknown name is a ConfigError that lists the steps
            if bound not in names:
                raise ConfigError(f"step {bound!r} is not among this build's steps ({', '.join(names)})")
    start = names.index(first) if first else 0
    stop = names.index(last) + 1 if last else len(names)
    if start >= stop:
        raise ConfigError(f"--from {first} comes after --to {last} in the steps ({', '.join(names)})")
    return [get_step(n) for n in names[start:stop]]


def check_inputs(step: Step, build: BuildDir, cfg_path: str) -> None:
    for need in step.inputs:
        path: Path = getattr(build, need.attr)
        if not path.exists():
            raise StepError(f"step {step.name!r} needs {path}, which step {need.made_by!r} makes: run "
                            f"'spikeflow build {build.root} --config {cfg_path} --from {need.made_by}'")


def run_build(build_dir: str | Path, cfg: BuildConfig, first: str | None = None, last: str | None = None,
              config_path: str = "build.yaml") -> dict[str, float]:
    """Run the selected steps; returns (and writes to report/time_per_step.json) seconds per step."""
    build = BuildDir(Path(build_dir))
    steps = select_steps(cfg, first, last)
    build.root.mkdir(parents=True, exist_ok=True)
    cfg.save(build.config)
    times: dict[str, float] = {}
    started = time.time()
    try:
        for step in steps:
            check_inputs(step, build, config_path)
            print(f"== {step.name}: {step.summary}", flush=True)
            t0 = time.time()
            step.load()(build, cfg)
            times[step.name] = round(time.time() - t0, 3)
            print(f"   {step.name} done in {times[step.name]:.1f} s", flush=True)
    finally:
        if times:
            write_report(build.root, "time_per_step", {"steps": times,
                                                       "total_seconds": round(time.time() - started, 3)})
    print(f"build {build.root}: {', '.join(f'{k} {v:.1f} s' for k, v in times.items())}; "
          f"total {time.time() - started:.0f} s")
    return times
