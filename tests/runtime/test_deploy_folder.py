"""The deploy folder (build/NAME/deploy/, the deploy step): run.py and its copy of spikeflow_runtime run on numpy
alone, in a process where the flow (spikeflow) and its heavy packages cannot be imported; against the replay
recording and a stand-in pynq board (tests/runtime/fake_pynq_board.py) with the golden model's detections, under
numpy 1.26 in a fresh venv, and with Python 3.8 syntax (vermin). A user's mistake is one line and exit code 2."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from spikeflow.backends.bitstream.steps import bitstream_flow
from spikeflow.driver import open_accelerator
from spikeflow.flow.builddir import BuildDir
from spikeflow.flow.config import BuildConfig, ModelSource
from spikeflow.flow.frames import FrameSet
from spikeflow.hw.boards import Board
from tests.conftest import IN_CI
from tests.driver.builds import SIZE, small_driver_build

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# what a board's Python does not have: the flow and the packages only the flow needs
BLOCKED = ("torch", "brevitas", "qonnx", "onnx", "onnxruntime", "matplotlib", "spikeflow")
FRAMES = 6
BOARD = Board.ZCU104
OLD_NUMPY = "1.26.4"  # the Makefile downloads its wheel for this Python into .venv/wheels (make setup)
WHEELS = Path(sys.prefix) / "wheels"
MIN_PYTHON = (3, 8)
DEPLOYED = ("run.py", "spikeflow_runtime", "model.json", "README.md", "replay.npz", "sample_frames.npy")

# sitecustomize.py of the blocked subprocesses: a meta-path finder first in line refuses the BLOCKED top-level
# packages (and any EXTRA ones), and at exit a report says which modules were loaded and from where.
_SITECUSTOMIZE = textwrap.dedent('''
    import atexit, json, os, sys

    BLOCKED = {blocked!r}


    class _Blocker:
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ModuleNotFoundError("blocked by the test: " + name, name=name)
            return None


    sys.meta_path.insert(0, _Blocker())


    def _report():
        runtime = sys.modules.get("spikeflow_runtime")
        with open({report!r}, "w") as f:
            json.dump({{"modules": sorted(sys.modules), "runtime": getattr(runtime, "__file__", None),
                       "numpy": getattr(sys.modules.get("numpy"), "__version__", None)}}, f)


    atexit.register(_report)
''')

# run in a blocked subprocess: every blocked package fails to import, numpy imports
_PROBE = textwrap.dedent('''
    import importlib, sys
    for name in sys.argv[1:]:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
        raise SystemExit("imported " + name + ": the block does not work")
    import numpy
    print("numpy", numpy.__version__)
''')


@dataclass(frozen=True)
class Deployed:
    build: BuildDir
    folder: Path  # build/deploy
    images: np.ndarray  # sample_frames.npy: [N, H, W, 3] uint8
    golden: list[list[dict]]  # the golden back end's detections of each sample frame (Detection.as_dict)
    step_output: str


@pytest.fixture(scope="module")
def deployed(tmp_path_factory) -> Deployed:
    """A small build (random IR, FRAMES frames, the ZCU104 board folder from a bitstream dry run with stand-in
    bitstream files), then the deploy step through the real command line, --from deploy --to deploy."""
    root = tmp_path_factory.mktemp("deploy") / "build"
    build = small_driver_build(root)
    frames = np.random.default_rng(3).integers(0, 256, size=(FRAMES, 3, SIZE, SIZE), dtype=np.uint8)
    FrameSet(frames, np.zeros((0, 4), np.float32), np.zeros(0, np.int64), np.zeros(0, np.int64),
             [f"frame{i}" for i in range(FRAMES)], "synthetic").save(build.frames)
    plan = bitstream_flow(build, BuildConfig(ModelSource("checkpoint", REPO / "model" / "tiny.pt"), board=BOARD),
                          dry_run=True)
    for name in ("spikeflow.bit", "spikeflow.hwh"):
        (plan.deploy_dir / name).write_bytes(b"stand-in")
    for path in build.deploy.iterdir():  # only the board folder stays: the step must write the rest
        if path != plan.deploy_dir:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    config = root.parent / "deploy.yaml"
    config.write_text(f"model: {{checkpoint: {REPO / 'model' / 'tiny.pt'}}}\nboard: {BOARD.value}\nframes: {FRAMES}\n"
                      f"steps: [export, frames, convert, verify, fold, rtl, deploy]\n")
    proc = subprocess.run([str(BIN / "spikeflow"), "build", str(root), "--config", str(config), "--from", "deploy",
                           "--to", "deploy"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    folder = build.deploy
    images = np.load(folder / "sample_frames.npy")
    with open_accelerator(root, "golden") as acc:
        golden = [[d.as_dict() for d in dets] for dets in acc.detect(list(images))]
    return Deployed(build, folder, images, golden, proc.stdout)


def _blocker(tmp: Path, extra: tuple[str, ...] = ()) -> tuple[Path, Path]:
    """A folder holding the blocking sitecustomize.py, and the report file it writes at exit."""
    folder = tmp / ("block-" + "-".join(extra) if extra else "block")
    folder.mkdir(exist_ok=True)
    report = folder / "report.json"
    (folder / "sitecustomize.py").write_text(_SITECUSTOMIZE.format(blocked=tuple(BLOCKED + extra),
                                                                   report=str(report)))
    return folder, report


def _env(*paths: Path) -> dict[str, str]:
    """A bare environment: PATH, and PYTHONPATH of `paths` only (nothing of the repository)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(paths[0]) if paths else "/",
           "LANG": "C.UTF-8", "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    if paths:
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in paths)
    return env


