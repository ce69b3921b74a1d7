"""The analytical resource model: LUT, FF, BRAM36 and DSP of every layer from its parameters and folding.

It sits next to the cycle model (spikeflow.hw.cycles) and lets the fold step compare foldings without running
synthesis. Its coefficients are fitted to Yosys runs of the RTL library (`calibrate`, `bench/calibrate_resources.py`)
and the fit is reported per layer; the defaults below come from the last such fit (see `CALIBRATION`).

Per conv/head layer (`lanes` = PE x SIMD multiply-accumulate lanes, `term_bits` the width of one lane's term):
    LUT = lut_per_term_bit * lanes * term_bits + lut_per_acc_bit * PE * ACC_BITS * (1 + THRESHOLDS)
          + lut_per_window_bit * window_bits + lut_rom(ROM bits kept in LUTs) + lut_fixed
    FF  = ff_per_term_bit * lanes * term_bits + ff_per_acc_bit * PE * ACC_BITS * (2 + THRESHOLDS)
          + ff_per_window_bit * window_bits + ff_fixed
    BRAM36 from the geometry of each memory (line buffers, ROMs, FIFOs): `bram36(width, depth)`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from spikeflow.hw.folding import Folding, LayerFolding, window_elems
from spikeflow.ir import FewdIFConv, FewdIFHead, FewdIFMaxPool, FewdIFNetwork

ROM_LUT_BITS = 4096  # a memory of at most this many bits is kept in LUTs (LUT RAM / logic), else in BRAM
RAMB36_SHAPES = ((512, 72), (1024, 36), (2048, 18), (4096, 9), (8192, 4), (16384, 2), (32768, 1))  # depth, width
RAMB18_SHAPES = ((512, 36), (1024, 18), (2048, 9), (4096, 4), (8192, 2), (16384, 1))


def bram36(width: int, depth: int) -> float:
    """RAMB36 equivalents (a RAMB18 counts half) of a width x depth memory in block RAM, at the best aspect
    ratio; 0 for a memory small enough for LUTs (at most ROM_LUT_BITS bits)."""
    if width * depth <= ROM_LUT_BITS:
        return 0.0
    full = min(math.ceil(width / w) * math.ceil(depth / d) for d, w in RAMB36_SHAPES)
    half = min(math.ceil(width / w) * math.ceil(depth / d) for d, w in RAMB18_SHAPES) / 2
    return float(min(full, half))


@dataclass(frozen=True)
class ResourceModel:
    lut_per_term_bit: float = 1.0
    lut_per_acc_bit: float = 1.0
    lut_per_window_bit: float = 0.1
    lut_fixed: float = 60.0
    ff_per_term_bit: float = 1.2
    ff_per_acc_bit: float = 1.0
    ff_per_window_bit: float = 1.0
    ff_fixed: float = 40.0

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


CALIBRATION = "provisional coefficients: not yet fitted to Yosys runs of the current RTL"
DEFAULT_MODEL = ResourceModel()


@dataclass
class LayerResources:
    layer: str
    lanes: int
    LUT: float
    FF: float
    BRAM36: float
    DSP: int = 0

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def term_bits(layer: FewdIFConv | FewdIFHead, f: LayerFolding) -> int:
    """Width of one lane's term: weight x input at natural width in parallel, the weight alone (AND-add, or the
    weight shifted by the bit plane) in serial."""
    in_bits = 8 if layer.in_kind == "pixels" else max(1, layer.in_max.bit_length())
    return layer.weight_bits + (in_bits if f.time_parallel else 0)


def _features(layer: FewdIFConv | FewdIFHead, f: LayerFolding) -> dict[str, float]:
    lanes = f.pe * f.simd
    thresholds = layer.thresholds.shape[1] if isinstance(layer, FewdIFConv) else 0
    in_bits = 8 if layer.in_kind == "pixels" else max(1, layer.in_max.bit_length())
    window_bits = window_elems(layer) * in_bits
    return {"term": lanes * term_bits(layer, f), "acc": f.pe * layer.acc_bits * (1 + thresholds),
            "window": window_bits}


def layer_resources(net: FewdIFNetwork, folding: Folding, model: ResourceModel = DEFAULT_MODEL
                    ) -> list[LayerResources]:
    """Estimated resources of every layer (conv and head: neuron unit, window generator, output FIFO)."""
    rows = []
    for layer in net.layers:
        c, h, w = layer.in_shape
        if isinstance(layer, FewdIFMaxPool):
            bits = c * net.act_bits
            rows.append(LayerResources(layer.name, 0, LUT=model.lut_fixed / 2 + bits,
                                       FF=model.ff_fixed / 2 + 2 * bits, BRAM36=bram36(bits, w)))
            continue
        f = folding[layer.name]
        x = _features(layer, f)
        in_bits = 8 if layer.in_kind == "pixels" else max(1, layer.in_max.bit_length())
        thresholds = layer.thresholds.shape[1] if isinstance(layer, FewdIFConv) else 0
        nf, sf = layer.out_channels // f.pe, window_elems(layer) // f.simd
        memory = (bram36(f.pe * f.simd * layer.weight_bits, nf * sf)  # weight ROM
                  + bram36(f.pe * layer.acc_bits * (1 + thresholds), nf)  # bias and threshold ROMs
                  + bram36(c * in_bits, (layer.kernel - 1) * (w + 2 * layer.padding)))  # line buffers
        lut = (model.lut_per_term_bit * x["term"] + model.lut_per_acc_bit * x["acc"]
               + model.lut_per_window_bit * x["window"] + model.lut_fixed)
        ff = (model.ff_per_term_bit * x["term"] + model.ff_per_acc_bit * (x["acc"] + f.pe * layer.acc_bits)
              + model.ff_per_window_bit * x["window"] + model.ff_fixed)
        rows.append(LayerResources(layer.name, f.pe * f.simd, LUT=lut, FF=ff, BRAM36=memory))
    return rows


def total(rows: list[LayerResources]) -> dict[str, float]:
    return {key: sum(getattr(r, key) for r in rows) for key in ("LUT", "FF", "BRAM36", "DSP")}

