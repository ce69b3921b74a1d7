#!/usr/bin/env bash
# Run a command in the spikeflow toolchain image with this repository and the host's Xilinx tools mounted:
#   docker/run.sh make bitstream BOARD=zcu104        (default command: make test)
# Environment: SPIKEFLOW_IMAGE (default spikeflow-toolchain), XILINX_DIR (host folder mounted read-only at
# /tools/Xilinx, default /tools/Xilinx), XILINX_VERSION (passed on: which version the entrypoint sources),
# XRT_DIR (host folder mounted at /opt/xilinx for Alveo builds, default /opt/xilinx, when it exists),
# SPIKEFLOW_DOCKER_DRY_RUN=1 prints the docker command instead of running it.
set -euo pipefail

image=${SPIKEFLOW_IMAGE:-spikeflow-toolchain}
xilinx=${XILINX_DIR:-/tools/Xilinx}
xrt=${XRT_DIR:-/opt/xilinx}
repo=$(cd "$(dirname "$0")/.." && pwd)

args=(run --rm -v "$repo:/work/spikeflow" -w /work/spikeflow)
if [ -d "$xilinx" ]; then
    args+=(-v "$xilinx:/tools/Xilinx:ro")
else
    echo "docker/run.sh: note: $xilinx does not exist: Vivado and Vitis will be missing in the container" >&2
fi
if [ -d "$xrt" ]; then
    args+=(-v "$xrt:/opt/xilinx:ro")
fi
if [ -n "${XILINX_VERSION:-}" ]; then
    args+=(-e "XILINX_VERSION=$XILINX_VERSION")
fi
if [ -t 0 ] && [ -t 1 ]; then
    args+=(-it)
fi
args+=("$image")
if [ $# -eq 0 ]; then
    set -- make test
fi
args+=("$@")

if [ "${SPIKEFLOW_DOCKER_DRY_RUN:-}" = "1" ]; then
    printf '%q' docker
    printf ' %q' "${args[@]}"
    printf '\n'
    exit 0
fi
exec docker "${args[@]}"
