"""verilator_env: Verilator's C++ compiles go through ccache when it is on PATH, with a store per processor inside
SPIKEFLOW_CACHE; a user's own OBJCACHE is kept; without ccache nothing is set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from spikeflow.backends.rtl.tools import verilator_env
from tests.backends.rtl.simtools import require_verilator


def _path_with(tmp_path: Path, tools: list[str]) -> str:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in tools:
        exe = bin_dir / tool
        exe.write_text("#!/bin/sh\nexit 0\n")
        exe.chmod(0o755)
    return f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin"


def test_ccache_is_used_when_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_verilator()
    monkeypatch.setenv("SPIKEFLOW_CACHE", str(tmp_path / "cache"))
    env = verilator_env({"PATH": _path_with(tmp_path, ["ccache"])})
    assert env["OBJCACHE"] == "ccache"
    store = Path(env["CCACHE_DIR"])
    assert store.parent == tmp_path / "cache" / "ccache" and len(store.name) == 12


def test_a_users_objcache_is_kept_and_no_ccache_means_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_verilator()
    monkeypatch.setenv("SPIKEFLOW_CACHE", str(tmp_path / "cache"))
    env = verilator_env({"PATH": _path_with(tmp_path, ["ccache"]), "OBJCACHE": ""})
    assert env["OBJCACHE"] == "" and "CCACHE_DIR" not in env
    empty = tmp_path / "empty"
    empty.mkdir()
    env = verilator_env({"PATH": str(empty)})
    assert "OBJCACHE" not in env and "CCACHE_DIR" not in env
