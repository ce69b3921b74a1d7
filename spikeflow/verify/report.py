"""verify.json: the one writer of the stage table. Each stage's row is replaced by its latest run; a new export
starts the table afresh."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from spikeflow.flow.report import read_report, write_report
from spikeflow.verify.compare import StageResult


def record_stages(build_root: str | Path, results: Mapping[str, StageResult], **notes: object) -> Path:
    """Merge `results` into report/verify.json (stages not run now keep their last row)."""
    doc = read_report(build_root, "verify")
    stages = doc.get("stages", {})
    stages.update({name: r.as_dict() for name, r in results.items()})
    return write_report(build_root, "verify", {**{k: v for k, v in doc.items() if k not in ("command", "generated")},
                                               **notes, "stages": stages})


def start_stage_table(build_root: str | Path) -> Path:
    """An empty stage table: a new model (the export step) makes every earlier row a statement about another model,
    so none is kept until its stage runs again."""
    return write_report(build_root, "verify", {"stages": {}})


def print_stages(results: Mapping[str, StageResult], frames: int, report: Path) -> None:
    print(f"   verification over {frames} frames:")
    for r in results.values():
        print("     " + r.line())
        for name, head in r.extra.get("heads", {}).items():
            print(f"       head {name}: {head['mismatches']} mismatches in {head['mismatched_frames']} frames")
    print(f"   report: {report}")
