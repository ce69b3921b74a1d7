"""Can the equivalence check prove a lane sum whose additions are associated differently from the logic formulation's
adder tree? The bit-plane (popcount) formulation of bench/rtl/lane_popcount.v against spikeflow_lane_sum's logic
formulation, one lane of SIMD elements (4-bit weights, 2-bit inputs), for growing SIMD, by two methods after the
same pipeline-shape check (spikeflow.backends.rtl.equivalence.combinational_cores):
  abc        the flow's proof (prove_elaborated: ABC iprove on a miter; stops at the first size it cannot decide);
  algebraic  spikeflow.backends.rtl.algebraic: the outputs as polynomials over the input bits; then ABC on the SWAR
             popcount of bench/rtl/popcount64.v against $countones (so that a popcount module can enter the
             algebraic check as the sum of its bits).

    python bench/reassociation_proof.py [--simd 2 4 8 16 64 288] [--method abc algebraic] [--timeout 120]
                                        [--out build/bench/reassociation]

A bit-plane formulation would need about a third of the SWAR formulation's instructions per element with a popcount
instruction, over 64 elements at a time; it is only usable if its equivalence can be proven at that size. Prints one
line per method and SIMD (verdict, seconds) and writes OUT/reassociation.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from spikeflow.backends.rtl import algebraic
from spikeflow.backends.rtl.equivalence import ELABORATION, combinational_cores, find_abc, prove_elaborated
from spikeflow.backends.rtl.synth import find_yosys

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [ROOT / "bench" / "rtl" / "lane_popcount.v", ROOT / "rtl" / "spikeflow_lane_sum.v",
           ROOT / "rtl" / "spikeflow_adder_tree.v"]


def check(simd: int, method: str, timeout_s: float, work: Path) -> dict[str, object]:
    latency = max((simd - 1).bit_length(), 1)
    acc_bits = 6 + latency + 1  # a 6-bit signed product, one bit per tree level, one spare
    work.mkdir(parents=True, exist_ok=True)
    log = work / "equivalence.log"
    log.write_text("")
    read = "read_verilog " + " ".join(str(s) for s in SOURCES)
    steps = [read, "design -save base"]
    for name in ("lane_logic", "lane_word"):
        steps += ["design -load base",
                  f"chparam -set SIMD {simd} -set ACC_BITS {acc_bits} -set LATENCY {latency} {name}",
                  f"hierarchy -check -top {name}", ELABORATION,
                  f"write_json {name}.json"]
    started = time.time()
    subprocess.run([str(find_yosys()), "-q", "-p", "; ".join(steps)], cwd=work, check=True, capture_output=True)
    if method == "abc":
        try:
            verdict, detail = prove_elaborated(work, latency, f"bit planes against the adder tree, SIMD={simd}", log,
                                               timeout_s)
        except TimeoutError as exc:
            verdict, detail = "undecided", str(exc)
    else:
        shape = combinational_cores(work, latency)
        if shape is not None:
            verdict, detail = "different", shape
        else:
            modules = [json.loads((work / f"{n}_comb.json").read_text())["modules"][n]
                       for n in ("lane_logic", "lane_word")]
            verdict, detail = algebraic.compare(*modules, "psum")
    return {"simd": simd, "method": method, "verdict": verdict, "detail": detail,
            "seconds": round(time.time() - started, 1), "timeout_s": timeout_s}


def check_popcount(timeout_s: float, work: Path) -> dict[str, object]:
    """ABC on the SWAR popcount of bench/rtl/popcount64.v against $countones: the step that would let a popcount
    module enter the algebraic check as the sum of its bits."""
    work.mkdir(parents=True, exist_ok=True)
    started = time.time()
    subprocess.run([str(find_yosys()), "-q", "-p", f"read_verilog -sv {ROOT / 'bench' / 'rtl' / 'popcount64.v'}; "
                    "prep; miter -equiv -flatten popcount64_swar popcount64_ref miter; hierarchy -top miter; "
                    "techmap; aigmap; write_aiger miter.aig"], cwd=work, check=True, capture_output=True)
    try:
        text = subprocess.run([str(find_abc()), "-c", "read_aiger miter.aig; strash; iprove"], cwd=work,
                              capture_output=True, text=True, timeout=timeout_s).stdout
        verdict = ("equivalent" if "UNSATISFIABLE" in text else "different" if "SATISFIABLE" in text
                   else "undecided")
    except subprocess.TimeoutExpired:
        verdict = "undecided"
    return {"simd": 64, "method": "abc: SWAR popcount against $countones", "verdict": verdict,
            "detail": "", "seconds": round(time.time() - started, 1), "timeout_s": timeout_s}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--simd", type=int, nargs="+", default=[2, 4, 8, 16, 64, 288])
    ap.add_argument("--method", nargs="+", choices=["abc", "algebraic"], default=["abc", "algebraic"])
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per check")
    ap.add_argument("--out", type=Path, default=Path("build/bench/reassociation"))
    args = ap.parse_args(argv)
    rows = []
    for method in args.method:
        for simd in args.simd:
            row = check(simd, method, args.timeout, args.out / f"{method}-simd{simd}")
            rows.append(row)
            print(f"{method:<9} SIMD={simd:<3} {row['verdict']:<11} {row['seconds']:6.1f} s  {row['detail']}",
                  flush=True)
            if method == "abc" and row["verdict"] == "undecided":
                break  # a larger SIMD only takes ABC longer
    if "algebraic" in args.method:
        row = check_popcount(args.timeout, args.out / "popcount64")
        rows.append(row)
        print(f"{row['method']}: {row['verdict']}, {row['seconds']:.1f} s", flush=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    (args.out / "reassociation.json").write_text(json.dumps({"rows": rows, "commit": commit,
                                                             "date": time.strftime("%Y-%m-%d %H:%M")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
