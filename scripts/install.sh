#!/usr/bin/env bash
# One command for a fresh Debian machine: system libraries, data, a release build linked onto PATH
# as `lpom`, and a default training run that prints its test accuracy.
#   bash scripts/install.sh            # everything, then the default run
#   LPOM_SKIP_RUN=1 bash scripts/install.sh   # everything but the run
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { echo "install: $*"; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
PKGS="libopenblas-dev liblapacke-dev libhdf5-dev hdf5-tools zlib1g-dev pkg-config libopenmpi-dev openmpi-bin dataset-fashion-mnist"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
    say "installing system packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -q
    as_root apt-get install -y -q --no-install-recommends $missing
else
    say "system packages present"
fi

bash data/setup.sh

say "release build"
swift build -c release --product lpom 2>&1 | tail -n 3

# Put lpom on PATH: a link to the release binary in /usr/local/bin when writable (root), else in
# ~/.local/bin; LPOM_BIN_DIR names another directory.
BIN_DIR="${LPOM_BIN_DIR:-}"
if [ -z "$BIN_DIR" ]; then
    if [ -w /usr/local/bin ]; then BIN_DIR=/usr/local/bin; else BIN_DIR="$HOME/.local/bin"; fi
fi
mkdir -p "$BIN_DIR"
ln -sf "$ROOT/.build/release/lpom" "$BIN_DIR/lpom"
case ":$PATH:" in
    *":$BIN_DIR:"*) say "lpom is on PATH: $BIN_DIR/lpom -> .build/release/lpom (try: lpom --help)" ;;
    *) say "linked $BIN_DIR/lpom -> .build/release/lpom; $BIN_DIR is not on PATH: add  export PATH=\"$BIN_DIR:\$PATH\"  to your shell profile" ;;
esac

if [ "${LPOM_SKIP_RUN:-0}" != "1" ]; then
    say "default run: 784-300-100-10 ReLU MLP, SGD with momentum, 10 epochs on MNIST"
    "$BIN_DIR/lpom" train --method sgd --dataset mnist --layers 300,100 --epochs 10 \
        --history runs/default-sgd-mnist.h5 --overwrite --plot runs/default-sgd-mnist.svg
    "$BIN_DIR/lpom" inspect runs/default-sgd-mnist.h5 | head -n 4
fi