def _run(folder: Path, *args: str, env: dict[str, str], python: str = sys.executable) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-s", "run.py", *args], cwd=folder, env=env, capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _one_line_error(proc: subprocess.CompletedProcess, *words: str) -> str:
    err = proc.stderr.strip()
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert len(err.splitlines()) == 1 and err.startswith("run.py: error:"), err
    assert "Traceback" not in proc.stdout + proc.stderr
    for w in words:
        assert w in err, err
    return err


def _check_report(report: Path, folder: Path) -> dict:
    """The subprocess imported spikeflow_runtime from the deploy folder and none of the blocked packages."""
    doc = json.loads(report.read_text())
    assert Path(doc["runtime"]).resolve().parent == (folder / "spikeflow_runtime").resolve()
    loaded = {m.partition(".")[0] for m in doc["modules"]}
    assert not loaded & set(BLOCKED), loaded & set(BLOCKED)
    return doc


def _same_detections(out: Path, deployed: Deployed) -> None:
    lines = _lines(out)
    assert [d["frame"] for d in lines] == list(range(len(deployed.images)))
    assert [d["detections"] for d in lines] == deployed.golden
    assert sum(len(d) for d in deployed.golden) > 0  # a comparison of empty lists would prove little


def _fake_pynq(tmp: Path, **config: object) -> Path:
    """A folder with the stand-in board as pynq.py (and its fake_pynq.json)."""
    folder = tmp / "fake"
    folder.mkdir(exist_ok=True)
    shutil.copy(Path(__file__).with_name("fake_pynq_board.py"), folder / "pynq.py")
    (folder / "fake_pynq.json").write_text(json.dumps({"log": str(tmp / "pynq_log.json"), **config}))
    return folder


# -- the deploy step ------------------------------------------------------------------------------------------------
def test_deploy_step_writes_the_folder_and_keeps_the_board_folder(deployed) -> None:
    folder = deployed.folder
    for name in DEPLOYED:
        assert (folder / name).exists(), name
    assert (folder / BOARD.value / "driver.json").is_file() and (folder / BOARD.value / "spikeflow.bit").is_file()
    assert "run.py" in deployed.step_output
    assert deployed.images.shape == (FRAMES, SIZE, SIZE, 3) and deployed.images.dtype == np.uint8
    assert not list(folder.rglob("__pycache__"))
    model = json.loads((folder / "model.json").read_text())
    assert model["stream"]["height"] == SIZE and model["head"]["names"] == ["cat", "dog"]


