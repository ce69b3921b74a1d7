# spikeflow: `make demo` runs the main job on the built-in default, `make test` runs the test suite.
# Both create or refresh .venv with pinned packages first; nothing else needs to be done by hand.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.spikeflow-installed
PYTEST_ARGS ?=

.PHONY: setup demo sim hls test test-fast lint bench clean

setup: $(STAMP)

# torch is pinned and installed first: an unpinned torch would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml requirements.txt Makefile
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "spikeflow needs Python 3.11"' \
		|| { echo "error: Python 3.11 is required (found $$($(PYTHON) --version))"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

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

# tclsh runs the Vitis HLS scripts against a stub in the tests.
test: setup
	@command -v tclsh >/dev/null || apt-get install -y tcl
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

test-fast: setup
	@command -v tclsh >/dev/null || apt-get install -y tcl
	$(BIN)/python -m pytest -q -m "not slow" $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check spikeflow tests bench sim

# The 256x256 default model: build/default from the shipped checkpoint, then the speed benchmarks.
bench: setup
	test -f build/default/ir/network.json || $(BIN)/spikeflow build build/default --config model/builds/default.yaml
	$(BIN)/python bench/golden_speed.py --ir build/default/ir
	$(BIN)/python bench/speedup.py --checkpoint model/default.pt --build build/default --frames 32 --batch 16

clean:
	rm -rf build .pytest_cache
