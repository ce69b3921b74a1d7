"""Synthesise one layer of a generated top out of context with Yosys and report resources and logic depth.

    python bench/layer_synth.py build/tiny/rtl Conv_0 Conv_1 [--lib rtl] [--set USE_DSP=1] [--json out.json]

For each named layer, reads the neuron/head instance's parameters from `<rtl>/spikeflow_top.v`, then runs
Yosys from `<rtl>` (where the ROM images are):

    read_verilog -defer <lib>/spikeflow_*.v; chparam -set ... <module>;
    synth_xilinx -family xcup -flatten -top <module>; stat; write_json

`--lib` is the library to measure (default: this checkout's `rtl/`, not the copy in `<rtl>/lib`). The table
gives LUT, FF, CARRY, DSP, BRAM (RAMB36E2 + RAMB18E2/2), LUTRAM/SRL, lanes (PE*SIMD), LUTs per lane and the
logic depth between sequential cells, measured on the mapped netlist (see `logic_depth`). A run whose log has
no statistics is an error.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODULES = ("spikeflow_neuron", "spikeflow_head")

# Cells that start and end paths (their outputs come from a register, their inputs go to one).
SEQ_PREFIXES = ("FD", "LD", "SRL", "RAMB", "URAM", "FIFO")
CARRY = ("CARRY4", "CARRY8")
LUTRAM_PREFIXES = ("RAM32", "RAM64", "RAM128", "RAM256")
DSP_REGS = ("AREG", "BREG", "CREG", "MREG", "PREG", "ADREG", "DREG")


def layer_params(top: Path, layer: str) -> tuple[str, dict[str, str]]:
    """(module, {param: value}) of instance u_<layer> in a generated top; ROM images become bare file names."""
    lines = top.read_text().splitlines()
    end = next((i for i, line in enumerate(lines) if line.startswith(f") u_{layer} (")), None)
    start = None if end is None else max(i for i in range(end) if re.match(r"spikeflow_\w+ #\($", lines[i]))
    module = "" if start is None else lines[start].split()[0]
    if module not in MODULES:
        raise SystemExit(f"{top}: no neuron/head instance u_{layer}")
    body = "\n".join(lines[start + 1:end])
    params = {}
    for key, value in re.findall(r"\.(\w+)\((.*?)\),?\s*$", body, re.M):
        file_ = re.search(r'"([^"]+\.mem)"', value)
        params[key] = f'"{file_.group(1)}"' if file_ else value
    return module, params


def run_yosys(rtl: Path, lib: Path, module: str, params: dict[str, str], workdir: Path,
              yosys: str = "yosys") -> tuple[dict[str, int], Path, float]:
    """Synthesise `module` with `params` from folder `rtl`; return ({cell type: count}, netlist json, seconds)."""
    sources = " ".join(str(p) for p in sorted(lib.glob("spikeflow_*.v")))
    netlist = workdir / f"{module}.json"
    chparams = "\n".join(f"chparam -set {k} {v} {module}" for k, v in params.items())
    script = (f"read_verilog -defer {sources}\n{chparams}\n"
              f"synth_xilinx -family xcup -flatten -top {module}\nstat\nwrite_json {netlist}\n")
    (workdir / "synth.ys").write_text(script)
    t0 = time.time()
    proc = subprocess.run([yosys, "-q", "-l", str(workdir / "yosys.log"), "-s", str(workdir / "synth.ys")],
                          cwd=rtl, capture_output=True, text=True)
    seconds = time.time() - t0
    log = (workdir / "yosys.log").read_text() if (workdir / "yosys.log").is_file() else ""
    if proc.returncode != 0:
        raise SystemExit(f"yosys failed ({proc.returncode}):\n{proc.stderr[-3000:]}\n{log[-3000:]}")
    stats = log.rsplit("Printing statistics.", 1)
    if len(stats) < 2 or "Number of cells" not in stats[1]:
        raise SystemExit(f"yosys printed no statistics (log {workdir / 'yosys.log'})")
    cells = {t: int(n) for t, n in re.findall(r"^\s+(\w+)\s+(\d+)\s*$", stats[1], re.M)}
    return cells, netlist, seconds


def summarise(cells: dict[str, int]) -> dict[str, float]:
    def total(pred) -> int:
        return sum(n for t, n in cells.items() if pred(t))
    return {
        "LUT": total(lambda t: re.fullmatch(r"LUT[1-6]", t) is not None),
        "FF": total(lambda t: t.startswith("FD")),
        "CARRY": total(lambda t: t in CARRY),
        "MUXF": total(lambda t: t.startswith("MUXF")),
        "DSP": total(lambda t: t.startswith("DSP")),
        "BRAM36": total(lambda t: t == "RAMB36E2") + total(lambda t: t == "RAMB18E2") / 2,
        "URAM": total(lambda t: t.startswith("URAM")),
        "LUTRAM": total(lambda t: t.startswith(LUTRAM_PREFIXES)),
        "SRL": total(lambda t: t.startswith("SRL")),
    }


def _param_int(value: object) -> int:
    """A cell parameter of Yosys' JSON (an int, or a string of binary digits)."""
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text, 2) if text and set(text) <= {"0", "1"} else 0


