"""The bitstream step end to end: with a fake Vivado on PATH (the stub), without Vivado, and as a dry run."""

from __future__ import annotations

import json
import os

import pytest

from spikeflow.backends.bitstream.steps import bitstream_flow
from spikeflow.cli import main
from spikeflow.errors import BitstreamError, ConfigError, ToolMissingError
from spikeflow.flow.report import read_report
from spikeflow.hw.boards import Board
from tests.backends.bitstream.stubs import fake_vivado, small_build

VIVADO_BOARDS = [b for b in Board if b.spec.kind in ("zynq", "alveo")]  # ECP5 boards: the pnr step


@pytest.fixture
def no_tools(monkeypatch, tmp_path):
    """PATH without vivado or v++ (only the folders of the system's basic tools)."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", f"{empty}{os.pathsep}/usr/bin{os.pathsep}/bin")


def _with_fake_vivado(monkeypatch, tmp_path, **stub_values):
    log = tmp_path / "calls.jsonl"
    fake_vivado(tmp_path / "bin", log)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    for key, value in stub_values.items():
        monkeypatch.setenv(f"SPIKEFLOW_STUB_{key.upper()}", str(value))
    return log


@pytest.mark.parametrize("board", [Board.PYNQ_Z2, Board.ZCU104], ids=lambda b: b.value)
def test_zynq_build_with_vivado(monkeypatch, tmp_path, board) -> None:
    build, cfg = small_build(tmp_path / "b", board)
    _with_fake_vivado(monkeypatch, tmp_path)
    plan = bitstream_flow(build, cfg)
    timing = read_report(build.root, "timing")
    assert timing["tool"] == "vivado 2023.2" and timing["part"] == board.spec.part
    assert timing["clock_mhz"] == board.spec.clock_mhz and timing["wns_ns"] == 0.412 and timing["whs_ns"] == 0.031
    assert timing["fmax_mhz"] == pytest.approx(1000.0 / (1000.0 / board.spec.clock_mhz - 0.412), abs=1e-3)
    resources = read_report(build.root, "resources")
    assert resources["tool"] == "vivado 2023.2" and resources["part"] == board.spec.part
    deploy = build.deploy / board.value
    manifest = json.loads((deploy / "manifest.json").read_text())
    assert manifest["state"] == "built" and plan.deploy_dir == deploy.resolve()
    to_board = {f["name"] for f in manifest["files"] if f["copy_to_board"]}
    assert to_board == {"spikeflow.bit", "spikeflow.hwh", "driver.json", "address_map.json", "network.json"}
    for name in to_board:
        assert (deploy / name).is_file() and next(f for f in manifest["files"] if f["name"] == name)["present"]
    assert "python3 run.py" in manifest["driver_command"] and "--backend pynq" in manifest["driver_command"]
    assert "spikeflow.hwh" in (deploy / "DEPLOY.md").read_text()


def test_negative_slack_fails_the_step_with_the_timing_report(monkeypatch, tmp_path) -> None:
    build, cfg = small_build(tmp_path / "b", Board.ZCU104)
    _with_fake_vivado(monkeypatch, tmp_path, wns=-0.3)
    with pytest.raises(BitstreamError, match="timing not met after routing: WNS -0.3"):
        bitstream_flow(build, cfg)
    timing = read_report(build.root, "timing")
    assert timing["wns_ns"] == -0.3 and timing["met"] is False
    assert not (build.deploy / "zcu104" / "spikeflow.bit").exists()


@pytest.mark.parametrize("board", VIVADO_BOARDS, ids=lambda b: b.value)
def test_without_the_tool_it_fails_cleanly_after_generating(no_tools, tmp_path, board) -> None:
    build, cfg = small_build(tmp_path / "b", board)
    with pytest.raises(ToolMissingError, match="not found on PATH") as err:
        bitstream_flow(build, cfg)
    assert "docker/run.sh make bitstream" in str(err.value)
    work = build.bitstream / board.value
    assert (work / "sources.f").is_file() and any(work.glob("*.tcl")) and any(work.glob("*.xdc"))
    manifest = json.loads((build.deploy / board.value / "manifest.json").read_text())
    assert manifest["state"] == "tool missing" and not any(f["present"] for f in manifest["files"]
                                                           if f["name"].endswith((".bit", ".xclbin")))


@pytest.mark.parametrize("board", VIVADO_BOARDS, ids=lambda b: b.value)
def test_cli_dry_run_prints_the_commands(no_tools, tmp_path, capsys, board) -> None:
    build, cfg = small_build(tmp_path / "b", board)
    cfg.save(build.config)
    assert main(["bitstream", str(build.root), "--board", board.value, "--dry-run"]) == 0
    out = capsys.readouterr().out
    tool = "vivado -mode batch" if board.spec.kind == "zynq" else "v++ --link"
    assert tool in out and board.spec.part in out and "dry run" in out


def test_an_ecp5_board_is_sent_to_the_pnr_step(no_tools, tmp_path) -> None:
    build, cfg = small_build(tmp_path / "b", Board.ULX3S_85F)
    with pytest.raises(ConfigError, match="ECP5: its bitstream comes from the open flow's pnr step") as err:
        bitstream_flow(build, cfg)
    assert "--from pnr --to pnr" in str(err.value) and "not Vivado" in str(err.value)


def test_cli_without_vivado_exits_2(no_tools, tmp_path, capsys) -> None:
    build, cfg = small_build(tmp_path / "b", Board.PYNQ_Z2)
    cfg.save(build.config)
    assert main(["bitstream", str(build.root)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spikeflow bitstream: error: vivado not found on PATH") and err.count("\n") == 1


def test_cli_without_ir_names_the_command_to_run(tmp_path, capsys) -> None:
    assert main(["bitstream", str(tmp_path / "nothing")]) == 2
    assert "make demo" in capsys.readouterr().err
