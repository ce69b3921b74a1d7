"""FINN side by side (issue 9): FINN's estimate-only dataflow build of the same QONNX model we compile, at the same
target FPS, clock and part, written to DIR/finn.json for the benchmark table.

    .venv-finn/bin/python bench/finn_peer.py MODEL.onnx --target-fps F --clock-mhz C --part PART --out DIR \
        [--workaround never|on-failure|always]

Runs in the FINN virtualenv (`make finn-venv`: finn-plus 1.6.1), never in the main one; `make finn` runs the
benchmark's rows. The steps are FINN's own estimate-only list (finn.builder.build_dataflow_config.
estimate_only_dataflow_steps): QONNX ingestion, tidy-up, streamlining, conversion to HW layers, bit-width
minimisation, dataflow partition, layer specialisation (HLS/RTL by FINN's default rules for the part; nothing is
synthesised), SetFolding at target_fps (synth_clk_period_ns = 1000 / clock), the folding-config step (no file: a
no-op), bit-width minimisation and the analytical estimate reports. FINN's defaults are kept otherwise (e.g.
mvau_wwidth_max 36, standalone_thresholds off). Vivado is not needed: finn-plus 1.6.1's builder imports
finn.xsi.SimEngine at import time, which raises without XILINX_VIVADO, so a stub is bound first (listed as a shim).

Each step is called one by one, as FINN's build_dataflow_cfg does, so that a failing step's exact exception and the
steps that succeeded are known (build_dataflow_cfg only logs it). DIR/finn.json:

    {"finn", "model", "target_fps", "clock_mhz", "part", "target_cycles_per_frame", "steps_done", "step_seconds",
     "cycles_per_frame" (FINN's max_cycles: the slowest layer, which sets throughput), "slowest_layer",
     "critical_path_cycles" (FINN's latency estimate), "estimated_fps", "meets_target_fps", "LUT", "BRAM_18K",
     "BRAM36" (= BRAM_18K / 2), "URAM", "DSP", "layers": {name: {"cycles", "LUT", "BRAM_18K", ...}},
     "outside_dataflow", "layers_without_estimates", "finn_warnings", "shims", "seconds"}

or, when a step fails, {"error": "Type: message", "error_type", "failed_step", "raised_at", "steps_done",
"traceback", ...}.
With --workaround on-failure a failed run is followed by one with the 0-d zero-points of the Conv-bias Quant nodes
reshaped to (1,) (see bias_quant_params_1d), under "with_workaround" with the same fields. The exit status is 0
whatever FINN does (a failure is data for the table), 2 for bad arguments, 130 on Ctrl-C. FINN's reports and
intermediate models stay in DIR/finn_output (DIR/finn_output_workaround), its log in DIR/finn_build.log; its build
scratch (FINN_BUILD_DIR, FINN_SETTINGS) is a temporary folder, removed at the end.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

FINN_LABEL = "finn-plus 1.6.1"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", type=Path, help="QONNX model (spikeflow build ... --to export writes model.onnx)")
    ap.add_argument("--target-fps", type=float, required=True, help="frames per second SetFolding aims for")
    ap.add_argument("--clock-mhz", type=float, required=True, help="clock (synth_clk_period_ns = 1000 / MHz)")
    ap.add_argument("--part", required=True, help="FPGA part, e.g. xczu7ev-ffvc1156-2-e")
    ap.add_argument("--out", type=Path, required=True, help="output folder: finn.json and finn_output/")
    ap.add_argument(
        "--workaround",
        choices=("never", "on-failure", "always"),
        default="never",
        help="reshape the 0-d scale/zero-point of the Quant nodes feeding Conv biases to shape (1,) before FINN "
        "(same values; qonnx 1.0.0's ExtractBiasFromConv only accepts (1,)). never (default): FINN on the file as "
        "is; on-failure: if that fails, a second run with the reshape goes to finn.json's with_workaround; always: "
        "the one run uses it (listed under workarounds)",
    )
    ap.add_argument("--keep-scratch", action="store_true", help="keep FINN_BUILD_DIR (printed) for debugging")
    args = ap.parse_args(argv)
    if args.target_fps <= 0 or args.clock_mhz <= 0:
        ap.error("--target-fps and --clock-mhz must be positive")
    if not args.model.is_file():
        ap.error(f"model not found: {args.model}")
    if not args.part.strip():
        ap.error("--part must not be empty")
    return args


def _number(value: Any) -> int | float | None:
    """FINN's reports hold ints, floats and numpy scalars; keep ints as ints."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return int(f) if f.is_integer() else f


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text()) if path.is_file() else None