def test_blocked_subprocess_cannot_import_the_flow(deployed, tmp_path) -> None:
    block, _ = _blocker(tmp_path)
    proc = subprocess.run([sys.executable, "-s", "-c", _PROBE, *BLOCKED, "spikeflow.driver", "torch.nn"],
                          cwd=deployed.folder, env=_env(block), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("numpy ")


# -- run.py in a process without the flow ---------------------------------------------------------------------------
def test_help_needs_only_numpy(deployed, tmp_path) -> None:
    block, report = _blocker(tmp_path)
    proc = _run(deployed.folder, "--help", env=_env(block))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for option in ("--backend", "--source", "--device-fps", "--throughput", "replay", "pynq"):
        assert option in proc.stdout
    _check_report(report, deployed.folder)


def test_replay_run_gives_the_golden_detections(deployed, tmp_path) -> None:
    block, report = _blocker(tmp_path)
    out = tmp_path / "d.jsonl"
    proc = _run(deployed.folder, "--backend", "replay", "--device-fps", "3000", "--source", "sample_frames.npy",
                "--out", str(out), "--no-progress", env=_env(block))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{FRAMES} frames on replay" in proc.stdout
    _same_detections(out, deployed)
    _check_report(report, deployed.folder)


def test_pynq_run_on_a_stand_in_board(deployed, tmp_path) -> None:
    block, report = _blocker(tmp_path)
    fake = _fake_pynq(tmp_path)
    out = tmp_path / "p.jsonl"
    proc = _run(deployed.folder, "--backend", "pynq", "--source", "sample_frames.npy", "--batch", "4", "--out",
                str(out), "--no-progress", env=_env(block, fake))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _same_detections(out, deployed)
    doc = _check_report(report, deployed.folder)
    assert "pynq" in doc["modules"]
    log = json.loads((tmp_path / "pynq_log.json").read_text())
    assert log[0] == ["Overlay", "spikeflow.bit"]
    assert any(e[0] == "send" for e in log) and any(e[0] == "recv" for e in log)
    allocated = {e[1] for e in log if e[0] == "allocate"}
    assert allocated and allocated == {e[1] for e in log if e[0] == "freebuffer"}  # every buffer freed at the end


def test_pynq_throughput_on_a_stand_in_board(deployed, tmp_path) -> None:
    block, _ = _blocker(tmp_path)
    fake = _fake_pynq(tmp_path, unrecorded="zeros")
    proc = _run(deployed.folder, "--backend", "pynq", "--throughput", "16", "--batch", "4", env=_env(block, fake))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "16 frames on pynq" in proc.stdout and "host ms per frame" in proc.stdout


# -- a user's mistakes: one line, exit code 2 -----------------------------------------------------------------------
def test_missing_model_json_is_one_line(deployed, tmp_path) -> None:
    folder = tmp_path / "deploy"
    shutil.copytree(deployed.folder, folder)
    (folder / "model.json").unlink()
    block, _ = _blocker(tmp_path)
    _one_line_error(_run(folder, "--backend", "replay", "--source", "sample_frames.npy", "--no-progress",
                         env=_env(block)), "model.json is missing")


@pytest.mark.parametrize("source", ["no_such_frames.npy", "README.md", "garbage.npy"],
                         ids=["missing", "not-a-source", "not-an-array"])
def test_bad_source_is_one_line(deployed, tmp_path, source) -> None:
    if source == "garbage.npy":
        source = str(tmp_path / source)
        Path(source).write_bytes(b"not a numpy file")
    block, _ = _blocker(tmp_path)
    _one_line_error(_run(deployed.folder, "--backend", "replay", "--source", source, "--out",
                         str(tmp_path / "d.jsonl"), "--no-progress", env=_env(block)), Path(source).name)


def test_pynq_backend_without_pynq_is_one_line(deployed, tmp_path) -> None:
    block, _ = _blocker(tmp_path, extra=("pynq",))  # blocked too, in case this machine has it
    _one_line_error(_run(deployed.folder, "--backend", "pynq", "--source", "sample_frames.npy", "--out",
                         str(tmp_path / "d.jsonl"), "--no-progress", env=_env(block)), "pynq")


# -- Python 3.8: vermin ---------------------------------------------------------------------------------------------
def _vermin() -> str:
    found = shutil.which("vermin", path=str(BIN)) or shutil.which("vermin")
    if found:
        return found
    if IN_CI:
        pytest.fail("CI=true but vermin is not installed (requirements.txt pins it; make setup)")
    pytest.skip("vermin is not installed (pip install vermin, see requirements.txt)")


def _minimum_python(folder: Path) -> tuple[int, tuple[int, ...], int, str]:
    """vermin on `folder` against 3.8: (exit code, minimum Python 3 version, files analysed, output)."""
    proc = subprocess.run([_vermin(), "--no-tips", "--no-config-file", "--violations", "--target=3.8-", str(folder)],
                          capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    versions = re.search(r"^Minimum required versions: (.+)$", out, re.MULTILINE)
    assert versions, out
    py3 = [v.strip() for v in versions.group(1).split(",") if v.strip().startswith("3")]
    minimum = tuple(int(x) for x in py3[0].split(".")) if py3 else (3, 0)
    analysed = re.search(r"Analyzing (\d+) files", out)
    return proc.returncode, minimum, int(analysed.group(1)) if analysed else 0, out


def test_deploy_folder_runs_on_python_3_8(deployed) -> None:
    code, minimum, analysed, out = _minimum_python(deployed.folder)
    assert code == 0 and minimum <= MIN_PYTHON, out
    sources = [p for p in deployed.folder.rglob("*.py")]
    assert analysed == len(sources) and len(sources) > 10, out  # run.py and every module of the runtime


def test_python_3_10_syntax_is_flagged(deployed, tmp_path) -> None:
    folder = tmp_path / "deploy"
    shutil.copytree(deployed.folder, folder, ignore=shutil.ignore_patterns("*.npz", "*.npy", "*.bit", "*.hwh"))
    (folder / "spikeflow_runtime" / "newer.py").write_text(textwrap.dedent('''
        def kind(x):
            match x:
                case 0:
                    return "zero"
            return "other"
    '''))
    code, minimum, _, out = _minimum_python(folder)
    assert code != 0 and minimum == (3, 10) and "newer.py" in out, out


# -- numpy 1.26, in a fresh venv ------------------------------------------------------------------------------------
def _old_numpy_wheel() -> Path:
    wheels = sorted(WHEELS.glob(f"numpy-{OLD_NUMPY}-*.whl"))
    if wheels:
        return wheels[-1]
    message = f"no numpy-{OLD_NUMPY} wheel in {WHEELS}: run 'make setup' (it downloads it once)"
    if IN_CI:
        pytest.fail(f"CI=true but {message}")
    pytest.skip(message)


@pytest.mark.slow
def test_numpy_1_26_venv_runs_the_folder(deployed, tmp_path) -> None:
    """A venv without system site packages and numpy 1.26 only, installed offline from the cached wheel: --help,
    the replay run and the stand-in board give the same detections as the golden back end."""
    wheel = _old_numpy_wheel()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    python = str(venv / "bin" / "python")
    pip_env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    pip_env["PIP_CONFIG_FILE"] = os.devnull  # no index, no find-links but the wheel's folder
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-index",
                           "--no-deps", "--find-links", str(wheel.parent), f"numpy=={OLD_NUMPY}"], env=pip_env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    block, report = _blocker(tmp_path)
    probe = subprocess.run([python, "-s", "-c", _PROBE, *BLOCKED], env=_env(block), capture_output=True, text=True,
                           timeout=60)
    assert probe.returncode == 0 and probe.stdout.strip() == f"numpy {OLD_NUMPY}", probe.stdout + probe.stderr

    proc = _run(deployed.folder, "--help", env=_env(block), python=python)
    assert proc.returncode == 0 and "--backend" in proc.stdout, proc.stdout + proc.stderr
    out = tmp_path / "d.jsonl"
    proc = _run(deployed.folder, "--backend", "replay", "--source", "sample_frames.npy", "--out", str(out),
                "--no-progress", env=_env(block), python=python)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _same_detections(out, deployed)
    assert _check_report(report, deployed.folder)["numpy"] == OLD_NUMPY

    fake = _fake_pynq(tmp_path)
    out = tmp_path / "p.jsonl"
    proc = _run(deployed.folder, "--backend", "pynq", "--source", "sample_frames.npy", "--out", str(out),
                "--no-progress", env=_env(block, fake), python=python)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _same_detections(out, deployed)
