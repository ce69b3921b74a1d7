"""The analytical resource model: LUT, FF, BRAM36 and DSP of every layer from its parameters and folding.

It sits next to the cycle model (spikeflow.hw.cycles) and lets the fold step compare foldings without running
synthesis. It follows the structure of the RTL library (rtl/README.md) and counts, per conv/head layer:

- `datapath`: bits of the lanes' digit products (one LUT each: a function of WEIGHT_BITS + D <= 6 input bits) plus
  `tree`, the bits of the registered adder-tree nodes (a carry-chain adder bit and its register each), for LUTs;
  `tree` alone for FFs; `datapath_const` instead when the layer has one weight word (a folding with PE and SIMD at
  their maximum): its weights are constants, and synthesis folds them into the products and trees; the head's
  (8-bit weights, wider sums) adds `head_datapath` (LUTs) and `head_tree` (FFs);
- `acc`: accumulator, bias and threshold bits per PE (adder, compares, parameter ROMs in LUTs);
- `window`: bits of one window (the window generator's registers and the neuron's slice select);
- `collect`: the register that gathers a window's output channels, PE at a time (V for the head, spike counts
  otherwise), and the one-hot input-slice select (SF bits), for FFs;
- `linebuf`, `fifo`: LUT RAM of the line buffers (K-1 rows of the padded input) and of the output FIFO, in LUTs;
- `serial_rom`, `rom_words`: the weight bits of the lanes when the weight ROM is LUT logic of 8 words or more,
  time-serial and time-parallel layers apart: Yosys registers that ROM's word (see `features`), up to a
  flip-flop and a LUT per bit;
- `wide_products`: the product bits again when a product is a function of 5 or 6 inputs (weight ROM address or
  weight bits, and digit bits), which ABC cannot merge into the adder that follows;
- block RAM from the geometry of each memory the RTL places there: weights by the neuron's placement rule, line
  buffers deeper than LUTRAM_MAX_DEPTH (the window generator's ram_style rule), and stream FIFOs where Yosys's
  memory costs favour block RAM (`fifo_in_lutram`);
- DSP: one per lane of a pixel layer that the generator gives USE_DSP.

A max-pool stage counts its compare bits, its LUT RAM and its register bits (`pool_features`).

DAG units (`dag_resources`, rows of their own beside the layers'): no fit covers them (the calibration runs are
chains), so they are estimated from their storage and widths alone, one LUT or FF per counted bit, on the part's
own memory primitives (`storage`: LUT RAM of 64 x 7 bits per 8 LUTs on xcup, 16 x 4 bits per 4 LUT4s on ECP5,
against block RAM by Yosys's memory_libmap costs). They count what the RTL holds:

- a fork (`spikeflow_broadcast`, one row per forked tensor, named "<tensor>:fork"): a taken flag and its logic
  per branch, and each branch's FIFO (`spikeflow_axis_fifo`) at the depth the skew model gives
  (spikeflow.hw.skew.branch_fifo_depths): its storage, pointers and full/empty compares;
- a concat (`spikeflow_concat`): its output register (the sum of its inputs' widths) and the join's logic;
- an upsampler (`spikeflow_upsample`): its line buffer (one input row), its output and repeat registers, the
  three-way select of its output and its counters;
- several heads (`head_merge_resources`, a "heads:merge" row): the head merges' one-frame FIFOs and registers;
- a residual conv's shortcut (added to the conv's row, `residual_features`): the neuron's shortcut queue (one
  item per window in flight, OUT_DEPTH x OUT_CH x RES_BITS), its channel-group select, the per-channel shift ROM
  (NF words of PE x 5 bits, LUT logic like the bias ROM), its register and the shift-and-add into the bias per
  PE lane.

The per-bit figures are structural (what the RTL holds, on the part's primitives); the few control-logic constants
(a FIFO's pointers and compares, a broadcast's LUTs per branch, ECP5's LUT RAM read select) are readings of Yosys
0.23 on the units of one random DAG (bench/dag_resource_check.py, seed 5), not a least-squares fit, and say so
where they are defined. The error against Yosys on that DAG and on another one is in the README.

Each LUT or FF figure is a sum of coefficient x feature plus a fixed cost (one for conv and head layers, one for
max-pool stages). The coefficients are fitted by `bench/calibrate_resources.py` to the per-layer Yosys figures
of the `make bench` rows and of the single-layer sweep `bench/calibration_sweep.py` (`make calibrate` runs
both), and stored with their provenance in `resource_model.json` next to this file; `calibration_note()` says
where they came from. ECP5 parts have a fit of their own, made the same way from synth_ecp5 runs
(`resource_model_ecp5.json`, in LUT4s, flip-flops, two 18 kbit EBRs per BRAM36): `model_for(family)` picks it.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from spikeflow.hw.folding import Folding, LayerFolding, passes, window_elems, window_out_reg
from spikeflow.hw.skew import branch_fifo_depths, forks, head_merge_depths
from spikeflow.hw.stream import OUT_WIDTH
from spikeflow.ir import (
    NETWORK_INPUT,
    PIXEL_BITS,
    FewdIFConcat,
    FewdIFConv,
    FewdIFHead,
    FewdIFMaxPool,
    FewdIFNetwork,
    FewdIFUpsample,
)

CALIBRATION_FILE = Path(__file__).with_name("resource_model.json")
# A fit per synthesis family; the Xilinx families without one of their own use the xcup fit
CALIBRATION_FILES = {"xcup": CALIBRATION_FILE, "ecp5": Path(__file__).with_name("resource_model_ecp5.json")}
RAMB36_SHAPES = ((512, 72), (1024, 36), (2048, 18), (4096, 9), (8192, 4), (16384, 2), (32768, 1))  # depth, width
RAMB18_SHAPES = ((512, 36), (1024, 18), (2048, 9), (4096, 4), (8192, 2), (16384, 1))
# Pixel layers use DSP multiplies (USE_DSP=1, set by the RTL generator) only when their weights change from cycle
# to cycle through more words than the neuron folds into its product LUTs (2^(6-2) = 16 words with 4-bit weights
# and 2-bit digits): then a LUT product costs tens of LUTs per lane and one DSP slice replaces it. With fewer words
# (the default folding of a first layer has one) the weights are constants of the LUT logic, cheaper than a DSP.
DSP_MIN_WEIGHT_WORDS = 17
# Line buffers (window generators, max-pool row buffers) of up to this many words are LUT RAM, deeper ones block
# RAM: rtl/spikeflow_window.v sets ram_style by the same rule, so Yosys and Vivado place them alike.
LUTRAM_MAX_DEPTH = 64
# Stream FIFOs carry no ram_style: synthesis picks the cheaper storage. Yosys's memory_libmap (share/yosys/xilinx
# lutrams_xcu.txt, brams_xc4v.txt) prices a 64 x 7 (or 32 x 14) LUT RAM unit at 16 and a RAMB18 at 129.
LUTRAM_UNIT_COST = 16
RAMB18_COST = 129
LUT_FEATURES = ("datapath", "datapath_const", "head_datapath", "acc", "window", "linebuf", "fifo", "select",
                "serial_rom", "rom_words", "wide_products")
FF_FEATURES = ("tree", "head_tree", "acc", "window", "inputs", "serial_rom", "rom_words", "collect")


def fifo_depth(row_positions: int) -> int:
    """Depth of the stream FIFO after a stage whose output rows hold `row_positions` positions.

    Rule: two output rows, rounded up to a power of two (the FIFO's pointers wrap), at least 4 and at most 1024.
    Why two rows: the next stage's window generator walks its *padded* raster one position per cycle and takes
    no input while it steps through padding, at the end of a frame (bottom padding row) and at the start of the
    next (top padding row). Two rows of slack let the producer run through both without stalling, so the
    stages stay decoupled and the slowest stage alone sets the frame interval. A smaller FIFO is still correct
    (the producer stalls on ready); only throughput would suffer. Past 1024 entries the cost in BRAM outweighs
    the rare stall.
    """
    depth = 4
    while depth < 2 * row_positions:
        depth *= 2
    return min(depth, 1024)


def lutram_luts(width: int, depth: int) -> int:
    """LUTs of a width x depth LUT RAM: 32 x 14 bits (RAM32M16) or 64 x 7 bits (RAM64M8) per 8 LUTs."""
    if depth <= 32:
        return math.ceil(width / 14) * 8
    return math.ceil(depth / 64) * math.ceil(width / 7) * 8


def fifo_in_lutram(width: int, depth: int) -> bool:
    """Whether a stream FIFO of width x depth maps to LUT RAM (else block RAM), by Yosys's memory_libmap costs:
    LUT RAM units (64 x 7, or 32 x 14 when 32 words suffice) against RAMB18s at the best aspect ratio."""
    units = math.ceil(width / 14) if depth <= 32 else math.ceil(depth / 64) * math.ceil(width / 7)
    return units * LUTRAM_UNIT_COST <= 2 * bram36(width, depth) * RAMB18_COST


def bram36(width: int, depth: int) -> float:
    """RAMB36 equivalents (a RAMB18 counts half) of a width x depth memory in block RAM, at the best aspect
    ratio."""
    full = min(math.ceil(width / w) * math.ceil(depth / d) for d, w in RAMB36_SHAPES)
    half = min(math.ceil(width / w) * math.ceil(depth / d) for d, w in RAMB18_SHAPES) / 2
    return float(min(full, half))


@dataclass(frozen=True)
class ResourceModel:
    """Coefficients: LUTs or FFs per feature unit (see the module docstring) and a fixed cost per layer; `family`
    (not a coefficient) picks the memory primitives of the DAG units' estimate ("xcup" or "ecp5")."""

    lut_datapath: float = 1.0
    lut_datapath_const: float = 0.5
    lut_head_datapath: float = 0.0
    lut_acc: float = 1.0
    lut_window: float = 0.1
    lut_linebuf: float = 1.0
    lut_fifo: float = 1.0
    lut_select: float = 0.5
    lut_serial_rom: float = 0.0
    lut_rom_words: float = 0.0
    lut_wide_products: float = 0.0
    lut_fixed: float = 100.0
    lut_pool: float = 1.0
    lut_pool_lutram: float = 1.0
    lut_pool_fixed: float = 25.0
    ff_tree: float = 1.0
    ff_head_tree: float = 0.0
    ff_acc: float = 1.0
    ff_window: float = 1.0
    ff_inputs: float = 1.0
    ff_serial_rom: float = 0.0
    ff_rom_words: float = 0.0
    ff_collect: float = 1.0
    ff_fixed: float = 100.0
    ff_pool: float = 2.0
    ff_pool_fixed: float = 25.0
    family: str = "xcup"

    def as_dict(self) -> dict[str, float]:
        """The coefficients (without `family`)."""
        return {k: v for k, v in asdict(self).items() if k != "family"}

    @classmethod
    def from_dict(cls, doc: dict[str, float], family: str = "xcup") -> ResourceModel:
        names = {f.name for f in fields(cls)} - {"family"}
        return cls(**{k: float(v) for k, v in doc.items() if k in names}, family=family)


def load_model(path: Path = CALIBRATION_FILE) -> tuple[ResourceModel, str]:
    """The calibrated model and a note on its provenance; the uncalibrated defaults when the file is missing."""
    if not path.is_file():
        return ResourceModel(), "uncalibrated default coefficients (no resource_model.json)"
    doc = json.loads(path.read_text())
    note = (f"fitted to {doc['layers_fitted']} layers synthesised by {doc['tool']} ({doc['family']}); "
            f"largest per-layer error LUT {doc['max_error_percent']['LUT']:.0f}%, "
            f"FF {doc['max_error_percent']['FF']:.0f}%")
    return ResourceModel.from_dict(doc["coefficients"], "ecp5" if doc["family"] == "ecp5" else "xcup"), note


DEFAULT_MODEL, CALIBRATION = load_model()


def calibration_note() -> str:
    return CALIBRATION


def calibration_file(family: str) -> Path:
    """Where the fit for a synthesis family is stored (the xcup fit for the other Xilinx families)."""
    return CALIBRATION_FILES.get(family, CALIBRATION_FILE)


def model_for(family: str) -> tuple[ResourceModel, str]:
    """The fitted model for a synthesis family and its provenance note; for "ecp5" without its fit, the xcup fit
    with a note saying so."""
    path = calibration_file(family)
    if path == CALIBRATION_FILE:
        return DEFAULT_MODEL, CALIBRATION
    if not path.is_file():
        return DEFAULT_MODEL, f"no {family} fit ({path.name} missing): the xcup fit, {CALIBRATION}"
    return load_model(path)


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


@dataclass(frozen=True)
class Arithmetic:
    """How the neuron unit computes a layer (mirrors the localparams of rtl/spikeflow_neuron.v)."""

    xb: int  # input bits that reach the products
    digit: int  # digit bits D
    ndig: int  # digits per input
    dw: int  # digit product width
    dsp: bool

    @classmethod
    def of(cls, layer: FewdIFConv | FewdIFHead, f: LayerFolding) -> Arithmetic:
        pixels = layer.in_kind == "pixels"
        in_bits = 8 if pixels else max(1, layer.in_max.bit_length())
        xb = in_bits if f.time_parallel else 1
        words = (window_elems(layer) // f.simd) * (layer.out_channels // f.pe)
        dsp = pixels and f.time_parallel and words >= DSP_MIN_WEIGHT_WORDS
        d_lut = 1 if layer.weight_bits >= 5 else 6 - layer.weight_bits
        digit = xb if dsp else min(d_lut, xb)
        ndig = -(-xb // digit)
        dw = layer.weight_bits + digit if (digit > 1 or ndig > 1) else layer.weight_bits
        return cls(xb, digit, ndig, dw, dsp)


def tree_bits(n: int, in_w: int, out_w: int, shift: int = 0) -> int:
    """Register bits of spikeflow_adder_tree(N=n, IN_W=in_w, SHIFT=shift, OUT_W=out_w)."""
    if n <= 1:
        return min(in_w, out_w)
    bits, nodes, level = 0, n, 0
    while nodes > 1:
        level += 1
        nodes = -(-nodes // 2)
        width = in_w + (shift * ((1 << level) - 1) if shift else level)
        bits += nodes * min(width, out_w)
    return bits


def features(layer: FewdIFConv | FewdIFHead, f: LayerFolding, act_bits: int = 2) -> dict[str, float]:
    """The model's features of one conv/head layer at folding f."""
    a = Arithmetic.of(layer, f)
    thresholds = layer.thresholds.shape[1] if isinstance(layer, FewdIFConv) else 0
    in_bits = 8 if layer.in_kind == "pixels" else max(1, layer.in_max.bit_length())
    n_in = window_elems(layer)
    c, _, w = layer.in_shape
    _, _, ow = layer.out_shape
    out_bits = 2 * act_bits if isinstance(layer, FewdIFConv) else 0  # the head's output FIFO is the stream's
    lanes = f.pe * f.simd
    simd_levels = math.ceil(math.log2(f.simd)) if f.simd > 1 else 0
    lw = min(a.dw + simd_levels, layer.acc_bits) if a.ndig > 1 else layer.acc_bits
    tree = f.pe * (a.ndig * tree_bits(f.simd, a.dw, lw)
                   + (tree_bits(a.ndig, lw, layer.acc_bits, a.digit) if a.ndig > 1 else 0))
    sf = n_in // f.simd
    products = 0 if a.dsp else lanes * a.ndig * a.dw
    datapath = products + tree
    const = sf * (layer.out_channels // f.pe) == 1  # one weight word: the weights are constants of the logic
    line_words = w + 2 * layer.padding
    line_width = (layer.kernel - 1) * c * in_bits
    # a weight ROM in LUT logic with 8 or more words: Yosys merges the ROM's address register into a read port
    # and registers (part of) the word instead, up to a flip-flop and a LUT per weight bit of the lanes; in
    # time-serial layers nearly every bit (`serial_rom`), in time-parallel ones some (`rom_words`)
    addr_bits = math.ceil(math.log2(sf * (layer.out_channels // f.pe))) if not const else 0
    rom_logic = not const and not a.dsp and addr_bits + a.digit <= 6 and addr_bits >= 3
    serial_rom = rom_logic and not f.time_parallel
    return {
        "products": products,
        "tree": tree,
        "datapath": 0 if const else datapath,
        "head_datapath": datapath if isinstance(layer, FewdIFHead) else 0,  # 8-bit weights, wide sums
        "head_tree": tree if isinstance(layer, FewdIFHead) else 0,
        "datapath_const": datapath if const else 0,
        "acc": f.pe * layer.acc_bits * (1 + thresholds),
        "window": n_in * in_bits * (2 if window_out_reg(layer) else 1),  # a strided layer's window is copied
        "linebuf": lutram_luts(line_width, line_words) if 1 < layer.kernel and line_words <= LUTRAM_MAX_DEPTH else 0,
        "fifo": lutram_luts(layer.out_channels * out_bits, fifo_depth(ow))
        if fifo_in_lutram(layer.out_channels * act_bits, fifo_depth(ow)) else 0,
        "select": f.simd * in_bits * (sf - 1),
        "inputs": f.simd * a.xb * 2,
        "serial_rom": lanes * layer.weight_bits if serial_rom else 0,
        "rom_words": lanes * layer.weight_bits if rom_logic and not serial_rom else 0,
        "wide_products": products if products and not const and addr_bits + a.digit >= 5 else 0,
        "collect": (layer.out_channels - f.pe) * (layer.acc_bits if isinstance(layer, FewdIFHead) else act_bits)
        + (sf if sf > 1 else 0),
    }


def pool_features(layer: FewdIFMaxPool, act_bits: int) -> dict[str, float]:
    """A max-pool stage's features: its compare bits (`lut`), the LUTs of its row buffer and output FIFO in LUT
    RAM (`lutram`), its register bits (`ff`), and the block RAM (`bram36`) of a row buffer deeper than
    LUTRAM_MAX_DEPTH and of a FIFO that synthesis puts in block RAM (fifo_in_lutram)."""
    c, _, w = layer.in_shape
    _, _, ow = layer.out_shape
    bits = c * act_bits
    depth = fifo_depth(ow)
    row_lutram = w <= LUTRAM_MAX_DEPTH
    fifo_lutram = fifo_in_lutram(bits, depth)
    lutram = (lutram_luts(bits, w) if row_lutram else 0) + (lutram_luts(bits, depth) if fifo_lutram else 0)
    memory = (0.0 if row_lutram else bram36(bits, w)) + (0.0 if fifo_lutram else bram36(bits, depth))
    return {"lut": bits, "lutram": lutram, "ff": bits, "bram36": memory}


def layer_memory(layer: FewdIFConv | FewdIFHead, f: LayerFolding, act_bits: int = 2) -> float:
    """RAMB36 equivalents of a layer: the weight ROM when the neuron's placement rule puts it in block RAM
    (more address bits than its product LUTs absorb), bias and thresholds beyond 64 words, the line buffers
    when deeper than LUTRAM_MAX_DEPTH, and the output FIFO when synthesis puts it in block RAM."""
    a = Arithmetic.of(layer, f)
    nf, sf = layer.out_channels // f.pe, window_elems(layer) // f.simd
    addr_bits = math.ceil(math.log2(nf * sf)) if nf * sf > 1 else 0
    memory = 0.0
    if a.dsp or addr_bits + a.digit > 6:
        memory += bram36(f.pe * f.simd * layer.weight_bits, nf * sf)
    if nf > 64:
        thresholds = layer.thresholds.shape[1] if isinstance(layer, FewdIFConv) else 0
        memory += bram36(f.pe * layer.acc_bits, nf) + (bram36(f.pe * layer.acc_bits * thresholds, nf)
                                                      if thresholds else 0)
    c, _, w = layer.in_shape
    _, _, ow = layer.out_shape
    in_bits = 8 if layer.in_kind == "pixels" else max(1, layer.in_max.bit_length())
    line_words = w + 2 * layer.padding
    if layer.kernel > 1 and line_words > LUTRAM_MAX_DEPTH:
        memory += bram36((layer.kernel - 1) * c * in_bits, line_words)
    if isinstance(layer, FewdIFConv) and not fifo_in_lutram(layer.out_channels * act_bits, fifo_depth(ow)):
        memory += bram36(layer.out_channels * act_bits, fifo_depth(ow))
    return memory


RES_SHIFT_BITS = 5  # spikeflow_neuron RES_SHW: bits of a residual shift
ECP5_LUTRAM = (16, 4, 4)  # TRELLIS_DPR16X4: depth, width, LUT4s (as synth.ecp5_resources counts it) ...
ECP5_LUTRAM_COST, ECP5_EBR_COST = 4, 128  # ... and memory_libmap's costs (share/yosys/ecp5/*.txt)


def storage(width: int, depth: int, family: str) -> tuple[float, float]:
    """(LUTs, BRAM36) of a width x depth memory read at any address, on the family's primitives: LUT RAM when
    Yosys's memory_libmap costs favour it (fifo_in_lutram on xcup; 16 x 4 units at cost 4 against an EBR at 128
    on ECP5), else block RAM at the best aspect ratio (an EBR counts as half a BRAM36, like a RAMB18). A LUT RAM
    deeper than one unit adds a read select per bit: one LUT per extra 64-word unit on xcup; on ECP5, where Yosys
    builds it from LUT4s and PFUMX/L6MUX21 muxes, 2 x (units - 1) x log2(units) LUT4s per bit (the two branch FIFOs
    of bench/dag_resource_check.py, 32 and 64 deep, gave about 2 and 4.5 per bit and extra unit)."""
    if family == "ecp5":
        unit_depth, unit_width, unit_luts = ECP5_LUTRAM
        deep, wide = math.ceil(depth / unit_depth), math.ceil(width / unit_width)
        if deep * wide * ECP5_LUTRAM_COST <= 2 * bram36(width, depth) * ECP5_EBR_COST:
            select = 2 * width * (deep - 1) * max(1, math.ceil(math.log2(deep)))
            return float(deep * wide * unit_luts + select), 0.0
        return 0.0, bram36(width, depth)
    if fifo_in_lutram(width, depth):
        extra = width * (math.ceil(depth / 64) - 1) if depth > 64 else 0
        return float(lutram_luts(width, depth) + extra), 0.0
    return 0.0, bram36(width, depth)


def fifo_resources(width: int, depth: int, family: str) -> tuple[float, float, float]:
    """(LUT, FF, BRAM36) of a spikeflow_axis_fifo: its storage, two pointers of log2(depth)+1 bits and the copy of
    the read address that Yosys moves into the LUT RAM's read port (FFs), the pointers' incrementers and the
    full/empty compares: 2 x log2(depth) + 4 LUTs on xcup, 7 x log2(depth) + 7 LUT4s on ECP5 (carry cells counted
    as two LUT4s, as synth.ecp5_resources does). The control figures are what Yosys 0.23 gave for the branch and
    layer FIFOs of bench/dag_resource_check.py (16 to 64 deep): no fit, a reading of three instances."""
    aw = max(1, math.ceil(math.log2(depth)))
    lut, bram = storage(width, depth, family)
    control = 7 * aw + 7 if family == "ecp5" else 2 * aw + 4
    return lut + control, 2.0 * (aw + 1) + (aw if bram == 0 else 0), bram


def neuron_out_depth(layer: FewdIFConv | FewdIFHead, f: LayerFolding) -> int:
    """OUT_DEPTH of spikeflow_neuron (its output FIFO and a residual conv's shortcut queue): the windows in
    flight, from the pipeline's latency (mirrors the RTL's localparams)."""
    a = Arithmetic.of(layer, f)
    simd_levels = math.ceil(math.log2(f.simd)) if f.simd > 1 else 0
    tree_lat = (1 if a.dsp else 0) + max(simd_levels, 1) + (math.ceil(math.log2(a.ndig)) if a.ndig > 1 else 0)
    fp = 2 + tree_lat + 2
    cpw = (layer.out_channels // f.pe) * (window_elems(layer) // f.simd) * passes(layer, f)
    in_flight = (fp + cpw + 2 + cpw - 1) // cpw + 1
    return 2 if in_flight <= 2 else 1 << math.ceil(math.log2(in_flight))


def residual_features(layer: FewdIFConv, f: LayerFolding, act_bits: int, family: str) -> dict[str, float]:
    """LUT, FF and BRAM36 that a residual conv's shortcut adds to its neuron unit (see the module docstring)."""
    if not layer.has_residual:
        return {"lut": 0.0, "ff": 0.0, "bram36": 0.0}
    nf = layer.out_channels // f.pe
    depth = neuron_out_depth(layer, f)
    qw = layer.out_channels * act_bits
    q_lut, q_bram = storage(qw, depth, family)
    mux_inputs = 4 if family != "ecp5" else 2  # data inputs of a one-LUT select
    group_select = f.pe * act_bits * math.ceil((nf - 1) / (mux_inputs - 1)) if nf > 1 else 0
    shifts = set(layer.residual_shift)
    rom_bits = f.pe * RES_SHIFT_BITS if nf > 1 else 0  # NF = 1: the shifts are constants of the logic
    # FFs: the queue's pointers and the read address Yosys copies into the LUT RAM's read port, and a few more;
    # Yosys 0.23 gave 9 to 16 for the four shortcuts of bench/dag_resource_check.py (seeds 5 and 3), whatever PE
    # and NF (the shift ROM's registers are merged away: its contents are small constants)
    rom_luts = rom_bits * math.ceil(nf / (64 if family != "ecp5" else 16))
    # (n << shift) added into the bias: only the low act_bits + shift bits of each lane see the shortcut (the
    # bits above are the carry's), and with NF = 1 the shifts are constants (wiring)
    shift_add = f.pe * (act_bits + (max(shifts) if nf > 1 else 0))
    rqw = max(1, math.ceil(math.log2(depth)))
    return {"lut": q_lut + group_select + rom_luts + shift_add + 2 * rqw + 2,
            "ff": 3.0 * rqw + 8, "bram36": q_bram}


def _tensor_width(net: FewdIFNetwork, tensor: str) -> int:
    """Bits of one position of a tensor's stream: the input's pixels, or spike counts."""
    if tensor == NETWORK_INPUT:
        return PIXEL_BITS * net.input_shape[0]
    layer = next(layer for layer in net.layers if layer.name == tensor)
    return layer.out_shape[0] * net.act_bits


def dag_resources(net: FewdIFNetwork, family: str = "xcup") -> list[LayerResources]:
    """Rows of the DAG units that are not layers of the model's fit: a "<tensor>:fork" row per forked tensor
    (broadcast and branch FIFOs), a row per concat and per upsampler. Empty for a chain."""
    rows = []
    depths = branch_fifo_depths(net)
    for tensor, branches in forks(net).items():
        width = _tensor_width(net, tensor)
        n = len(branches)
        lut, ff, bram = float((4 if family == "ecp5" else 2) * n + 1), float(n), 0.0
        for b in branches:
            fl, ff_, fb = fifo_resources(width, depths[b], family)
            lut, ff, bram = lut + fl, ff + ff_, bram + fb
        rows.append(LayerResources(f"{tensor}:fork", 0, LUT=lut, FF=ff, BRAM36=bram))
    for layer in net.layers:
        if isinstance(layer, FewdIFConcat):
            total_width = layer.out_shape[0] * net.act_bits
            rows.append(LayerResources(layer.name, 0, LUT=float(len(layer.in_shapes)), FF=float(total_width + 1),
                                       BRAM36=0.0))
        elif isinstance(layer, FewdIFUpsample):
            c, _, w = layer.in_shape
            pix = c * net.act_bits
            line_lut, line_bram = storage(pix, w, family)
            xw = max(1, math.ceil(math.log2(w)))
            fw = max(1, math.ceil(math.log2(layer.factor)))
            select = pix * (1 if family != "ecp5" else 2)  # fresh input, current pixel or the line: 3-way per bit
            counters = xw + 2 * fw
            rows.append(LayerResources(layer.name, 0, LUT=line_lut + select + counters + 4,
                                       FF=float(2 * pix + counters + 1), BRAM36=line_bram))
    if len(net.heads) > 1:
        rows.append(head_merge_resources(net, family))
    return rows


def head_merge_resources(net: FewdIFNetwork, family: str = "xcup") -> LayerResources:
    """The "heads:merge" row of a network with several heads: the chain of spikeflow_head_merge that puts the heads'
    values on the one output stream, every head (head 0 in the first merge) buffered in a FIFO of one frame of its
    values (DEPTH - 1 words of value + tlast bits, hw.skew.head_merge_depths) on the storage Yosys picks, with its
    pointers, word count, output register and skid buffer. Estimated from storage and widths; not checked against
    Yosys yet."""
    bits = max(head.acc_bits for head in net.heads)
    lut = ff = bram = 0.0
    for depth in head_merge_depths(net).values():
        aw = max(1, math.ceil(math.log2(max(2, depth - 1))))
        s_lut, s_bram = storage(bits + 1, depth - 1, family)
        lut += s_lut + 4 * aw + bits + 8  # pointers, count, the output select per bit, control
        ff += 3 * aw + 1 + (bits + 2) + 2 * (OUT_WIDTH + 2)  # pointers and count, q, the skid buffer's two words
        bram += s_bram
    return LayerResources("heads:merge", 0, LUT=lut, FF=ff, BRAM36=bram)


def conv_resources(layer: FewdIFConv | FewdIFHead, f: LayerFolding, act_bits: int,
                   model: ResourceModel = DEFAULT_MODEL) -> LayerResources:
    """Estimated resources of one conv/head layer at folding f (neuron unit, window generator, output FIFO; a
    residual conv's shortcut from `residual_features`)."""
    x = features(layer, f, act_bits)
    lut = sum(getattr(model, f"lut_{k}") * x[k] for k in LUT_FEATURES) + model.lut_fixed
    ff = sum(getattr(model, f"ff_{k}") * x[k] for k in FF_FEATURES) + model.ff_fixed
    bram = layer_memory(layer, f, act_bits)
    if isinstance(layer, FewdIFConv) and layer.has_residual:
        res = residual_features(layer, f, act_bits, model.family)
        lut, ff, bram = lut + res["lut"], ff + res["ff"], bram + res["bram36"]
    dsp = f.pe * f.simd if Arithmetic.of(layer, f).dsp else 0
    return LayerResources(layer.name, f.pe * f.simd, LUT=lut, FF=ff, BRAM36=bram, DSP=dsp)


def layer_resources(net: FewdIFNetwork, folding: Folding, model: ResourceModel = DEFAULT_MODEL
                    ) -> list[LayerResources]:
    """Estimated resources of every layer (conv and head: neuron unit, window generator, output FIFO; max-pool),
    then, in a DAG, of its forks, concats and upsamplers (`dag_resources`)."""
    rows = []
    for layer in net.layers:
        if isinstance(layer, FewdIFMaxPool):
            x = pool_features(layer, net.act_bits)
            lut = model.lut_pool * x["lut"] + model.lut_pool_lutram * x["lutram"] + model.lut_pool_fixed
            rows.append(LayerResources(layer.name, 0, LUT=lut, FF=model.ff_pool * x["ff"] + model.ff_pool_fixed,
                                       BRAM36=x["bram36"]))
        elif isinstance(layer, FewdIFConv | FewdIFHead):
            rows.append(conv_resources(layer, folding[layer.name], net.act_bits, model))
    return rows + dag_resources(net, model.family)


def total(rows: list[LayerResources]) -> dict[str, float]:
    return {key: sum(getattr(r, key) for r in rows) for key in ("LUT", "FF", "BRAM36", "DSP")}
