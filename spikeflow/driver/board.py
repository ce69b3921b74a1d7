"""What the board back ends share: finding the bitstream step's driver.json, importing pynq lazily, and waiting on a
device with a deadline. pynq is an optional extra (pip install spikeflow[board]): it pins numpy below 2."""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from spikeflow.driver.model import DriverModel
from spikeflow.errors import DeviceTimeoutError, DriverError, StepError, ToolMissingError

POLL_S = 1e-4  # how often a wait polls the device
SENTINEL = 0x7FFFFFFF  # fills output buffers: no sign-extended head value narrower than 32 bits can be this


def import_pynq() -> ModuleType:
    """The pynq package, imported only by the board back ends, only when one is opened."""
    try:
        return importlib.import_module("pynq")
    except ImportError as exc:
        raise ToolMissingError("the pynq and alveo back ends need PYNQ on the board or Alveo host: pip install "
                               "'spikeflow[board]' (pynq pins numpy<2, so it is not in the core install)") from exc


def find_driver_config(model: DriverModel, backend: str, board: str | None = None) -> tuple[dict[str, Any], Path]:
    """driver.json of the build for `backend` (written by the bitstream step into bitstream/BOARD/ and listed in
    deploy/BOARD/): the board's given, else the build's, else the one board whose driver.json is for `backend`."""
    build = model.build
    if board is None and build.config.is_file():
        from spikeflow.flow.config import load_build_config

        board = load_build_config(build.config).board.value
    boards = [board] if board else sorted(p.parent.name for p in build.deploy.glob("*/driver.json"))
    for name in boards:
        for folder in (build.deploy / name, build.bitstream / name):
            path = folder / "driver.json"
            if path.is_file():
                doc = json.loads(path.read_text())
                if doc.get("backend") == backend:
                    _check_stream(doc, model, path)
                    return doc, folder
    raise StepError(f"{build.root}: no driver.json for the {backend} back end{f' and board {board}' if board else ''} "
                    f"in deploy/BOARD/ or bitstream/BOARD/: run 'spikeflow bitstream {build.root} --board BOARD'")


def _check_stream(doc: dict[str, Any], model: DriverModel, path: Path) -> None:
    """The bitstream's stream format must be the build IR's: otherwise every frame would be garbage."""
    built = model.stream.as_dict()
    theirs = doc.get("stream", {})
    diff = [k for k in built if theirs.get(k) != built[k]]
    if diff:
        raise DriverError(f"{path}: the bitstream's stream format differs from the build's IR in {', '.join(diff)} "
                          f"({', '.join(f'{k}: {theirs.get(k)} != {built[k]}' for k in diff[:3])}): rebuild the "
                          f"bitstream")


def wait_until(done: Callable[[], bool], timeout_s: float, what: Callable[[], str]) -> None:
    """Poll `done` until it is true; past `timeout_s` raise DeviceTimeoutError with `what()` (never a hang)."""
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise DeviceTimeoutError(f"{what()}: no answer within {timeout_s:.3g} s (timeout from the expected "
                                     f"cycles at the build's clock)")
        time.sleep(POLL_S)
