#!/bin/sh
# Entrypoint of the spikeflow toolchain image: put the mounted Xilinx tools on PATH, then run the command.
# XILINX_VERSION picks a version under /tools/Xilinx (default: the newest there); XRT is used when mounted.
set -e
pick() { ls -d "$1"/*/ 2>/dev/null | sort -V | tail -n 1; }
for tool in Vivado Vitis; do
    if [ -n "${XILINX_VERSION:-}" ]; then dir="/tools/Xilinx/$tool/$XILINX_VERSION/"; else dir=$(pick "/tools/Xilinx/$tool"); fi
    if [ -n "$dir" ] && [ -f "${dir}settings64.sh" ]; then
        # shellcheck disable=SC1091
        . "${dir}settings64.sh"
    fi
done
if [ -f /opt/xilinx/xrt/setup.sh ]; then
    # shellcheck disable=SC1091
    . /opt/xilinx/xrt/setup.sh
fi
exec "$@"
