"""The Verilator C++ harness (spikeflow.backends.rtl.rtlsim) and the Python entry points of
spikeflow.backends.rtl.simulate against the golden model; the generated folder is relocatable."""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest

from spikeflow.backends.rtl import generate_rtl, run_cocotb_network, simulate_frames
from spikeflow.backends.rtl.rtlsim import RtlSim
from spikeflow.backends.rtl.tools import cpu_id
from spikeflow.golden import run_counts
from spikeflow.hw.folding import LayerFolding
from spikeflow.ir.random import random_network
from tests.backends.rtl.simtools import require_verilator


def _small():
    return random_network(np.random.default_rng(5), input_shape=(3, 12, 10), channels=(4, 6),
                          pool_after=(True, False), head_channels=5, name="hs")


def test_simulate_frames_relocated(tmp_path):
    require_verilator()
    net = _small()
    frames = np.random.default_rng(2).integers(0, 256, size=(5, 3, 12, 10), dtype=np.uint8)
    v, done, build = simulate_frames(net, frames, tmp_path / "rtl")
    assert np.array_equal(v, run_counts(net, frames))
    assert len(done) == 5 and done == sorted(done)
    assert RtlSim.timing(done).cycles_per_frame == pytest.approx(14 * 12, abs=2)  # padded 14x12, 1 pos/cycle
    exe = build.out_dir / "harness" / "spikeflow_harness"
    stamp = exe.stat().st_mtime_ns
    v2, _, _ = simulate_frames(net, frames[:1], tmp_path / "rtl")  # same design: the build is reused
    assert np.array_equal(v2, v[:1]) and exe.stat().st_mtime_ns == stamp
    # no absolute path in the generated folder; it still simulates after a move
    assert str(tmp_path) not in build.sources[-1].read_text()
    assert str(tmp_path) not in build.filelist.read_text()
    moved = tmp_path / "elsewhere" / "rtl"
    shutil.move(str(build.out_dir), moved)
    build = dataclasses.replace(build, out_dir=moved, filelist=moved / build.filelist.name,
                                sources=[moved / s.relative_to(build.out_dir) for s in build.sources])
    sim = RtlSim(build)
    out, _ = sim.run(frames)
    assert np.array_equal(out, v)
    assert sim.last_cycles > 0 and sim.last_seconds > 0


def test_same_rtl_in_another_folder_shares_the_harness_build(tmp_path, monkeypatch):
    require_verilator()
    monkeypatch.setenv("SPIKEFLOW_CACHE", str(tmp_path / "cache"))
    net = _small()
    frames = np.random.default_rng(3).integers(0, 256, size=(3, 3, 12, 10), dtype=np.uint8)
    v_a, _, a = simulate_frames(net, frames, tmp_path / "a" / "rtl")
    assert (a.out_dir / "harness" / "Vspikeflow_top.mk").is_file()  # built by Verilator
    assert len(list((tmp_path / "cache" / "harness").glob("*/spikeflow_harness"))) == 1
    v_b, _, b = simulate_frames(net, frames, tmp_path / "b" / "rtl")
    assert not (b.out_dir / "harness" / "Vspikeflow_top.mk").exists()  # taken from the cache
    assert np.array_equal(v_a, run_counts(net, frames)) and np.array_equal(v_b, v_a)


def test_an_executable_built_for_another_processor_is_not_run(tmp_path, monkeypatch):
    """The harness is compiled with -march=native: one built on another machine (a copied build folder) is replaced
    by this machine's build, never run."""
    require_verilator()
    monkeypatch.setenv("SPIKEFLOW_CACHE", str(tmp_path / "cache"))
    net = _small()
    frames = np.random.default_rng(4).integers(0, 256, size=(3, 3, 12, 10), dtype=np.uint8)
    v, _, build = simulate_frames(net, frames, tmp_path / "rtl")
    sim = RtlSim(build)
    assert sim.stamp.read_text() == f"{cpu_id()}\nplain"
    sim.stamp.write_text("x86_64 some other processor\nplain")
    sim.exe.write_bytes(b"#!/bin/sh\nexit 7\n")  # stands for an executable this CPU cannot run
    out, _ = sim.run(frames)
    assert np.array_equal(out, v) and np.array_equal(out, run_counts(net, frames))
    assert sim.stamp.read_text() == f"{cpu_id()}\nplain"


