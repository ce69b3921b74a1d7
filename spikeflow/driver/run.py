"""`spikeflow run`: stream a source through a build's accelerator with the runtime's run loop
(spikeflow_runtime.runner), opened from the build folder. On the replay back end the source is read once first and
the golden model's answers recorded (untimed), so the run measures the host path against a device at
--device-fps."""

from __future__ import annotations

import argparse
from pathlib import Path

from spikeflow_runtime.cli import backend_options, run_command, run_options
from spikeflow_runtime.errors import ConfigError
from spikeflow_runtime.runner import RunOptions, RunResult, print_run, run_source

from spikeflow.driver.open import open_accelerator

__all__ = ["RunOptions", "RunResult", "print_run", "run_build", "run_source"]


def run_build(args: argparse.Namespace) -> None:
    opts = run_options(args)
    acc = open_accelerator(Path(args.build), args.backend, opts.decode, **backend_options(args))
    if args.backend == "replay" and not args.throughput:
        from spikeflow_runtime.sources import open_source

        source = open_source(opts.source)
        if not hasattr(source, "__len__") or getattr(source, "kind", "") == "camera":
            raise ConfigError("the replay back end needs a source it can read twice (a folder, video or array): it "
                              "records the golden model's outputs first")
        acc.record_source(source, opts.workers)
    run_command(acc, args, opts)
