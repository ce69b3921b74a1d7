"""deploy/<board>/: the files to copy to the board (or the Alveo host), a manifest, and the steps to follow."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from spikeflow.backends.bitstream.plan import DeployFile, script_environment
from spikeflow.flow.builddir import BuildDir
from spikeflow.flow.report import command_line, file_sha256

if TYPE_CHECKING:
    from spikeflow.backends.bitstream.plan import BitstreamPlan
    from spikeflow.flow.config import BuildConfig

MANIFEST = "manifest.json"
NOTES = "DEPLOY.md"
DRIVER_COMMAND = "python3 run.py --backend {backend} --source PATH"  # deploy/run.py (spikeflow_runtime)


def ir_metadata_files(build: BuildDir) -> list[DeployFile]:
    """The IR's metadata the driver reads: network.json (shapes, layers, timesteps) and model_info.json (class names,
    anchors), when the build has it. The weights (network.npz) are in the bitstream and stay behind."""
    files = [DeployFile("network.json", build.ir_json, "the FewdIF IR's metadata: shapes, layers, timesteps")]
    if build.model_info.is_file():
        files.append(DeployFile("model_info.json", build.model_info, "class names, anchors and input size"))
    return files


def write_deploy(plan: BitstreamPlan, build: BuildDir, cfg: BuildConfig, state: str) -> Path:
    """Copy the files that exist into deploy/<board>/ and write manifest.json and DEPLOY.md.

    state: "built" (the tools ran), "dry run" or "tool missing"; files not made yet are listed as pending."""
    out = plan.deploy_dir
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for f in plan.files:
        present = f.source.is_file()
        if present:
            shutil.copyfile(f.source, out / f.name)
        elif (out / f.name).is_file():
            (out / f.name).unlink()  # a stale copy from an earlier run
        entries.append({"name": f.name, "role": f.role, "copy_to_board": f.to_board, "present": present,
                        "source": str(f.source), "sha256": file_sha256(f.source) if present else None})
    driver = DRIVER_COMMAND.format(backend=plan.backend)
    manifest = {"board": plan.board, "part": cfg.board.spec.part, "platform": cfg.board.spec.platform or None,
                "clock_mhz": cfg.clock, "backend": plan.backend, "state": state, "files": entries,
                "commands": [c.shell() for c in plan.commands],
                "driver_command": driver,
                "driver_note": f"from {out.parent}, copied whole to the board: run.py needs Python >= 3.8, numpy "
                               f"and pynq there, not spikeflow",
                "command": command_line()}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    notes = script_environment().get_template(f"{NOTES}.j2").render(manifest=manifest, build=build.root,
                                                                    deploy=out)
    (out / NOTES).write_text(notes)
    from spikeflow.driver.deploy import write_deploy_folder
    from spikeflow.errors import StepError

    try:
        write_deploy_folder(build)  # run.py, the runtime and model.json next to the board folders
    except StepError as exc:  # a network without a detection head: nothing for run.py to decode
        print(f"   {build.relative(build.deploy)}: no run.py ({exc})")
    return out