def test_profile_guided_harness(tmp_path, monkeypatch):
    """profile_guided=True: an instrumented build leaves a profile, the executable is rebuilt with it, gives the
    golden model's values, and is cached apart from the plain build (which an existing folder does not reuse)."""
    require_verilator()
    monkeypatch.setenv("SPIKEFLOW_CACHE", str(tmp_path / "cache"))
    net = _small()
    frames = np.random.default_rng(6).integers(0, 256, size=(4, 3, 12, 10), dtype=np.uint8)
    plain, _, build = simulate_frames(net, frames, tmp_path / "rtl")
    builds: list[tuple[str, int]] = []  # each compile's profile option and the profiles (*.gcda) there
    verilate = RtlSim._verilate

    def recorded(self: RtlSim, flags: list[str], env: dict[str, str]) -> None:
        kind = next((f for f in flags if f.startswith("-fprofile-")), "")
        builds.append((kind, len(list(self.obj_dir.glob("*.gcda")))))
        verilate(self, flags, env)

    monkeypatch.setattr(RtlSim, "_verilate", recorded)
    sim = RtlSim(build, profile_guided=True)
    out, _ = sim.run(frames)
    # instrumented, then compiled with the profile that the run in between left
    assert [kind for kind, _ in builds] == ["-fprofile-generate", "-fprofile-use"]
    assert builds[0][1] == 0 and builds[1][1] >= 1
    assert np.array_equal(out, plain) and np.array_equal(out, run_counts(net, frames))
    assert sim.stamp.read_text() == f"{cpu_id()}\nprofile-guided"
    assert not list(sim.obj_dir.glob("*.gcda"))
    assert len(list((tmp_path / "cache" / "harness").glob("*/spikeflow_harness"))) == 2
    again = RtlSim(build)  # the plain kind again: from the cache, not the profile-guided executable
    assert np.array_equal(again.run(frames)[0], plain) and again.stamp.read_text().endswith("\nplain")
    assert len(builds) == 2


@pytest.mark.slow
def test_run_cocotb_network(tmp_path):
    require_verilator()
    net = _small()
    frames = np.random.default_rng(4).integers(0, 256, size=(3, 3, 12, 10), dtype=np.uint8)
    v = run_cocotb_network(net, frames, tmp_path, seed=3)
    assert v.shape == (3, *net.output_shape)
    assert np.array_equal(v, run_counts(net, frames))


@pytest.mark.slow
def test_rtlsim_tiny_like(tmp_path):
    require_verilator()
    net = random_network(np.random.default_rng(11), input_shape=(3, 64, 64), channels=(12, 24, 48, 64),
                         pool_after=(True, True, True, False), head_channels=27, name="tinylike")
    sim = RtlSim(generate_rtl(net, tmp_path / "rtl"))
    frames = np.random.default_rng(1).integers(0, 256, size=(6, 3, 64, 64), dtype=np.uint8)
    out, done = sim.run(frames)
    assert np.array_equal(out, run_counts(net, frames))
    assert RtlSim.timing(done).cycles_per_frame <= 66 * 66 + 1


def _slow_folding_net():
    """A 13-channel 5x5 first layer folded at PE=1, SIMD=1, bit-serial: 10,400 cycles per window."""
    return random_network(np.random.default_rng(21), input_shape=(13, 6, 6), channels=(4,), kernel=5,
                          pool_after=(False,), head_channels=3, name="slowfold")


SLOW_FOLDING = {"conv0": LayerFolding(1, 1, False)}


def test_slow_legal_folding_simulates_to_the_end(tmp_path):
    """The harness's cycle limit follows the folding's estimate: 36 windows of 10,400 cycles per frame."""
    require_verilator()
    net = _slow_folding_net()
    frames = np.random.default_rng(3).integers(0, 256, size=(3, 13, 6, 6), dtype=np.uint8)
    v, done, build = simulate_frames(net, frames, tmp_path / "rtl", folding=SLOW_FOLDING)
    assert np.array_equal(v, run_counts(net, frames))
    old_fixed_cap = 64 + (3 + 4) * (36 * 64 + 3 * 36 * 64 + 100_000)  # the harness's limit before it followed
    assert done[-1] > old_fixed_cap  # the folding: this run would have stopped with "did not finish"
    assert RtlSim.timing(done).cycles_per_frame == pytest.approx(build.estimated_cycles_per_frame, rel=0.05)


@pytest.mark.slow
def test_slow_legal_folding_under_cocotb(tmp_path):
    require_verilator()
    net = _slow_folding_net()
    frames = np.random.default_rng(4).integers(0, 256, size=(1, 13, 6, 6), dtype=np.uint8)
    v = run_cocotb_network(net, frames, tmp_path, seed=1, folding=SLOW_FOLDING)
    assert np.array_equal(v, run_counts(net, frames))


@pytest.mark.slow
def test_output_stream_sets_the_interval_of_an_80_class_head(tmp_path):
    """3 anchors x (5 + 80 classes) = 255 head channels on an 8x8 grid: 16,320 output beats per frame, more than
    any layer needs; the estimate includes the output stream and agrees with the harness."""
    require_verilator()
    net = random_network(np.random.default_rng(12), input_shape=(3, 64, 64), channels=(8, 16, 16, 16),
                         pool_after=(True, True, True, False), head_channels=255, name="coco80")
    build = generate_rtl(net, tmp_path / "rtl")
    assert build.estimated_cycles_per_frame == 255 * 8 * 8
    frames = np.random.default_rng(2).integers(0, 256, size=(4, 3, 64, 64), dtype=np.uint8)
    out, done = RtlSim(build).run(frames)
    assert np.array_equal(out, run_counts(net, frames))
    assert RtlSim.timing(done).cycles_per_frame == pytest.approx(255 * 8 * 8, rel=0.05)
