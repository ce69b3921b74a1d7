"""The deploy step: build/NAME/deploy/, what runs next to the accelerator with numpy alone.

It holds a copy of the runtime (spikeflow_runtime), model.json (stream format, decode parameters, clock, cycles),
run.py and a README with the copy-and-run commands, and, from the build's verification frames, a replay
recording (the golden model's outputs) with those frames. The bitstream step adds deploy/BOARD/ with the bitstream
files and driver.json, and runs this step too. Usable without Vivado.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jinja2
import numpy as np
import spikeflow_runtime
from spikeflow_runtime.backends.replay import REPLAY_FILE, Recording

from spikeflow.driver.model import DriverModel
from spikeflow.flow.builddir import BuildDir
from spikeflow.flow.config import BuildConfig
from spikeflow.flow.frames import FrameSet

TEMPLATES = Path(__file__).resolve().parent / "templates"
RUNTIME_PACKAGE = Path(spikeflow_runtime.__file__).resolve().parent
SAMPLE_FRAMES = "sample_frames.npy"
REPLAY_FRAMES = 32  # frames of the build recorded for the replay back end (and shipped as sample_frames.npy)


def step_deploy(build: BuildDir, cfg: BuildConfig) -> None:
    out = write_deploy_folder(build)
    print(f"   {build.relative(out)}: run.py, spikeflow_runtime/, model.json, README.md"
          f"{', replay.npz, ' + SAMPLE_FRAMES if (out / REPLAY_FILE).is_file() else ''}")
    print(f"   try it: cd {out} && python3 run.py --backend replay --source {SAMPLE_FRAMES}")


def write_deploy_folder(build: BuildDir) -> Path:
    """Write build/NAME/deploy/ (keeping the board folders the bitstream step wrote there)."""
    model = DriverModel.of(build.root)
    out = build.deploy
    out.mkdir(parents=True, exist_ok=True)
    target = out / "spikeflow_runtime"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(RUNTIME_PACKAGE, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    model.deployed.save(out)
    replay_frames = _write_replay(model, out)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    view = {"model": model.deployed, "build": build.root, "deploy": out, "version": spikeflow_runtime.__version__,
            "replay_frames": replay_frames, "boards": _boards(out)}
    (out / "run.py").write_text(env.get_template("run.py.j2").render(**view))
    (out / "README.md").write_text(env.get_template("README.md.j2").render(**view))
    return out


def _write_replay(model: DriverModel, out: Path) -> int:
    """replay.npz and sample_frames.npy from the build's verification frames (none when it has no frames.npz)."""
    from spikeflow.golden import run_counts_heads

    if not model.build.frames.is_file():
        for name in (REPLAY_FILE, SAMPLE_FRAMES):
            (out / name).unlink(missing_ok=True)
        return 0
    frames = FrameSet.load(model.build.frames).frames[:REPLAY_FRAMES]  # [N,C,H,W]
    fmt = model.deployed.stream
    hwc = np.ascontiguousarray(fmt.check_frames(frames))
    recording = Recording(fmt.values_per_frame, fmt.value_dtype)
    recording.add(list(hwc.reshape(len(hwc), -1)), fmt.pack_values(run_counts_heads(model.net, frames)))
    recording.save(out / REPLAY_FILE)
    np.save(out / SAMPLE_FRAMES, hwc)
    return len(hwc)


def _boards(out: Path) -> list[dict[str, object]]:
    boards = []
    for manifest in sorted(out.glob("*/manifest.json")):
        doc = json.loads(manifest.read_text())
        present = all(f["present"] for f in doc.get("files", []) if f.get("copy_to_board"))
        boards.append({"name": manifest.parent.name, "present": present, "state": doc.get("state", "")})
    return boards
