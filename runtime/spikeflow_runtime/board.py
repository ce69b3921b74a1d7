"""What the board back ends share: finding the bitstream's driver.json, importing pynq lazily, and waiting on a
device with a deadline. pynq is an optional extra (pip install 'spikeflow-runtime[board]'): it pins numpy < 2."""

from __future__ import annotations

import importlib
import json
import time
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Sequence

from spikeflow_runtime.errors import ConfigError, DeviceTimeoutError, DriverError, ToolMissingError
from spikeflow_runtime.stream import StreamFormat

POLL_S = 1e-4  # how often a wait polls the device
SENTINEL = 0x7FFFFFFF  # fills output buffers: no sign-extended head value narrower than 32 bits can be this
DRIVER_FILE = "driver.json"


def import_pynq() -> ModuleType:
    """The pynq package, imported only by the board back ends, only when one is opened."""
    try:
        return importlib.import_module("pynq")
    except ImportError as exc:
        raise ToolMissingError("the pynq and alveo back ends need PYNQ on the board or Alveo host: pip install "
                               "'spikeflow-runtime[board]' (PYNQ images have it)") from exc


def find_driver_config(folders: Sequence[Path], backend: str, stream: StreamFormat,
                       board: str | None = None) -> tuple[dict[str, Any], Path]:
    """driver.json for `backend`: in FOLDER/BOARD/ for each of `folders` (a deploy folder; in the flow also the
    build's bitstream/), the given board's, else the one board whose driver.json is for `backend`."""
    candidates = []
    for root in folders:
        names = [board] if board else sorted(p.parent.name for p in Path(root).glob(f"*/{DRIVER_FILE}"))
        candidates += [Path(root) / name for name in names]
    found = []
    for folder in candidates:
        path = folder / DRIVER_FILE
        if path.is_file():
            try:
                doc = json.loads(path.read_text())
            except ValueError as exc:
                raise ConfigError(f"{path}: not JSON ({exc})") from exc
            if doc.get("backend") == backend:
                found.append((doc, folder))
    boards = sorted({f.name for _, f in found})
    if len(boards) > 1:
        raise ConfigError(f"driver.json for the {backend} back end for several boards ({', '.join(boards)}): give "
                          f"--board")
    if not found:
        where = " or ".join(str(Path(r) / (board or "BOARD")) for r in folders)
        raise ConfigError(f"no {DRIVER_FILE} for the {backend} back end{f' and board {board}' if board else ''} in "
                          f"{where}: build the bitstream ('spikeflow bitstream BUILD --board BOARD') and deploy it")
    doc, folder = found[0]
    check_stream(doc, stream, folder / DRIVER_FILE)
    return doc, folder


def check_stream(doc: dict[str, Any], stream: StreamFormat, path: Path) -> None:
    """The bitstream's stream format must be the model's: otherwise every frame would be garbage."""
    built = stream.as_dict()
    theirs = doc.get("stream", {})
    diff = [k for k in built if theirs.get(k) != built[k]]
    if diff:
        raise DriverError(f"{path}: the bitstream's stream format differs from the model's in {', '.join(diff)} "
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
