"""Library modules in RTL against small Python models (cocotb + verilator), parametrised over widths/foldings."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spikeflow.backends.rtl.generator import _layer_mems
from spikeflow.hw.folding import LayerFolding
from spikeflow.ir import FewdIFConv, FewdIFHead
from spikeflow.ir.random import random_thresholds
from tests.backends.rtl.simtools import RTL_DIR, ran_testcases, run_cocotb

LIB = sorted(RTL_DIR.glob("spikeflow_*.v"))


def _run_unit(tmp_path, module: str, unit: str, params: dict, extra_env: dict | None = None):
    env = {"SPIKEFLOW_UNIT": unit, "SPIKEFLOW_PARAMS": json.dumps(params)}
    env.update(extra_env or {})
    hdl_params = {k: f'"{v}"' if isinstance(v, str) else v for k, v in params.items()}
    testcase = ["test_axis_input_frames"] if unit == "axis_input" else ["test_unit"]
    results = run_cocotb(LIB, module, "tb_units", tmp_path / "sim", parameters=hdl_params, extra_env=env,
                         testcase=testcase)
    assert ran_testcases(results) == testcase  # the unit's own test ran (and passed), nothing else


@pytest.mark.parametrize("k,s,p,pix_w,h,w,out_reg", [
    (3, 1, 1, 6, 7, 5, 0),
    (3, 2, 1, 5, 9, 7, 1),  # a strided layer's window copied to the output register (walk overlaps the work)
    pytest.param(2, 2, 0, 4, 6, 7, 0, marks=pytest.mark.slow),
    pytest.param(5, 2, 2, 3, 9, 8, 0, marks=pytest.mark.slow),
    pytest.param(5, 2, 2, 3, 9, 8, 1, marks=pytest.mark.slow),
    pytest.param(1, 2, 0, 7, 6, 5, 1, marks=pytest.mark.slow),
    pytest.param(1, 1, 0, 8, 4, 3, 0, marks=pytest.mark.slow),
])
def test_window(tmp_path, k, s, p, pix_w, h, w, out_reg):
    _run_unit(tmp_path, "spikeflow_window", "window",
              {"PIX_W": pix_w, "IN_H": h, "IN_W": w, "KERNEL": k, "STRIDE": s, "PADDING": p, "OUT_REG": out_reg})


@pytest.mark.parametrize("k,s", [(2, 2), pytest.param(3, 2, marks=pytest.mark.slow)])
def test_maxpool(tmp_path, k, s):
    _run_unit(tmp_path, "spikeflow_maxpool", "maxpool",
              {"CHANNELS": 3, "BITS": 2, "IN_H": 7, "IN_W": 6, "KERNEL": k, "STRIDE": s})


NEURON_CASES = {
    "spikes_unfolded": ("spikes", 1, LayerFolding(6, 18, True)),
    "spikes_serial": ("spikes", 1, LayerFolding(2, 6, False)),
    "pixels_parallel": ("pixels", 1, LayerFolding(3, 9, True)),
    "pixels_bitserial": ("pixels", 1, LayerFolding(1, 2, False)),
    "head_folded": ("spikes", 0, LayerFolding(3, 3, True)),
    "head_serial": ("spikes", 0, LayerFolding(6, 1, False)),
    "pixels_dsp": ("pixels", 1, LayerFolding(3, 9, True)),  # USE_DSP=1: registered multiplies
}


@pytest.mark.parametrize("case", [c if c in ("spikes_unfolded", "head_folded")
                                  else pytest.param(c, marks=pytest.mark.slow) for c in NEURON_CASES])
def test_neuron(tmp_path, case):
    kind, fire, fold = NEURON_CASES[case]
    rng = np.random.default_rng(len(case))
    cin, kk, k, t = 2, 3, 6, 3
    in_max = 255 if kind == "pixels" else t
    weights = rng.integers(-8, 8, size=(k, cin, kk, kk))
    bias = rng.integers(-40, 40, size=k)
    if fire:
        thr = random_thresholds(rng, k, t, 9 * 8 * in_max // 4)
        layer = FewdIFConv(name="n", in_shape=(cin, 4, 4), out_channels=k, kernel=kk, stride=1, padding=1,
                           weights=weights, bias=bias, thresholds=thr, in_kind=kind, in_max=in_max,
                           weight_bits=4, timesteps=t)
    else:
        thr = np.zeros((k, 1), dtype=np.int64)
        layer = FewdIFHead(name="n", in_shape=(cin, 4, 4), out_channels=k, kernel=kk, stride=1, padding=1,
                           weights=weights, bias=bias, out_scale=np.ones(k), in_kind=kind, in_max=in_max,
                           weight_bits=4)
    layer.acc_bits = layer.derive_acc_bits()
    mems = _layer_mems(layer, fold, tmp_path)
    n = cin * kk * kk
    wins = rng.integers(0, in_max + 1, size=(60, n))
    wins[:4] = in_max  # extremes
    wins[4:8] = 0
    w_flat = weights.transpose(0, 2, 3, 1).reshape(k, n)
    npz = tmp_path / "neuron.npz"
    np.savez(npz, windows=wins, weights=w_flat, bias=bias, thresholds=thr)
    in_bits = 8 if kind == "pixels" else 2
    params = {"N_IN": n, "IN_BITS": in_bits, "IN_KIND": int(kind == "spikes"), "IN_MAX": in_max, "OUT_CH": k,
              "PE": fold.pe, "SIMD": fold.simd, "TIME_PARALLEL": int(fold.time_parallel), "WEIGHT_BITS": 4,
              "ACC_BITS": layer.acc_bits, "FIRE": fire, "THRESHOLDS": t if fire else 1,
              "OUT_BITS": 2 if fire else 1, "WEIGHT_FILE": str(mems["weights"]), "BIAS_FILE": str(mems["bias"]),
              "THRESH_FILE": str(mems.get("thresholds", "")), "USE_DSP": int(case == "pixels_dsp")}
    _run_unit(tmp_path, "spikeflow_neuron", "neuron", params, {"SPIKEFLOW_NEURON_NPZ": str(npz)})


@pytest.mark.parametrize("ppb,pixel_bits,channels,status_width", [
    (1, 8, 3, 32),
    pytest.param(3, 8, 3, 32, marks=pytest.mark.slow),
    pytest.param(2, 4, 4, 8, marks=pytest.mark.slow),
])
def test_axis_input(tmp_path, ppb, pixel_bits, channels, status_width):
    _run_unit(tmp_path, "spikeflow_axis_input", "axis_input",
              {"CHANNELS": channels, "PIXEL_BITS": pixel_bits, "PIXELS_PER_BEAT": ppb, "FRAME_PIXELS": 24,
               "STATUS_WIDTH": status_width})


def test_fifo(tmp_path):
    _run_unit(tmp_path, "spikeflow_axis_fifo", "fifo", {"DATA_WIDTH": 13, "DEPTH": 8})


def test_axis_output(tmp_path):
    _run_unit(tmp_path, "spikeflow_axis_output", "axis_output",
              {"CHANNELS": 3, "VALUE_BITS": 11, "FRAME_PIXELS": 5, "OUT_WIDTH": 32})
