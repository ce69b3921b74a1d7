"""Resource estimates from Yosys: each distinct instance of a generated top synthesised out of context with
`synth_xilinx` for the part's family, cached by a hash of its parameters, sources and ROM contents, and summed.

Logic depth: see `logic_levels` (LUT levels and carry chains separately, and all levels as Vivado counts them).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from spikeflow.backends.rtl.tools import cache_root, replace_atomically
from spikeflow.errors import SpikeflowError, ToolMissingError

SCRIPT_VERSION = 3  # bump when the synthesis script or the counting rules change (invalidates the cache)
LUTRAM_LUTS = {"RAM32M": 4, "RAM32M16": 8, "RAM64M": 4, "RAM64M8": 8, "RAM32X1D": 2, "RAM64X1D": 2,
               "RAM128X1D": 4, "RAM256X1S": 4, "RAM32X1S": 1, "RAM64X1S": 1, "RAM128X1S": 2, "SRL16E": 1,
               "SRLC32E": 1}
SEQUENTIAL_PREFIXES = ("FD", "SRL", "RAMB", "URAM", "DSP48", "BUFG", "IBUF", "OBUF")  # cut points of paths
LEVELS_VERSION = 2  # bump when the depth rules change: cached results get their levels again from the netlist


def find_yosys() -> Path:
    exe = shutil.which("yosys")
    if not exe:
        raise ToolMissingError("yosys not found: install it (Debian: apt-get install yosys; 'make setup' does)")
    return Path(exe)


def yosys_version() -> str:
    out = subprocess.run([str(find_yosys()), "-V"], capture_output=True, text=True).stdout.strip()
    match = re.search(r"Yosys (\S+)", out)
    return f"yosys {match.group(1)}" if match else out


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


def parse_stat(text: str) -> dict[str, int]:
    """Cell counts of the last `stat` block of a Yosys log; a SpikeflowError when there is none (a synthesis run
    whose log lacks the statistics is never trusted)."""
    blocks = text.split("Number of cells:")
    if len(blocks) < 2:
        raise SpikeflowError("Yosys printed no statistics ('Number of cells' missing): the synthesis failed")
    cells: dict[str, int] = {}
    for line in blocks[-1].splitlines()[1:]:
        match = re.match(r"^\s+(\$?[A-Za-z_][\w$]*)\s+(\d+)\s*$", line)
        if not match:
            if cells:
                break
            continue
        cells[match.group(1)] = int(match.group(2))
    return cells


def resources(cells: dict[str, int]) -> dict[str, float]:
    """Xilinx resources from cell counts: LUTs (LUT1-6, INV and LUT RAM/SRL cells in LUTs), FFs, carry cells,
    BRAM in RAMB36 equivalents (a RAMB18 is half), URAM, DSP."""
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


def logic_levels(netlist: dict[str, Any], module: str) -> tuple[int, int, int]:
    """(max_logic_levels, lut_levels, carry_levels) of a flattened Yosys JSON netlist: the longest path between
    registers (flip-flops, block RAM, URAM, DSP and ports cut paths), counting

    - max_logic_levels: every LUT, wide-function mux (MUXF7/8/9) and carry chain, as Vivado counts logic levels;
    - lut_levels: LUTs (LUT1-6, INV, a LUT RAM read) only: a MUXF7/8/9 after a LUT is that slice's wide mux;
    - carry_levels: carry chains entered (CO -> CI along one chain is free).

    Each is a maximum over all paths, taken separately."""
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
        return kind.startswith(SEQUENTIAL_PREFIXES)

    def depth(name: str) -> tuple[int, int, int]:
        if name in memo:
            return memo[name]
        memo[name] = (0, 0, 0)  # breaks combinational loops, which the RTL does not have
        cell = mod["cells"][name]
        kind = cell["type"]
        is_lut = kind.startswith("LUT") or kind == "INV" or kind in LUTRAM_LUTS
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
                elif kind.startswith("MUXF"):
                    total += 1
                elif kind.startswith("CARRY") and not (port == "CI" and src_kind.startswith("CARRY")):
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
    sets = []
    for key, value in params.items():
        sets.append(f'-set {key} "{value}"' if isinstance(value, str) else f"-set {key} {int(value)}")
    return "\n".join([
        f"read_verilog -defer {' '.join(sources)}",
        f"chparam {' '.join(sets)} {module}",
        f"synth_xilinx -family {family} -flatten -noiopad -noclkbuf -top {module}",
        "tee -o stat.txt stat",
        "write_json netlist.json",
    ]) + "\n"


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
                   work: Path | None = None) -> tuple[SynthResult, bool]:
    """Synthesise one instance out of context (from rtl_dir, where its ROM images are); returns its result and
    whether it came from the cache."""
    rtl_dir = Path(rtl_dir).resolve()
    version = yosys_version()
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
                json.loads((work / "netlist.json").read_text()), inst["module"])
            _store(hit, result)
            return result, True
    work.mkdir(parents=True, exist_ok=True)
    sources = [str(p) for p in module_sources(rtl_dir, inst["module"])]
    params = {k: (str(rtl_dir / v) if isinstance(v, str) and (rtl_dir / v).is_file() else v)
              for k, v in inst["parameters"].items()}
    (work / "synth.ys").write_text(_script(inst["module"], params, sources, family))
    started = time.time()
    proc = subprocess.run([str(find_yosys()), "-q", "-l", "yosys.log", "synth.ys"], cwd=work, capture_output=True,
                          text=True)
    seconds = time.time() - started
    log = (work / "yosys.log").read_text() if (work / "yosys.log").is_file() else proc.stderr
    if proc.returncode != 0:
        raise SpikeflowError(f"Yosys failed on {inst['instance']} ({inst['module']}); log: {work / 'yosys.log'}: "
                             f"{(proc.stderr or log)[-300:].strip()}")
    cells = parse_stat((work / "stat.txt").read_text() if (work / "stat.txt").is_file() else log)
    levels, lut_levels, carry_levels = logic_levels(json.loads((work / "netlist.json").read_text()), inst["module"])
    result = SynthResult(**resources(cells), max_logic_levels=levels, lut_levels=lut_levels,
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
                    cache: Path | None = None) -> list[tuple[SynthResult, bool]]:
    """`synth_instance` for each instance, `jobs` at a time; instances with the same cache key are synthesised
    once (the others are reported as cached), the largest first (synth_work). Results in the order of
    `instances`."""
    rtl_dir = Path(rtl_dir).resolve()
    version = yosys_version()
    keys = [instance_key(rtl_dir, inst, family, version) for inst in instances]
    first = {key: i for i, key in reversed(list(enumerate(keys)))}
    order = sorted(first, key=lambda key: -synth_work(instances[first[key]]))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {key: pool.submit(synth_instance, rtl_dir, instances[first[key]], family, cache) for key in order}
        done = {key: f.result() for key, f in futures.items()}
    return [done[key] if first[key] == i else (done[key][0], True) for i, key in enumerate(keys)]