def collect_estimates(report_dir: Path) -> dict[str, Any]:
    """FINN's estimate reports (estimate_network_performance.json, estimate_layer_cycles.json,
    estimate_layer_resources.json) as the fields of finn.json."""
    perf = _read_json(report_dir / "estimate_network_performance.json") or {}
    cycles = _read_json(report_dir / "estimate_layer_cycles.json") or {}
    resources = _read_json(report_dir / "estimate_layer_resources.json") or {}
    total = resources.get("total", {})
    out: dict[str, Any] = {
        # max_cycles: the slowest layer's cycles per frame, which sets the dataflow pipeline's throughput
        "cycles_per_frame": _number(perf.get("max_cycles")),
        "slowest_layer": perf.get("max_cycles_node_name"),
        # critical_path_cycles: FINN's latency estimate (sum along the longest path)
        "critical_path_cycles": _number(perf.get("critical_path_cycles")),
        "estimated_fps": _number(perf.get("estimated_throughput_fps")),
        "estimated_latency_ns": _number(perf.get("estimated_latency_ns")),
        "LUT": _number(total.get("LUT")),
        "BRAM_18K": _number(total.get("BRAM_18K")),
        "URAM": _number(total.get("URAM")),
    }
    bram18 = out["BRAM_18K"]
    out["BRAM36"] = None if bram18 is None else bram18 / 2
    if "DSP" in total:
        out["DSP"] = _number(total["DSP"])
    layers: dict[str, dict[str, Any]] = {}
    for name in list(cycles) + [n for n in resources if n != "total" and n not in cycles]:
        row: dict[str, Any] = {"cycles": _number(cycles.get(name))}
        for key, value in (resources.get(name) or {}).items():
            row[key] = _number(value)
        layers[name] = row
    out["layers"] = layers
    return out


def finn_env(scratch: Path) -> None:
    """FINN+ reads its settings from FINN_SETTINGS / FINN_BUILD_DIR; point both into the scratch folder so that
    nothing is written to ~/.finn or the working directory."""
    os.environ["FINN_BUILD_DIR"] = str(scratch / "finn_build")
    os.environ["FINN_SETTINGS"] = str(scratch / "settings.yaml")  # absent on purpose: FINN's defaults
    os.environ.setdefault("NUM_DEFAULT_WORKERS", "1")
    (scratch / "finn_build").mkdir(parents=True, exist_ok=True)


