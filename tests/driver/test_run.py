"""`spikeflow run`: option values that would run to no purpose, and a source with no readable frame, are one-line
errors with exit code 2."""

from __future__ import annotations

import pytest

from spikeflow.cli import main


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--batch", "0", "--batch must be >= 1, got 0"),
    ("--limit", "-1", "--limit must be >= 1, got -1"),
    ("--limit", "0", "--limit must be >= 1, got 0"),
    ("--conf", "1.5", "--conf must be between 0 and 1, got 1.5"),
    ("--iou", "-1", "--iou must be between 0 and 1, got -1"),
])
def test_out_of_range_options_are_rejected(driver_build, tmp_path, capsys, option: str, value: str,
                                           message: str) -> None:
    out = tmp_path / "det.jsonl"
    args = ["run", str(driver_build.root), "--source", str(tmp_path), "--out", str(out), "--no-progress"]
    assert main([*args, option, value]) == 2
    assert capsys.readouterr().err.strip() == f"spikeflow run: error: {message}"
    assert not out.exists()


def test_a_folder_of_only_unreadable_images_exits_2(driver_build, tmp_path, capsys) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "a.png").write_bytes(b"not a png")
    (photos / "b.jpg").write_bytes(b"")
    out = tmp_path / "det.jsonl"
    assert main(["run", str(driver_build.root), "--source", str(photos), "--out", str(out), "--no-progress"]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith(f"spikeflow run: error: {photos}: none of its 2 frame(s) could be read (first: ")
    assert "a.png" in last