def logic_depth(netlist: Path, module: str) -> dict[str, object]:
    """Deepest combinational path of the mapped netlist, counted in cells.

    Paths start at a module input or a sequential cell's output (FD*, SRL*, RAMB*, URAM*, and DSP48E2 whose
    M/P registers are used) and end at a module output or a sequential cell's input (D, CE, R and address
    pins alike). Along a path: `lut` counts LUT1..LUT6, MUXF7/8/9 and LUTRAM read ports (each a level);
    `carry` counts carry chains entered (CARRY4/8 reached through a non-carry-in pin; CO -> CI inside a chain
    is free); `dsp` counts combinational DSP48E2. The maxima are taken over all paths separately (so each is
    an upper bound for every path); `reg2reg` excludes paths from or to module ports. Block RAMs are listed
    with whether their output register (DOA_REG/DOB_REG, or a fabric register right after) is used.
    """
    data = json.loads(netlist.read_text())
    mod = data["modules"][module]
    cells = mod["cells"]
    driver: dict[int, str] = {}
    readers: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for name, c in cells.items():
        for port, bits in c["connections"].items():
            for b in bits:
                if not isinstance(b, int):
                    continue
                if c["port_directions"].get(port) == "output":
                    driver[b] = name
                else:
                    readers[b].append((name, port))
    port_out_bits = {b for p in mod["ports"].values() if p["direction"] == "output"
                     for b in p["bits"] if isinstance(b, int)}

    def kind(name: str) -> str:
        c = cells[name]
        t = c["type"]
        if t.startswith("DSP"):
            p = c.get("parameters", {})
            return "seq" if any(_param_int(p.get(r, 0)) for r in ("MREG", "PREG")) else "dsp"
        if t.startswith(SEQ_PREFIXES):
            return "seq"
        if t in CARRY:
            return "carry"
        if t.startswith(LUTRAM_PREFIXES) or t.startswith("LUT") or t.startswith("MUXF"):
            return "lut"
        if t in ("BUFG", "IBUF", "OBUF", "INV", "VCC", "GND"):
            return "wire"
        return "lut"

    kinds = {n: kind(n) for n in cells}
    # arrival[cell] = (max lut levels, max carry chains, max dsp) at the cell's output, from any start /
    # from register starts only
    memo: dict[str, tuple[tuple[int, int, int], tuple[int, int, int] | None]] = {}
    sys.setrecursionlimit(100000)

    def arrival(name: str) -> tuple[tuple[int, int, int], tuple[int, int, int] | None]:
        if name in memo:
            return memo[name]
        memo[name] = ((0, 0, 0), None)  # guard against combinational loops
        k = kinds[name]
        c = cells[name]
        best_any, best_reg = (0, 0, 0), None
        for port, bits in c["connections"].items():
            if c["port_directions"].get(port) == "output":
                continue
            for b in bits:
                if not isinstance(b, int):
                    continue
                src = driver.get(b)
                if src is None:
                    a_any, a_reg = (0, 0, 0), None  # module input (or undriven)
                elif kinds[src] == "seq":
                    a_any, a_reg = (0, 0, 0), (0, 0, 0)
                else:
                    a_any, a_reg = arrival(src)
                    if k == "carry" and kinds[src] == "carry" and port == "CI":
                        a_any = (a_any[0], a_any[1] - 1, a_any[2])  # same chain
                        a_reg = None if a_reg is None else (a_reg[0], a_reg[1] - 1, a_reg[2])
                best_any = tuple(max(x, y) for x, y in zip(best_any, a_any))
                if a_reg is not None:
                    best_reg = a_reg if best_reg is None else tuple(max(x, y) for x, y in zip(best_reg, a_reg))
        add = {"lut": (1, 0, 0), "carry": (0, 1, 0), "dsp": (0, 0, 1), "wire": (0, 0, 0)}[k]
        res_any = tuple(x + y for x, y in zip(best_any, add))
        res_reg = None if best_reg is None else tuple(x + y for x, y in zip(best_reg, add))
        memo[name] = (res_any, res_reg)
        return memo[name]

    worst_any, worst_reg = [0, 0, 0], [0, 0, 0]
    for name, c in cells.items():
        if kinds[name] != "seq":
            continue
        for port, bits in c["connections"].items():
            if c["port_directions"].get(port) == "output" or port in ("C", "CLK", "CLKARDCLK", "CLKBWRCLK"):
                continue
            for b in bits:
                if not isinstance(b, int) or b not in driver or kinds[driver[b]] == "seq":
                    continue
                a_any, a_reg = arrival(driver[b])
                worst_any = [max(x, y) for x, y in zip(worst_any, a_any)]
                if a_reg is not None:
                    worst_reg = [max(x, y) for x, y in zip(worst_reg, a_reg)]
    for b in port_out_bits:
        if b in driver and kinds[driver[b]] != "seq":
            worst_any = [max(x, y) for x, y in zip(worst_any, arrival(driver[b])[0])]
    # block RAM output registers: internal (DO*_REG) or every DOUT bit read only by a fabric FF's D pin
    brams = []
    for c in cells.values():
        if not c["type"].startswith("RAMB"):
            continue
        p = c.get("parameters", {})
        internal = any(_param_int(p.get(r, 0)) for r in ("DOA_REG", "DOB_REG"))
        outs = [b for port, bits in c["connections"].items() if c["port_directions"].get(port) == "output"
                and port.startswith(("DOUT", "DO")) and not port.startswith(("DOUTP", "DOP"))
                for b in bits if isinstance(b, int)]
        used = [b for b in outs if readers.get(b)]
        fabric = bool(used) and all(kinds[r] == "seq" and cells[r]["type"].startswith("FD") and p_ == "D"
                                    for b in used for r, p_ in readers[b])
        brams.append(internal or fabric)
    # fanout of signal nets (not the clock, not constants from VCC/GND cells) and of the nets on CE pins
    clk = {b for b in mod["ports"].get("clk", {}).get("bits", []) if isinstance(b, int)}
    const = {b for b, d in driver.items() if cells[d]["type"] in ("VCC", "GND", "BUFG")}  # and the clock buffer
    signal = {b: v for b, v in readers.items() if b not in clk and b not in const}
    fanout = max((len(v) for v in signal.values()), default=0)
    ce_fanout = max((sum(1 for _, p_ in v if p_ == "CE") for v in signal.values()), default=0)
    return {"lut": worst_reg[0], "carry": worst_reg[1], "dsp": worst_reg[2],
            "lut_ports": worst_any[0], "carry_ports": worst_any[1], "dsp_ports": worst_any[2],
            "bram_out_registered": f"{sum(brams)}/{len(brams)}", "max_fanout": fanout, "max_ce_fanout": ce_fanout}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rtl", type=Path, help="generated RTL folder (spikeflow_top.v and the .mem images)")
    ap.add_argument("layers", nargs="+", help="layer names (instances u_<name>)")
    ap.add_argument("--lib", type=Path, default=REPO / "rtl", help="RTL library to measure")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="extra parameter to set on the module (e.g. USE_DSP=1)")
    ap.add_argument("--yosys", default="yosys")
    ap.add_argument("--keep", type=Path, help="keep Yosys scripts, logs and netlists under this folder")
    ap.add_argument("--json", type=Path, help="append the rows as JSON lines to this file")
    args = ap.parse_args(argv)
    rtl, lib = args.rtl.resolve(), args.lib.resolve()
    cols = ("LUT", "FF", "CARRY", "MUXF", "DSP", "BRAM36", "LUTRAM", "SRL")
    print(f"{'layer':10} {'lanes':>5} " + " ".join(f"{c:>7}" for c in cols)
          + f" {'LUT/lane':>8}  depth reg->reg (lut/carry/dsp)  with ports  BRAM out reg  fanout (CE)  time")
    for layer in args.layers:
        module, params = layer_params(rtl / "spikeflow_top.v", layer)
        for kv in args.set:
            k, _, v = kv.partition("=")
            params[k] = v
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            if args.keep:
                work = args.keep.resolve() / layer
                work.mkdir(parents=True, exist_ok=True)
            cells, netlist, seconds = run_yosys(rtl, lib, module, params, work, args.yosys)
            s = summarise(cells)
            d = logic_depth(netlist, module)
        lanes = int(params["PE"]) * int(params["SIMD"])
        row = dict(layer=layer, rtl=str(args.rtl), module=module, lanes=lanes, **s,
                   lut_per_lane=round(s["LUT"] / lanes, 1), depth=d, cells=cells, seconds=round(seconds),
                   set=args.set)
        print(f"{layer:10} {lanes:>5} " + " ".join(f"{s[c]:>7g}" for c in cols)
              + f" {row['lut_per_lane']:>8}  {d['lut']:>3} / {d['carry']} / {d['dsp']}"
              f"{'':>20}{d['lut_ports']:>3} / {d['carry_ports']} / {d['dsp_ports']}"
              f"  {d['bram_out_registered']:>8}  {d['max_fanout']:>6} ({d['max_ce_fanout']})  {seconds:.0f} s",
              flush=True)
        if args.json:
            with args.json.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
