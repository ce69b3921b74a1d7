"""Formal equivalence of the lane sums' two formulations (logic for synthesis, word arithmetic for the fast harness):
proven on small parameter sets of each kind, and a deliberately wrong variant of either side is caught."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from spikeflow.backends.rtl.equivalence import (
    LIBRARY,
    LaneSumParams,
    check_lane_sums,
    lane_sum_instances,
    prove_lane_sum,
)
from spikeflow.hw.sources import hardware_folder
from tests.conftest import IN_CI

RTL = hardware_folder("rtl")


def _need_tools() -> None:
    for tool in ("yosys", "yosys-abc"):
        if shutil.which(tool) is None:
            if IN_CI:
                pytest.fail(f"CI=true but {tool} is not installed ('make setup' installs yosys)")
            pytest.skip(f"{tool} not installed")


def _neuron(**over: int) -> dict[str, int]:
    p = {"N_IN": 20, "IN_BITS": 2, "IN_KIND": 1, "IN_MAX": 3, "PE": 2, "SIMD": 20, "TIME_PARALLEL": 1,
         "WEIGHT_BITS": 4, "ACC_BITS": 11, "USE_DSP": 0}
    p.update(over)
    return p


SPIKES = LaneSumParams.of_neuron(_neuron())                       # 2 lanes, a chunk and a partial one
PIXELS = LaneSumParams.of_neuron(_neuron(IN_BITS=8, IN_KIND=0, IN_MAX=255, SIMD=5, ACC_BITS=16))  # 4 digits
PIXELS_DSP = LaneSumParams.of_neuron(_neuron(IN_BITS=8, IN_KIND=0, IN_MAX=255, SIMD=3, ACC_BITS=16, USE_DSP=1))
SERIAL = LaneSumParams.of_neuron(_neuron(TIME_PARALLEL=0, SIMD=9, WEIGHT_BITS=5))
WIDE_WEIGHTS = LaneSumParams.of_neuron(_neuron(SIMD=17, WEIGHT_BITS=6, ACC_BITS=14))  # 1-bit digits
# the SWAR word formulation's other digit layouts: plane bits (1 bit apart), 3-bit counts (two digits, 4 bits apart)
SERIAL_SWAR = LaneSumParams.of_neuron(_neuron(TIME_PARALLEL=0, SIMD=20))
COUNTS7 = LaneSumParams.of_neuron(_neuron(IN_BITS=3, IN_MAX=7, SIMD=18, ACC_BITS=12))


def test_parameters_mirror_the_neuron() -> None:
    assert (SPIKES.xb, SPIKES.digit, SPIKES.dsp, SPIKES.latency) == (2, 2, False, 5)  # clog2(20) = 5 levels
    assert (PIXELS.xb, PIXELS.digit, PIXELS.latency) == (8, 2, 3 + 2)  # 3 levels, then 4 digits in 2
    assert (PIXELS_DSP.digit, PIXELS_DSP.dsp, PIXELS_DSP.latency) == (8, True, 1 + 2)
    assert (SERIAL.xb, SERIAL.digit, SERIAL.latency) == (1, 1, 4)
    assert (WIDE_WEIGHTS.digit, WIDE_WEIGHTS.latency) == (1, 6)
    assert (SERIAL_SWAR.xb, SERIAL_SWAR.digit, COUNTS7.xb, COUNTS7.digit) == (1, 1, 3, 2)


@pytest.mark.parametrize("params", [SPIKES, PIXELS, PIXELS_DSP, SERIAL, WIDE_WEIGHTS, SERIAL_SWAR, COUNTS7],
                         ids=["spikes", "pixels", "pixels-dsp", "serial", "wide-weights", "serial-swar", "counts7"])
def test_the_two_formulations_are_proven_equal(params: LaneSumParams, tmp_path: Path) -> None:
    _need_tools()
    result = prove_lane_sum(params, RTL, tmp_path)
    assert result.verdict == "equivalent", result.detail


def _mutated_library(tmp_path: Path, old: str, new: str) -> Path:
    lib = tmp_path / "lib"
    lib.mkdir()
    for name in LIBRARY:
        text = (RTL / name).read_text()
        if old in text:
            assert text.count(old) == 1, f"mutation target {old!r} is not unique in {name}"
            text = text.replace(old, new)
        (lib / name).write_text(text)
    assert (lib / LIBRARY[0]).read_text() != (RTL / LIBRARY[0]).read_text() or \
        (lib / LIBRARY[1]).read_text() != (RTL / LIBRARY[1]).read_text(), "the mutation changed nothing"
    return lib


@pytest.mark.parametrize("old, new, weight_bits", [
    # the word formulation's per-term sums (3-bit weights: no SWAR) subtract the last term of each chunk
    ("`SPIKEFLOW_TERM(14) + `SPIKEFLOW_TERM(15))", "`SPIKEFLOW_TERM(14) - `SPIKEFLOW_TERM(15))", 3),
    # the SWAR sums (4-bit weights) lose the top bit of the last level-2 field
    ("l2 = (l1 + (l1 >> 8)) & 64'h00FF00FF00FF00FF;", "l2 = (l1 + (l1 >> 8)) & 64'h007F00FF00FF00FF;", 4),
    # the SWAR's level-1 offset takes the weights' offset once per element pair instead of per element
    ("+ ((sw_t[c] >> 4) & 64'h0F0F0F0F0F0F0F0F)) << 3);", "+ ((sw_t[c] >> 4) & 64'h0F0F0F0F0F0F0F0F)) << 2);", 4),
    # the logic formulation sign-extends the weight from the wrong bit
    ("^ (j >= WEIGHT_BITS - 1);", "^ (j >= WEIGHT_BITS);", 4),
], ids=["word-subtracts-a-term", "swar-drops-a-bit", "swar-wrong-offset", "logic-sign-extension"])
def test_a_wrong_variant_is_caught(old: str, new: str, weight_bits: int, tmp_path: Path) -> None:
    _need_tools()
    lib = _mutated_library(tmp_path, old, new)
    result = prove_lane_sum(LaneSumParams.of_neuron(_neuron(SIMD=16, WEIGHT_BITS=weight_bits)), lib,
                            tmp_path / "work")
    assert result.verdict == "different", result.detail


def test_a_wrong_latency_is_caught(tmp_path: Path) -> None:
    _need_tools()
    # the word formulation's output taken one stage early: the same sums, a cycle too soon
    lib = _mutated_library(tmp_path, "= dl[(LATENCY-1)*ACC_BITS", "= dl[(LATENCY-2)*ACC_BITS")
    result = prove_lane_sum(SPIKES, lib, tmp_path / "work")
    assert result.verdict == "different"
    assert "flip-flops" in result.detail


def test_results_are_cached_by_parameters_and_library(tmp_path: Path) -> None:
    _need_tools()
    small = replace(SPIKES, pe=1, simd=4, latency=2)
    first = check_lane_sums([small, small], RTL, cache=tmp_path / "cache")
    again = check_lane_sums([small], RTL, cache=tmp_path / "cache")
    assert [r.verdict for r in first] == ["equivalent", "equivalent"]
    assert not first[0].cached and again[0].cached


def test_instances_of_a_generated_design(tmp_path: Path) -> None:
    import numpy as np

    from spikeflow.backends.rtl import generate_rtl
    from spikeflow.ir.random import random_network

    net = random_network(np.random.default_rng(3), input_shape=(3, 8, 8), channels=(4, 6), pool_after=(True, False),
                         head_channels=5, name="eq")
    build = generate_rtl(net, tmp_path / "rtl")
    pairs = lane_sum_instances(build.out_dir)
    assert [name for name, _ in pairs] == ["u_conv0", "u_conv1", "u_head"]
    assert pairs[0][1].xb == 8 and pairs[1][1].xb == 2


def test_the_equiv_step_reports_every_neuron_unit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The build step on a small network: report/equivalence.json names each unit and its verdict."""
    import json

    import numpy as np

    from spikeflow.backends.rtl import generate_rtl
    from spikeflow.backends.rtl.steps import step_equiv
    from spikeflow.flow.builddir import BuildDir
    from spikeflow.flow.config import BuildConfig, ModelSource
    from spikeflow.ir.random import random_network

    _need_tools()
    monkeypatch.setenv("SPIKEFLOW_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SPIKEFLOW_SYNTH_JOBS", "1")
    net = random_network(np.random.default_rng(4), input_shape=(1, 4, 4), channels=(2,), pool_after=(False,),
                         kernel=1, head_channels=3, name="eqstep")
    build = BuildDir.of(tmp_path / "b")
    generate_rtl(net, build.rtl)
    step_equiv(build, BuildConfig(ModelSource("qonnx", tmp_path / "unused.onnx"), steps=("equiv",)))
    report = json.loads((build.report / "equivalence.json").read_text())
    assert report["equivalent"] is True
    assert [row["instance"] for row in report["instances"]] == ["u_conv0", "u_head"]
    assert {row["verdict"] for row in report["instances"]} == {"equivalent"}