class _NoRtlsim:
    """Stands in for finn.xsi.SimEngine (Vivado's XSI RTL simulator), which FINN's builder module imports at import
    time only for a type annotation; the estimate steps never simulate."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("finn_peer: RTL simulation (finn.xsi.SimEngine) needs Vivado, which the estimates avoid")


def import_without_vivado() -> list[str]:
    """finn-plus 1.6.1's build_dataflow_steps does `from finn.xsi import SimEngine`, which without XILINX_VIVADO
    raises "OSError: XILINX_VIVADO environment variable not set". Bind a stub first when Vivado is absent; returns
    the shims applied (recorded in finn.json)."""
    if os.environ.get("XILINX_VIVADO"):
        return []
    import finn.xsi

    finn.xsi.SimEngine = _NoRtlsim
    return ["finn.xsi.SimEngine stubbed (no Vivado: estimates only)"]


def bias_quant_params_1d(model: Any) -> int:
    """Reshape the 0-d scale / zero-point initializers of Quant nodes that produce a Conv bias to shape (1,).

    Brevitas exports a scalar zero-point as a 0-d tensor; qonnx 1.0.0's ExtractBiasFromConv (run by FINN's
    ConvertQONNXtoFINN) only leaves shape (1,) alone and tries to reshape anything else to (1, C, 1, 1), which fails
    with "ValueError: cannot reshape array of size 1 into shape (1,C,1,1)". Same values, same broadcast result.
    Returns how many initializers were reshaped."""
    bias_inputs = {n.input[2] for n in model.graph.node if n.op_type in ("Conv", "ConvTranspose") and len(n.input) > 2}
    n = 0
    for node in model.graph.node:
        if node.op_type not in ("Quant", "IntQuant") or node.output[0] not in bias_inputs:
            continue
        for name in node.input[1:3]:  # scale, zero-point (the bit width must stay 0-d: int() is taken of it)
            value = model.get_initializer(name)
            if value is not None and value.ndim == 0:
                model.set_initializer(name, value.reshape(1))
                n += 1
    return n


class _WarningLog(logging.Handler):
    """Keeps FINN's warnings of one run (SetFolding's "did not meet the target cycles", unmapped nodes, ...)."""

    def __init__(self, limit: int = 60) -> None:
        super().__init__(level=logging.WARNING)
        self.limit = limit
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = " ".join(record.getMessage().split())
        if record.name != "py.warnings" and len(self.lines) < self.limit and text not in self.lines:
            self.lines.append(text)


def run_finn(args: argparse.Namespace, finn_out: Path, workaround: bool) -> dict[str, Any]:
    """FINN's estimate-only steps on args.model, one at a time, reports under finn_out. Returns the run's fields of
    finn.json: steps_done and step_seconds, then the estimates or the failure (error, failed_step, traceback)."""
    if finn_out.exists():
        shutil.rmtree(finn_out)
    result: dict[str, Any] = {"steps_done": [], "step_seconds": {}}
    steps_done: list[str] = result["steps_done"]
    seconds: dict[str, float] = result["step_seconds"]
    warnings_log = _WarningLog()
    logging.getLogger().addHandler(warnings_log)
    step = "import finn"
    t_run = time.perf_counter()
    try:
        result["shims"] = import_without_vivado()
        from finn.builder.build_dataflow_config import (
            DataflowBuildConfig,
            DataflowOutputType,
            estimate_only_dataflow_steps,
        )
        from finn.builder.build_dataflow_steps import build_dataflow_step_lookup
        from qonnx.core.modelwrapper import ModelWrapper

        steps_done.append(step)
        step = "DataflowBuildConfig"
        cfg = DataflowBuildConfig(
            output_dir=str(finn_out),
            synth_clk_period_ns=1000.0 / args.clock_mhz,
            target_fps=int(round(args.target_fps)),
            fpga_part=args.part,
            generate_outputs=[DataflowOutputType.ESTIMATE_REPORTS],
            steps=list(estimate_only_dataflow_steps),
            save_intermediate_models=True,
        )
        result["target_cycles_per_frame"] = cfg._resolve_cycles_per_frame()
        step = "load model"
        model = ModelWrapper(str(args.model))
        steps_done.append(step)
        if workaround:
            step = "bias_quant_params_1d (workaround)"
            count = bias_quant_params_1d(model)
            result["workarounds"] = [
                f"{count} 0-d scale/zero-point initializers of Conv-bias Quant nodes reshaped to (1,) (same values)"
            ]
            steps_done.append(step)
        inter = cfg.get_intermediate_models_directory()
        for name in estimate_only_dataflow_steps:
            step = name
            print(f"finn_peer: {name}", flush=True)
            t0 = time.perf_counter()
            if name == "step_create_dataflow_partition":
                result["outside_dataflow"] = [
                    f"{n.name} ({n.op_type})"
                    for n in model.graph.node
                    if not n.domain.startswith("finn.custom_op.fpgadataflow")
                ]
            model = build_dataflow_step_lookup[name](model, cfg)
            seconds[name] = round(time.perf_counter() - t0, 1)
            model.save(str(inter / f"{name}.onnx"))
            steps_done.append(name)
        step = "collect estimates"
        estimates = collect_estimates(cfg.get_report_directory())
        estimates["layers_without_estimates"] = [
            f"{n.name} ({n.op_type})" for n in model.graph.node if n.name not in estimates["layers"]
        ]
        fps = estimates.get("estimated_fps")
        estimates["meets_target_fps"] = None if fps is None else fps >= args.target_fps
        result.update(estimates)
        result["report_dir"] = str(cfg.get_report_directory())
    except BaseException as exc:  # noqa: B036 - every failure (even SystemExit from deep inside FINN) is data
        result["error"] = f"{type(exc).__name__}: {exc}"
        result["error_type"] = f"{type(exc).__module__}.{type(exc).__qualname__}"
        result["failed_step"] = step
        frames = traceback.extract_tb(exc.__traceback__)
        if frames:  # the innermost frame: which FINN/qonnx transformation raised
            last = frames[-1]
            result["raised_at"] = f"{last.filename}:{last.lineno} in {last.name}"
        result["traceback"] = traceback.format_exc().splitlines()[-30:]
        if isinstance(exc, KeyboardInterrupt):
            raise
    finally:
        logging.getLogger().removeHandler(warnings_log)
        result["finn_warnings"] = warnings_log.lines
        result["seconds"] = round(time.perf_counter() - t_run, 1)
    return result


def summary(result: dict[str, Any]) -> str:
    if "error" in result:
        return f"failed at {result['failed_step']}: {result['error']}"
    return (
        f"cycles/frame {result['cycles_per_frame']} (est. {result['estimated_fps']:.0f} FPS), LUT {result['LUT']}, "
        f"BRAM36 {result['BRAM36']}, DSP {result.get('DSP')} ({result['seconds']} s)"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "finn": FINN_LABEL,
        "model": str(args.model),
        "target_fps": _number(args.target_fps),
        "clock_mhz": _number(args.clock_mhz),
        "part": args.part,
        "steps_done": [],
    }
    scratch = Path(tempfile.mkdtemp(prefix="finn-peer-"))
    interrupted = False
    try:
        import importlib.metadata as md

        result["finn"] = f"finn-plus {md.version('finn-plus')}"
        finn_env(scratch)
        logging.basicConfig(level=logging.INFO, filename=str(out / "finn_build.log"), filemode="w", force=True)
        logging.captureWarnings(True)
        result.update(run_finn(args, out / "finn_output", workaround=args.workaround == "always"))
        if "error" in result and args.workaround == "on-failure":
            print(f"finn_peer: {summary(result)}; retrying with the workaround", flush=True)
            result["with_workaround"] = run_finn(args, out / "finn_output_workaround", workaround=True)
    except KeyboardInterrupt:
        interrupted = True
    except BaseException as exc:  # noqa: B036 - finn.json is written whatever happens
        result.setdefault("error", f"{type(exc).__name__}: {exc}")
        result.setdefault("failed_step", "setup")
        result.setdefault("traceback", traceback.format_exc().splitlines()[-30:])
    finally:
        if interrupted:
            result.setdefault("error", "KeyboardInterrupt")
        (out / "finn.json").write_text(json.dumps(result, indent=2) + "\n")
        if args.keep_scratch:
            print(f"finn_peer: FINN_BUILD_DIR kept at {scratch / 'finn_build'}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    print(f"finn_peer: {result['finn']}: {summary(result)}")
    if "with_workaround" in result:
        print(f"finn_peer: with the workaround: {summary(result['with_workaround'])}")
    print(f"finn_peer: wrote {out / 'finn.json'}")
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
