"""Shared helpers of the HLS tests: find g++, the ap_types headers and tclsh (fail under CI, skip otherwise)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from spikeflow.backends.hls.csim import ap_types_folder, find_cxx
from spikeflow.errors import ToolMissingError


def _missing(message: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {message}")
    pytest.skip(message)


def require_csim() -> None:
    """g++ and hls4ml's ap_types headers, which the HLS C-simulation compiles with."""
    try:
        find_cxx()
        ap_types_folder()
    except ToolMissingError as exc:
        _missing(str(exc))


def require_tclsh() -> Path:
    found = shutil.which("tclsh")
    if not found:
        _missing("tclsh not found (Debian: apt-get install tcl)")
    return Path(str(found))
