"""Formal equivalence of the two formulations of rtl/spikeflow_lane_sum.v: the logic one that synthesis maps to LUTs
and the word one that the fast Verilator harness simulates (diagonals or packed products, with the weights arranged
as its ROM stores them), proven for each neuron unit the flow generates.

Both formulations are free-running pipelines without feedback. The proof has three parts:
1. Pipeline shape (Yosys, then Python on its JSON netlist): every state element is a plain D flip-flop clocked
   every cycle (no enable, reset, latch or memory), there is no loop, and every path from an input bit to an output
   bit crosses exactly LATENCY flip-flops. Then each output is a function C of the inputs LATENCY cycles earlier,
   whatever the initial state.
2. Combinational equivalence, with every flip-flop replaced by a wire: C_logic == C_word for all inputs, lane by
   lane, as polynomials over the input bits (spikeflow.backends.rtl.algebraic), which does not depend on how the
   additions are grouped; where that check cannot decide, a Yosys miter and ABC's SAT sweeping (`iprove`). The word
   formulation's popcount is read as the plain sum of its bits (SPIKEFLOW_POPCOUNT_SPEC).
3. Once for the library: the popcount idiom the harness runs equals that sum for every 64-bit word (ABC).
Together: the two give the same psum at every cycle from the LATENCY-th on, from any initial state.

The window slice a neuron unit works on (rtl/spikeflow_slice_select.v) also has two formulations, an AND-OR with a
one-hot register (synthesis) and a part-select (the harness). Their equality rests on an invariant of the state
(the one-hot register is 1 << sf), so it is proven by temporal induction from reset (Yosys `sat -tempinduct` on the
module's SPIKEFLOW_FORMAL assertions), for each (SF, WIDTH) the design has.

A firing unit's spike count (rtl/spikeflow_fire.v) has two formulations too: signed compares and half adders
(synthesis), offset-binary compares added as integers (the harness). It is combinational and proven in two parts by
SAT for all inputs (Yosys `sat -prove-asserts`): the compare for each ACC_BITS, the count for each (THRESHOLDS, OB).

Results are cached by the parameters, the text of the library files and the tools' versions.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import jinja2

from spikeflow.backends.rtl import algebraic
from spikeflow.backends.rtl.synth import find_yosys, yosys_version
from spikeflow.backends.rtl.tools import cache_root, replace_atomically
from spikeflow.errors import SpikeflowError, ToolMissingError

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
LIBRARY = ("spikeflow_lane_sum.v", "spikeflow_adder_tree.v")
SLICE_SELECT = "spikeflow_slice_select.v"
FIRE = "spikeflow_fire.v"
SLICE_MAX_STEPS = 4  # induction lengths tried (the invariant is inductive at length 1)
CHECK_VERSION = 2  # bump when the scripts or the rules below change (invalidates the cache)
# state elements other than a plain $dff (enables, resets, latches, memories): the check refuses them
STATEFUL_TYPES = ("$dffe", "$sdff", "$sdffe", "$sdffce", "$adff", "$adffe", "$aldff", "$aldffe", "$dffsr",
                  "$dffsre", "$dlatch", "$adlatch", "$dlatchsr", "$sr", "$mem", "$mem_v2", "$memrd", "$memrd_v2",
                  "$memwr", "$memwr_v2", "$meminit", "$meminit_v2", "$ff", "$anyinit")


# the Yosys passes that elaborate a formulation for the proof: flattened, reduced to word-level cells
ELABORATION = "proc; flatten; opt_clean; memory; opt -fast; wreduce; opt_clean"


class EquivalenceError(SpikeflowError):
    """Two formulations of a neuron unit's part (lane sums, slice select, spike count) differ, or their equivalence
    could not be decided (the message names the instance, its parameters and the log)."""


@dataclass(frozen=True)
class LaneSumParams:
    """The parameters of one spikeflow_lane_sum, as spikeflow_neuron derives them (mirrors its localparams)."""

    pe: int
    simd: int
    weight_bits: int
    xb: int
    acc_bits: int
    digit: int
    dsp: bool
    latency: int

    @classmethod
    def of_neuron(cls, p: dict[str, Any]) -> LaneSumParams:
        """From the parameters of a spikeflow_neuron or spikeflow_head instance (instances.json)."""
        parallel = int(p.get("TIME_PARALLEL", 1)) != 0
        pixels = int(p.get("IN_KIND", 1)) == 0
        in_bits = int(p["IN_BITS"])
        xb = 1 if not parallel else (in_bits if pixels else int(p["IN_MAX"]).bit_length())
        weight_bits = int(p["WEIGHT_BITS"])
        dsp = int(p.get("USE_DSP", 0)) != 0 and pixels and parallel
        d_lut = 1 if weight_bits >= 5 else 6 - weight_bits
        digit = xb if dsp else min(d_lut, xb)
        ndig = -(-xb // digit)
        simd = int(p["SIMD"])
        levels = (simd - 1).bit_length() if simd > 1 else 0
        latency = int(dsp) + max(levels, 1) + ((ndig - 1).bit_length() if ndig > 1 else 0)
        return cls(pe=int(p["PE"]), simd=simd, weight_bits=weight_bits, xb=xb, acc_bits=int(p["ACC_BITS"]),
                   digit=digit, dsp=dsp, latency=latency)

    @property
    def mul_r(self) -> int:
        """Elements per 64-bit multiply of the packed-products form (spikeflow_neuron's MUL_R)."""
        largest = ((1 << self.weight_bits) - 1) * ((1 << self.xb) - 1)
        return 8 if largest < 32 else 4 if largest < 16384 else 2 if largest < 2147483647 else 1

    @property
    def word_form(self) -> int:
        """The word formulation the fast harness simulates (spikeflow_neuron's ARITH_FORM under
        SPIKEFLOW_WORD_ARITH): 1, diagonals, or 2, packed products, whichever takes fewer 64-bit operations."""
        diagonals = -(-self.simd * self.xb // 64) * (self.weight_bits + self.xb - 1)
        products = -(-self.simd // self.mul_r)
        return 1 if self.xb in (1, 2, 4, 8) and diagonals <= products else 2

    def word_weight_bits(self) -> list[int | None]:
        """The weight word as the word formulation takes it (spikeflow_rom's LAYOUT = word_form): for each of its
        bits, the bit of the logic formulation's weight word it holds, or None (0)."""
        w, x, simd = self.weight_bits, self.xb, self.simd
        if self.word_form == 1:
            words, diagonals = -(-simd * x // 64), w + x - 1
            out: list[int | None] = [None] * (self.pe * words * diagonals * 64)
            for p in range(self.pe):
                for e in range(simd):
                    for j in range(w):
                        for m in range(x):
                            at = ((p * words + e * x // 64) * diagonals + j + m) * 64 + (e * x) % 64 + m
                            out[at] = (p * simd + e) * w + j
            return out
        r = self.mul_r
        words, stride = -(-simd // r), 64 // r
        out = [None] * (self.pe * words * 64)
        for p in range(self.pe):
            for e in range(simd):
                for j in range(w):
                    out[(p * words + e // r) * 64 + (e % r) * stride + j] = (p * simd + e) * w + j
        return out

    @property
    def label(self) -> str:
        return (f"PE={self.pe} SIMD={self.simd} W={self.weight_bits} XB={self.xb} ACC={self.acc_bits} "
                f"D={self.digit}{' DSP' if self.dsp else ''} latency {self.latency}")


@dataclass
class EquivalenceResult:
    params: LaneSumParams | SliceSelectParams | FireParams
    verdict: str  # "equivalent", "different", "undecided"
    detail: str  # what decided it (or what failed), one line
    seconds: float
    cached: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self.params), "verdict": self.verdict, "detail": self.detail,
                "seconds": round(self.seconds, 2), "cached": self.cached}


def find_abc() -> Path:
    exe = shutil.which("yosys-abc")
    if not exe:
        raise ToolMissingError("yosys-abc not found: it comes with Yosys (Debian: apt-get install yosys; "
                               "'make setup' does)")
    return Path(exe)


def neuron_instances(rtl_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    """(instance name, parameters) of every neuron unit of a generated design (rtl_dir/instances.json)."""
    instances = json.loads((rtl_dir / "instances.json").read_text())
    return [(inst["instance"], inst["parameters"]) for inst in instances
            if inst["module"] in ("spikeflow_neuron", "spikeflow_head")]


def lane_sum_instances(rtl_dir: Path) -> list[tuple[str, LaneSumParams]]:
    """(instance name, lane-sum parameters) of every neuron unit of a generated design."""
    return [(name, LaneSumParams.of_neuron(p)) for name, p in neuron_instances(rtl_dir)]


# ---------------------------------------------------------------- pipeline shape and flip-flop removal
Bit = int | str  # a net bit of a Yosys JSON netlist, or a constant "0", "1", "x", "z"


def _cell_io(cell: dict[str, Any]) -> tuple[list[Bit], list[Bit]]:
    """A cell's data input bits and output bits (a flip-flop's clock is not data)."""
    ins: list[Bit] = []
    outs: list[Bit] = []
    for port, bits in cell["connections"].items():
        if cell["type"] == "$dff" and port == "CLK":
            continue
        (outs if cell["port_directions"][port] == "output" else ins).extend(bits)
    return ins, outs


def pipeline_latencies(module: dict[str, Any]) -> dict[str, set[int]]:
    """For each output port, the numbers of flip-flops on the paths from the input ports to its bits.

    Raises EquivalenceError for a state element other than a plain $dff, or a combinational loop."""
    driver: dict[Bit, tuple[str, dict[str, Any]]] = {}
    for name, cell in module["cells"].items():
        if cell["type"] in STATEFUL_TYPES:
            raise EquivalenceError(f"cell {name} is a {cell['type']}: the check covers pipelines of plain "
                                   f"flip-flops clocked every cycle")
        for bit in _cell_io(cell)[1]:
            driver[bit] = (name, cell)
    inputs = {bit for port in module["ports"].values() if port["direction"] == "input" for bit in port["bits"]}
    memo: dict[str, frozenset[int]] = {}  # per cell: latencies of its outputs
    busy: set[str] = set()

    def cell_latency(name: str, cell: dict[str, Any]) -> frozenset[int]:
        # iterative depth-first walk over the cells that drive this one's inputs
        stack: list[tuple[str, dict[str, Any]]] = [(name, cell)]
        while stack:
            cname, c = stack[-1]
            if cname in memo:
                stack.pop()
                continue
            busy.add(cname)
            pending = []
            for bit in _cell_io(c)[0]:
                if bit in driver:
                    dname, dcell = driver[bit]
                    if dname not in memo:
                        if dname in busy:
                            raise EquivalenceError(f"a combinational loop through cell {dname}")
                        pending.append((dname, dcell))
            if pending:
                stack.extend(pending)
                continue
            lats: set[int] = set()
            for bit in _cell_io(c)[0]:
                if bit in driver:
                    lats |= memo[driver[bit][0]]
                elif bit in inputs:
                    lats.add(0)
            step = 1 if c["type"] == "$dff" else 0
            memo[cname] = frozenset(lat + step for lat in lats)
            busy.discard(cname)
            stack.pop()
        return memo[name]

    out: dict[str, set[int]] = {}
    for pname, port in module["ports"].items():
        if port["direction"] != "output":
            continue
        lats: set[int] = set()
        for bit in port["bits"]:
            if bit in driver:
                lats |= cell_latency(*driver[bit])
            elif bit in inputs:
                lats.add(0)
        out[pname] = lats
    return out


def remove_flip_flops(module: dict[str, Any]) -> dict[str, Any]:
    """A copy of a JSON netlist module with every $dff replaced by a wire from D to Q."""
    subst: dict[Bit, Bit] = {}
    for cell in module["cells"].values():
        if cell["type"] == "$dff":
            for d, q in zip(cell["connections"]["D"], cell["connections"]["Q"], strict=True):
                subst[q] = d

    def resolve(bit: Bit) -> Bit:
        seen = 0
        while bit in subst:
            bit = subst[bit]
            seen += 1
            if seen > len(subst):
                raise EquivalenceError("a loop of flip-flops")
        return bit

    def fix(bits: Iterable[Bit]) -> list[Bit]:
        return [resolve(b) for b in bits]

    cells = {name: {**cell, "connections": {p: fix(bits) for p, bits in cell["connections"].items()}}
             for name, cell in module["cells"].items() if cell["type"] != "$dff"}
    ports = {name: {**port, "bits": fix(port["bits"])} for name, port in module["ports"].items()}
    netnames = {name: {**net, "bits": fix(net["bits"])} for name, net in module.get("netnames", {}).items()}
    return {**module, "cells": cells, "ports": ports, "netnames": netnames}


# ---------------------------------------------------------------- running the tools
def _render(name: str, out: Path, **values: Any) -> Path:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True)
    out.write_text(env.get_template(name).render(**values))
    return out


def _run(cmd: list[str], cwd: Path, log: Path, timeout_s: float) -> str:
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise TimeoutError(f"{Path(cmd[0]).name} ran past {timeout_s:.0f} s") from exc
    text = proc.stdout + proc.stderr
    with log.open("a") as f:
        f.write(f"$ {' '.join(cmd)}\n{text}\n")
    if proc.returncode != 0:
        last = [line for line in text.splitlines() if line.strip()][-1:] or ["(no output)"]
        raise EquivalenceError(f"{Path(cmd[0]).name} failed in {cwd}: {last[0]}")
    return text


def combinational_cores(work: Path, latency: int) -> str | None:
    """The pipeline-shape half of the proof on lane_logic.json and lane_word.json in `work` (Yosys JSON, one module
    each, named so): both `latency` flip-flops deep on every path, then each written with its flip-flops replaced by
    wires as lane_logic_comb.json and lane_word_comb.json. Returns why the shapes differ, or None."""
    for name in ("lane_logic", "lane_word"):
        netlist = json.loads((work / f"{name}.json").read_text())
        module = netlist["modules"][name]
        latencies = pipeline_latencies(module)["psum"]
        if latencies != {latency}:
            return f"{name}: paths from the inputs to psum cross {sorted(latencies)} flip-flops, not {latency}"
        netlist["modules"] = {name: remove_flip_flops(module)}
        (work / f"{name}_comb.json").write_text(json.dumps(netlist))
    return None


def prove_elaborated(work: Path, latency: int, label: str, log: Path, timeout_s: float = 600.0,
                     acc_bits: int | None = None) -> tuple[str, str]:
    """The proof on two elaborated formulations, lane_logic.json and lane_word.json in `work`: both pipelines
    `latency` flip-flops deep (combinational_cores), then their combinational cores equal: with `acc_bits`, lane by
    lane (words of that many bits of psum) by the algebraic check, and by ABC where that is undecided; without, by
    ABC alone.

    Returns (verdict, detail): "equivalent", "different" or "undecided", and what decided it. Raises TimeoutError
    when a tool runs past `timeout_s`."""
    shape = combinational_cores(work, latency)
    if shape is not None:
        return "different", shape
    if acc_bits:
        cores = [json.loads((work / f"{n}_comb.json").read_text())["modules"][n] for n in ("lane_logic", "lane_word")]
        verdict, detail = algebraic.compare(*cores, "psum", word_bits=acc_bits)
        with log.open("a") as f:
            f.write(f"algebraic check: {verdict}: {detail}\n")
        if verdict != "undecided":
            return verdict, (f"same {latency}-cycle pipeline shape; {detail}" if verdict == "equivalent" else detail)
    script = _render("lane_sum_equiv_miter.ys.j2", work / "miter.ys", label=label)
    _run([str(find_yosys()), "-q", str(script.name)], work, log, timeout_s)
    text = _run([str(find_abc()), "-c", "read_aiger miter.aig; strash; iprove"], work, log, timeout_s)
    # iprove on a miter: UNSATISFIABLE means no input makes the two differ
    if "UNSATISFIABLE" in text or "Networks are equivalent" in text:
        return "equivalent", f"same {latency}-cycle pipeline shape; combinational cores equal (ABC iprove)"
    if "SATISFIABLE" in text or "are not equivalent" in text:
        return "different", f"ABC found inputs where the formulations differ ({log})"
    return "undecided", f"ABC gave no verdict ({log})"


def _concatenation(sources: list[int | None], name: str) -> str:
    """A Verilog concatenation, most significant first, of bits of `name` (None: a 0), 16 to a line."""
    items = [f"{name}[{b}]" if b is not None else "1'b0" for b in reversed(sources)]
    lines = [", ".join(items[i:i + 16]) for i in range(0, len(items), 16)]
    return "{" + ",\n    ".join(lines) + "}"


def prove_lane_sum(params: LaneSumParams, library: Path, work: Path, timeout_s: float = 600.0) -> EquivalenceResult:
    """Prove the two formulations of `library`/spikeflow_lane_sum.v equal for `params`, in folder `work` (given
    that the popcount idiom counts ones: prove_popcount, which check_lane_sums runs once)."""
    yosys = str(find_yosys())
    started = time.time()
    work.mkdir(parents=True, exist_ok=True)
    log = work / "equivalence.log"
    log.write_text("")
    wrapper = _render("lane_sum_equiv.v.j2", work / "lane_sum_equiv.v", p=params, label=params.label,
                      word_weights=_concatenation(params.word_weight_bits(), "w"))
    sources = [str((library / f).resolve()) for f in LIBRARY]
    script = _render("lane_sum_equiv_elaborate.ys.j2", work / "elaborate.ys", label=params.label,
                     wrapper=wrapper.name, sources=sources, passes=ELABORATION)
    try:
        _run([yosys, "-q", str(script.name)], work, log, timeout_s)
        verdict, detail = prove_elaborated(work, params.latency, params.label, log, timeout_s, params.acc_bits)
    except TimeoutError as exc:
        return EquivalenceResult(params, "undecided", str(exc), time.time() - started)
    return EquivalenceResult(params, verdict, detail, time.time() - started)


def equivalence_key(params: LaneSumParams, library: Path) -> str:
    h = hashlib.sha256(json.dumps({"params": asdict(params), "version": CHECK_VERSION, "passes": ELABORATION,
                                   "tools": yosys_version()}, sort_keys=True).encode())
    for f in LIBRARY:
        h.update((library / f).read_bytes())
    for name in ("lane_sum_equiv.v.j2", "lane_sum_equiv_elaborate.ys.j2", "lane_sum_equiv_miter.ys.j2"):
        h.update((TEMPLATE_DIR / name).read_bytes())
    h.update(Path(algebraic.__file__).read_bytes())
    return h.hexdigest()[:24]


@dataclass
class PopcountResult:
    verdict: str  # "equivalent", "different", "undecided"
    detail: str
    seconds: float
    cached: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "detail": self.detail, "seconds": round(self.seconds, 2),
                "cached": self.cached}


def prove_popcount(library: Path, work: Path, timeout_s: float = 600.0) -> PopcountResult:
    """The popcount idiom of `library`/spikeflow_lane_sum.v (module spikeflow_pop64_idiom) equal to the plain sum
    of the bits of every 64-bit word: Yosys miter, ABC iprove."""
    started = time.time()
    work.mkdir(parents=True, exist_ok=True)
    log = work / "popcount.log"
    log.write_text("")
    spec = _render("popcount_spec.v.j2", work / "popcount_spec.v")
    script = _render("popcount_equiv.ys.j2", work / "popcount.ys", spec=spec.name,
                     lane_sum=str((library / LIBRARY[0]).resolve()))
    try:
        _run([str(find_yosys()), "-q", script.name], work, log, timeout_s)
        text = _run([str(find_abc()), "-c", "read_aiger popcount.aig; strash; iprove"], work, log, timeout_s)
    except TimeoutError as exc:
        return PopcountResult("undecided", str(exc), time.time() - started)
    if "UNSATISFIABLE" in text or "Networks are equivalent" in text:
        verdict, detail = "equivalent", "the popcount idiom counts the ones of every 64-bit word (ABC iprove)"
    elif "SATISFIABLE" in text or "are not equivalent" in text:
        verdict, detail = "different", f"ABC found a word whose popcount idiom is not its number of ones ({log})"
    else:
        verdict, detail = "undecided", f"ABC gave no verdict on the popcount idiom ({log})"
    return PopcountResult(verdict, detail, time.time() - started)


def check_popcount(library: Path, timeout_s: float = 600.0, cache: Path | None = None) -> PopcountResult:
    """prove_popcount, cached by the library's text and the tools (an equivalent verdict is kept)."""
    cache = cache_root() / "equivalence" if cache is None else cache
    h = hashlib.sha256(json.dumps({"popcount": CHECK_VERSION, "passes": ELABORATION, "tools": yosys_version()}
                                  ).encode())
    h.update((library / LIBRARY[0]).read_bytes())
    for name in ("popcount_spec.v.j2", "popcount_equiv.ys.j2"):
        h.update((TEMPLATE_DIR / name).read_bytes())
    entry = cache / f"popcount-{h.hexdigest()[:24]}.json"
    if entry.is_file():
        data = json.loads(entry.read_text())
        return PopcountResult(data["verdict"], data["detail"], data["seconds"], cached=True)
    with tempfile.TemporaryDirectory(prefix="spikeflow-popcount-") as tmp:
        result = prove_popcount(library, Path(tmp), timeout_s)
    if result.verdict == "equivalent":
        entry.parent.mkdir(parents=True, exist_ok=True)
        replace_atomically(entry, lambda tmp: tmp.write_text(json.dumps(result.as_dict())))
    return result


def _cached_proof(params: LaneSumParams | SliceSelectParams | FireParams, entry: Path,
                  prove: Callable[[Path], EquivalenceResult]) -> EquivalenceResult:
    """The verdict kept in `entry`, else `prove` in a fresh folder: an equivalent verdict is kept in `entry`, the
    folder of any other is kept beside it (cache/failed/) and named in the detail."""
    if entry.is_file():
        data = json.loads(entry.read_text())
        return EquivalenceResult(params, data["verdict"], data["detail"], data["seconds"], cached=True)
    with tempfile.TemporaryDirectory(prefix="spikeflow-equiv-") as tmp:
        result = prove(Path(tmp))
        if result.verdict != "equivalent":
            kept = entry.parent / "failed" / entry.stem
            shutil.rmtree(kept, ignore_errors=True)
            shutil.copytree(tmp, kept)
            result.detail += f" (files kept in {kept})"
    if result.verdict == "equivalent":
        entry.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(result.as_dict())
        replace_atomically(entry, lambda tmp: tmp.write_text(text))
    return result


def check_lane_sums(params: list[LaneSumParams], library: Path, jobs: int = 1, timeout_s: float = 600.0,
                    cache: Path | None = None) -> list[EquivalenceResult]:
    """prove_lane_sum for each distinct parameter set (cached: an equivalent verdict is kept by key), after the
    popcount idiom (check_popcount): if that is not proven, neither is any instance."""
    cache = cache_root() / "equivalence" if cache is None else cache
    distinct = list(dict.fromkeys(params))
    popcount = check_popcount(library, timeout_s, cache) if params else None
    if popcount is not None and popcount.verdict != "equivalent":
        return [EquivalenceResult(p, popcount.verdict, f"popcount idiom: {popcount.detail}", popcount.seconds)
                for p in params]

    def one(p: LaneSumParams) -> EquivalenceResult:
        return _cached_proof(p, cache / f"{equivalence_key(p, library)}.json",
                             lambda work: prove_lane_sum(p, library, work, timeout_s))

    # the largest first, so that the last to finish is a short one
    order = sorted(distinct, key=lambda p: -p.pe * p.simd)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        done = dict(zip(order, pool.map(one, order), strict=True))
    return [done[p] for p in params]


# ---------------------------------------------------------------- the window slice select
@dataclass(frozen=True)
class SliceSelectParams:
    """The parameters of one spikeflow_slice_select, as spikeflow_neuron derives them."""

    sf: int  # slices per window: N_IN / SIMD
    width: int  # bits per slice: SIMD * IN_BITS

    @classmethod
    def of_neuron(cls, p: dict[str, Any]) -> SliceSelectParams:
        return cls(sf=int(p["N_IN"]) // int(p["SIMD"]), width=int(p["SIMD"]) * int(p["IN_BITS"]))

    @property
    def label(self) -> str:
        return f"SF={self.sf} WIDTH={self.width}"


def slice_select_instances(rtl_dir: Path) -> list[tuple[str, SliceSelectParams]]:
    """(instance name, slice-select parameters) of every neuron unit of a generated design."""
    return [(name, SliceSelectParams.of_neuron(p)) for name, p in neuron_instances(rtl_dir)]


def prove_slice_select(params: SliceSelectParams, library: Path, work: Path,
                       timeout_s: float = 600.0) -> EquivalenceResult:
    """Prove `library`/spikeflow_slice_select.v's assertions for `params` by temporal induction from reset."""
    def verdict(text: str, log: Path) -> tuple[str, str]:
        if "Induction step proven: SUCCESS!" in text:
            return "equivalent", ("one-hot register == 1 << sf and the two selects equal in every state reachable "
                                  "from reset (Yosys sat -tempinduct)")
        if "FAIL!" in text:
            return "different", f"Yosys found a reachable state where an assertion fails ({log})"
        return "undecided", f"no induction within {SLICE_MAX_STEPS} steps ({log})"

    return _assertion_proof(params, work, "slice_select", verdict, timeout_s, sf=params.sf, width=params.width,
                            source=str((library / SLICE_SELECT).resolve()), max_steps=SLICE_MAX_STEPS)


def _assertion_proof(params: SliceSelectParams | FireParams, work: Path, name: str,
                     verdict: Callable[[str, Path], tuple[str, str]], timeout_s: float,
                     **values: Any) -> EquivalenceResult:
    """Run the Yosys script templates/NAME_proof.ys.j2 (rendered with `values`) in `work`, its log NAME.log; the
    result is `verdict` of its output."""
    started = time.time()
    work.mkdir(parents=True, exist_ok=True)
    log = work / f"{name}.log"
    log.write_text("")
    script = _render(f"{name}_proof.ys.j2", work / f"{name}.ys", **values)
    try:
        text = _run([str(find_yosys()), script.name], work, log, timeout_s)
    except TimeoutError as exc:
        return EquivalenceResult(params, "undecided", str(exc), time.time() - started)
    return EquivalenceResult(params, *verdict(text, log), time.time() - started)


def check_slice_selects(params: list[SliceSelectParams], library: Path, timeout_s: float = 600.0,
                        cache: Path | None = None) -> list[EquivalenceResult]:
    """prove_slice_select for each distinct parameter set, cached by key (an equivalent verdict is kept)."""
    return _check_module_proofs(params, "slice", SLICE_SELECT, "slice_select_proof.ys.j2", library, cache,
                                lambda p, work: prove_slice_select(p, library, work, timeout_s),
                                {"steps": SLICE_MAX_STEPS})


def _check_module_proofs(params: list[Any], kind: str, source: str, template: str, library: Path,
                         cache: Path | None, prove: Callable[[Any, Path], EquivalenceResult],
                         extra: dict[str, Any] | None = None) -> list[EquivalenceResult]:
    """`prove` for each distinct parameter set of a module's SPIKEFLOW_FORMAL proof, cached by the parameters, the
    module's and the script template's text and the tools' versions."""
    cache = cache_root() / "equivalence" if cache is None else cache
    done: dict[Any, EquivalenceResult] = {}
    for p in dict.fromkeys(params):
        h = hashlib.sha256(json.dumps({kind: asdict(p), "version": CHECK_VERSION, **(extra or {}),
                                       "tools": yosys_version()}, sort_keys=True).encode())
        h.update((library / source).read_bytes())
        h.update((TEMPLATE_DIR / template).read_bytes())
        done[p] = _cached_proof(p, cache / f"{kind}-{h.hexdigest()[:24]}.json",
                                lambda work, p=p: prove(p, work))
    return [done[p] for p in params]


# ---------------------------------------------------------------- the spike count (thresholds passed)
@dataclass(frozen=True)
class FireParams:
    """The parameters of one spikeflow_fire that its proof depends on (the thresholds' stride is wiring only)."""

    acc_bits: int
    thresholds: int
    ob: int  # bits of the count

    @classmethod
    def of_neuron(cls, p: dict[str, Any]) -> FireParams:
        return cls(acc_bits=int(p["ACC_BITS"]), thresholds=int(p["THRESHOLDS"]), ob=int(p["OUT_BITS"]))

    @property
    def label(self) -> str:
        return f"ACC={self.acc_bits} T={self.thresholds} OB={self.ob}"


def fire_instances(rtl_dir: Path) -> list[tuple[str, FireParams]]:
    """(instance name, spike-count parameters) of every firing neuron unit of a generated design (not the heads,
    which emit V)."""
    return [(name, FireParams.of_neuron(p)) for name, p in neuron_instances(rtl_dir)
            if "THRESHOLDS" in p and int(p.get("FIRE", 1)) == 1]


def prove_fire(params: FireParams, library: Path, work: Path, timeout_s: float = 600.0) -> EquivalenceResult:
    """Prove `library`/spikeflow_fire.v's assertions for `params`: its compare and its count, for all inputs."""
    def verdict(text: str, log: Path) -> tuple[str, str]:
        if text.count("SAT proof finished - no model found: SUCCESS!") == 2:
            return "equivalent", ("the word and the logic compare equal for every V and threshold, and the two "
                                  "counts for every set of compare bits (Yosys sat)")
        if "FAIL!" in text:
            return "different", f"Yosys found inputs where the compares or the counts differ ({log})"
        return "undecided", f"Yosys sat did not finish the proof ({log})"

    return _assertion_proof(params, work, "fire", verdict, timeout_s, acc_bits=params.acc_bits,
                            thresholds=params.thresholds, ob=params.ob, source=str((library / FIRE).resolve()))


def check_fires(params: list[FireParams], library: Path, timeout_s: float = 600.0,
                cache: Path | None = None) -> list[EquivalenceResult]:
    """prove_fire for each distinct parameter set, cached by key (an equivalent verdict is kept)."""
    return _check_module_proofs(params, "fire", FIRE, "fire_proof.ys.j2", library, cache,
                                lambda p, work: prove_fire(p, library, work, timeout_s))
