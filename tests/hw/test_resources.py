"""The resource model's fits per synthesis family: the xcup fit for the Xilinx parts, the ECP5 fit for the ULX3S,
and the fold step choosing by the board."""

from __future__ import annotations

import json

from spikeflow.flow.config import BuildConfig, ModelSource
from spikeflow.flow.report import read_report
from spikeflow.flow.steps.hardware import step_fold
from spikeflow.hw import resources
from spikeflow.hw.autofold import fold_to_target
from spikeflow.hw.boards import Board
from spikeflow.hw.resources import (
    CALIBRATION,
    DEFAULT_MODEL,
    calibration_file,
    layer_resources,
    load_model,
    model_for,
    total,
)
from tests.backends.bitstream.stubs import small_build
from tests.hw.test_autofold import _tiny_like


def test_the_xilinx_families_share_the_xcup_fit() -> None:
    for family in ("xcup", "xc7"):
        assert model_for(family) == (DEFAULT_MODEL, CALIBRATION)
    assert "(xcup)" in CALIBRATION


def test_the_ecp5_fit_is_its_own_and_was_made_by_synth_ecp5_runs() -> None:
    doc = json.loads(calibration_file("ecp5").read_text())
    assert doc["family"] == "ecp5" and doc["tool"].startswith("yosys") and doc["layers_fitted"] >= 10
    model, note = model_for("ecp5")
    assert model != DEFAULT_MODEL and "(ecp5)" in note
    assert (model, note) == load_model(calibration_file("ecp5"))


def test_without_an_ecp5_fit_the_xcup_fit_is_used_and_the_note_says_so(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(resources.CALIBRATION_FILES, "ecp5", tmp_path / "missing.json")
    model, note = model_for("ecp5")
    assert model == DEFAULT_MODEL and note.startswith("no ecp5 fit (missing.json missing): the xcup fit")


def test_the_ecp5_fit_counts_more_lut4s_than_the_xcup_fit_counts_luts() -> None:
    # a LUT4 holds less logic than a LUT6: the same folding needs more of them (measured: about 2x on the routed
    # designs, README)
    net = _tiny_like()
    spec = Board.ULX3S_85F.spec
    plan = fold_to_target(net, spec.clock_mhz, 1_000, spec.capacity)
    ecp5 = total(layer_resources(net, plan.folding, model_for("ecp5")[0]))
    xcup = total(layer_resources(net, plan.folding, DEFAULT_MODEL))
    assert ecp5["LUT"] > 1.3 * xcup["LUT"]


def test_the_fold_step_uses_the_boards_fit(tmp_path) -> None:
    build, _ = small_build(tmp_path / "b", Board.ULX3S_85F)
    for board, family in ((Board.ULX3S_85F, "ecp5"), (Board.ZCU104, "xcup")):
        cfg = BuildConfig(ModelSource("checkpoint", tmp_path / "model.pt"), board=board, target_fps=100)
        step_fold(build, cfg)
        plan = read_report(build.root, "folding")
        assert plan["resource_model"] == model_for(family)[1] and f"({family})" in plan["resource_model"]
