"""The DAG building blocks in RTL (cocotb + verilator) against numpy: nearest upsampling, a fork to several
consumers, a channel concat of streams, and the neuron unit's residual input (V += shortcut << shift)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spikeflow.backends.rtl.generator import _layer_mems
from spikeflow.hw.folding import LayerFolding
from spikeflow.ir import FewdIFConv
from spikeflow.ir.random import random_thresholds
from tests.backends.rtl.simtools import RTL_DIR, ran_testcases, run_cocotb

LIB = sorted(RTL_DIR.glob("spikeflow_*.v"))


def _run(tmp_path, module: str, testcase: str, params: dict, hdl: dict | None = None,
         env: dict | None = None) -> None:
    hdl_params = {k: f'"{v}"' if isinstance(v, str) else v for k, v in (hdl if hdl is not None else params).items()}
    results = run_cocotb(LIB, module, "tb_dag_units", tmp_path / "sim", parameters=hdl_params,
                         extra_env={"SPIKEFLOW_PARAMS": json.dumps(params), **(env or {})}, testcase=[testcase])
    assert ran_testcases(results) == [testcase]


@pytest.mark.parametrize("pix_w,h,w,factor", [(6, 3, 5, 2), pytest.param(3, 2, 4, 3, marks=pytest.mark.slow)])
def test_upsample(tmp_path, pix_w, h, w, factor):
    _run(tmp_path, "spikeflow_upsample", "test_upsample", {"PIX_W": pix_w, "IN_H": h, "IN_W": w, "FACTOR": factor})


@pytest.mark.parametrize("n", [2, pytest.param(3, marks=pytest.mark.slow)])
def test_broadcast(tmp_path, n):
    _run(tmp_path, "spikeflow_broadcast", "test_broadcast", {"WIDTH": 9, "N": n})


def test_concat(tmp_path):
    widths = [6, 4, 8]
    _run(tmp_path, "spikeflow_concat", "test_concat", {"WIDTHS": widths},
         hdl={"N": len(widths), "TOTAL_WIDTH": sum(widths)})


@pytest.mark.parametrize("fold", [LayerFolding(3, 9, True), pytest.param(LayerFolding(6, 18, True),
                                                                         marks=pytest.mark.slow)],
                         ids=["folded", "unfolded"])
def test_neuron_residual(tmp_path, fold):
    rng = np.random.default_rng(21)
    cin, kk, k, t = 2, 3, 6, 3
    weights = rng.integers(-8, 8, size=(k, cin, kk, kk))
    bias = rng.integers(-40, 40, size=k)
    shifts = (0, 1, 2, 3, 0, 4)
    thr = random_thresholds(rng, k, t, 9 * 8 * t // 4 + 16)
    layer = FewdIFConv(name="n", in_shape=(cin, 4, 4), out_channels=k, kernel=kk, stride=1, padding=1,
                       weights=weights, bias=bias, thresholds=thr, in_kind="spikes", in_max=t, weight_bits=4,
                       timesteps=t, inputs=("x", "sc"), residual_shift=shifts)
    layer.acc_bits = layer.derive_acc_bits()
    mems = _layer_mems(layer, fold, tmp_path)
    n = cin * kk * kk
    wins = rng.integers(0, t + 1, size=(80, n))
    shortcut = rng.integers(0, t + 1, size=(80, k))
    shortcut[:4] = t  # extremes
    npz = tmp_path / "neuron.npz"
    np.savez(npz, windows=wins, shortcut=shortcut, weights=weights.transpose(0, 2, 3, 1).reshape(k, n), bias=bias,
             thresholds=thr, shifts=np.asarray(shifts))
    params = {"N_IN": n, "IN_BITS": 2, "IN_KIND": 1, "IN_MAX": t, "OUT_CH": k, "PE": fold.pe, "SIMD": fold.simd,
              "TIME_PARALLEL": 1, "WEIGHT_BITS": 4, "ACC_BITS": layer.acc_bits, "FIRE": 1, "THRESHOLDS": t,
              "OUT_BITS": 2, "WEIGHT_FILE": str(mems["weights"]), "BIAS_FILE": str(mems["bias"]),
              "THRESH_FILE": str(mems["thresholds"]), "RESIDUAL": 1, "RES_BITS": 2,
              "RES_SHIFT_FILE": str(mems["res_shift"])}
    _run(tmp_path, "spikeflow_neuron", "test_neuron_residual", params, env={"SPIKEFLOW_NEURON_NPZ": str(npz)})


@pytest.mark.parametrize("expect", ["ok", "deadlock"])
def test_head_merge_needs_one_frame_of_the_buffered_head(tmp_path, expect):
    """spikeflow_head_merge with its FIFO at the computed depth (one frame of head 1's values,
    spikeflow.hw.skew.head_merge_depths) passes frames whose head 1 comes entirely before head 0's last value (the
    worst order a shared trunk can give); one value less deadlocks."""
    v0, v1 = 7, 12
    depth = v1 if expect == "ok" else v1 - 1
    _run(tmp_path, "spikeflow_head_merge", "test_head_merge", {"DATA_WIDTH": 6, "V0": v0, "V1": v1},
         hdl={"DATA_WIDTH": 6, "OUT_WIDTH": 9, "DEPTH": depth}, env={"SPIKEFLOW_EXPECT": expect})
