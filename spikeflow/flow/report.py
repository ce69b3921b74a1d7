"""Report files in build/<name>/report/: JSON, each recording the command and time that produced it."""

from __future__ import annotations

import hashlib
import json
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def command_line() -> str:
    return " ".join(shlex.quote(a) for a in sys.argv)


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, as reports record which file they were made from."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_report(build_dir: str | Path, name: str, values: dict[str, Any], merge: bool = False) -> Path:
    """Write build_dir/report/<name>.json; with merge, keys already there and not in `values` are kept."""
    path = Path(build_dir) / "report" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = {}
    if merge and path.is_file():
        doc = json.loads(path.read_text())
    doc.update(values)
    doc["command"] = command_line()
    doc["generated"] = datetime.now(UTC).isoformat(timespec="seconds")
    path.write_text(json.dumps(doc, indent=2, default=_plain) + "\n")
    return path


def read_report(build_dir: str | Path, name: str) -> dict[str, Any]:
    path = Path(build_dir) / "report" / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to a report")
