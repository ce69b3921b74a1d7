#!/usr/bin/env bash
# Run the deploy folder in an ARM Debian userland under qemu-user, as a stand-in for the board.
#
#   sudo bench/board_userland.sh [arm64|armhf]      (default arm64; from the checkout's root)
#
# Needs root (chroot), `apt-get install qemu-user-static mmdebstrap` and the host's Debian apt sources
# (/etc/apt/sources.list.d/debian.sources, the host's suite). No binfmt_misc needed: every guest
# command goes through qemu-<cpu>-static explicitly. Not part of `make test`.
#
# It extracts (mmdebstrap --variant=extract, no maintainer scripts) python3, python3-numpy (< 2),
# python3-pil and python3-pip into $ARMROOT/<arch> (default /tmp/armroot, kept between runs), copies
# build/demo/deploy in (built if missing), then in the guest: prints numpy/python/machine, runs
# `run.py --help`, the replay run on sample_frames.npy (its detections must equal the host's, byte for byte,
# else exit 1), `--throughput 300 --batch 32`, and installs the runtime wheel (built on the host from a copy
# of runtime/) with the guest's pip and reruns the replay through `spikeflow-run` (must be identical too).
set -euo pipefail

ARCH=${1:-arm64}
case $ARCH in
  arm64) CPU=aarch64; TRIPLET=aarch64-linux-gnu ;;
  armhf) CPU=arm; TRIPLET=arm-linux-gnueabihf ;;
  *) echo "usage: $0 [arm64|armhf]" >&2; exit 2 ;;
esac
REPO=$(pwd)
DEPLOY=$REPO/build/demo/deploy
WORK=${ARMROOT:-/tmp/armroot}
R=$WORK/$ARCH
HOST_PY=${HOST_PY:-python3}
SOURCES=${SOURCES:-/etc/apt/sources.list.d/debian.sources}
. /etc/os-release
SUITE=${SUITE:-$VERSION_CODENAME}

if [ ! -e "$R/.done" ]; then
  rm -rf "$R"
  mmdebstrap --variant=extract --architectures="$ARCH" \
    --include=python3,python3-numpy,python3-pil,python3-pip "$SUITE" "$R" "$SOURCES"
  # what update-alternatives would do for libblas3 / liblapack3
  ln -sf blas/libblas.so.3 "$R/usr/lib/$TRIPLET/libblas.so.3"
  ln -sf lapack/liblapack.so.3 "$R/usr/lib/$TRIPLET/liblapack.so.3"
  cp "/usr/bin/qemu-$CPU-static" "$R/usr/bin/"
  touch "$R/.done"
fi
guest() { env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root "$(command -v chroot)" "$R" "/usr/bin/qemu-$CPU-static" "$@"; }

[ -d "$DEPLOY" ] || .venv/bin/spikeflow build build/demo --config model/builds/demo.yaml --from deploy --to deploy
mkdir -p "$R/opt" "$R/tmp"
rm -rf "$R/opt/deploy" "$R/tmp/annotated"
cp -r "$DEPLOY" "$R/opt/deploy"
(cd "$DEPLOY" && "$HOST_PY" run.py --backend replay --source sample_frames.npy --out "$WORK/host.jsonl" --no-progress)

cd "$WORK"  # exists in the guest too
echo "== $SUITE $ARCH guest: numpy, python, machine"
guest /usr/bin/python3 -c "import numpy, sys, platform; print(numpy.__version__, sys.version, platform.machine())"
echo "== run.py --help"
guest /usr/bin/python3 /opt/deploy/run.py --help | head -3
echo "== replay on sample_frames.npy (annotated images through Pillow)"
time guest /usr/bin/python3 /opt/deploy/run.py --backend replay --source /opt/deploy/sample_frames.npy \
  --out /tmp/guest.jsonl --save-images /tmp/annotated --no-progress
echo "annotated images: $(ls "$R/tmp/annotated" | wc -l)"
status=0
cmp "$R/tmp/guest.jsonl" "$WORK/host.jsonl" && echo "detections IDENTICAL to the host's" || status=1
echo "== --throughput 300 --batch 32"
time guest /usr/bin/python3 /opt/deploy/run.py --backend replay --throughput 300 --batch 32 --no-progress

echo "== the runtime wheel through the guest's pip"
# pip cannot run the build backend in the guest without binfmt_misc (its subprocess fails with ENOEXEC),
# so the pure-Python wheel is built on the host from a copy (nothing is written in the checkout)
rm -rf "$WORK/src" "$WORK/wheel" && mkdir "$WORK/src"
tar -C "$REPO/runtime" --exclude='*.egg-info' --exclude=__pycache__ --exclude=build -cf - . | tar -xf - -C "$WORK/src"
"$REPO/.venv/bin/python" -m pip wheel -q --no-deps --no-build-isolation "$WORK/src" -w "$WORK/wheel"
WHL=$(basename "$WORK"/wheel/*.whl)
cp "$WORK/wheel/$WHL" "$R/opt/"
guest /usr/bin/python3 -m pip install -q --no-deps --no-index --force-reinstall --break-system-packages \
  --root-user-action=ignore "/opt/$WHL"
guest /usr/bin/python3 /usr/local/bin/spikeflow-run --folder /opt/deploy --backend replay \
  --source /opt/deploy/sample_frames.npy --out /tmp/pip.jsonl --no-progress
cmp "$R/tmp/pip.jsonl" "$WORK/host.jsonl" && echo "installed runtime: detections IDENTICAL" || status=1
[ $status = 0 ] || echo "MISMATCH between the guest's and the host's detections" >&2
exit $status
