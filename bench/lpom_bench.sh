#!/usr/bin/env bash
# LPOM against its NumPy peer, measured fairly (issue 16): the peer does the same algebra
# (batch-space APG where lpom uses it, Cholesky solves, the same sweeps and stopping rules), starts
# from lpom's θ_0 in lpom's sample order, and runs on the same cores (one BLAS thread against
# `--threads 1`, two against `--threads 2`; CPU seconds beside wall seconds). ROUNDS interleaved
# rounds per network, medians and per-round ratios, GFLOP/s against the sgemm rate measured here,
# and the two-thread speed-up (bench/lpom_bench.py says what each column is).
# Usage: [ROUNDS=3] [N=60000] [LPOM_NUMPY_PYTHON=python] bash bench/lpom_bench.sh [data-dir]
#   The Python needs numpy and h5py (scipy for the peer's Cholesky solve, else NumPy's); by
#   default LPOM_NUMPY_PYTHON, else LPOM_TORCH_PYTHON, else python3.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DATA="${1:-data}"
PY="${LPOM_NUMPY_PYTHON:-${LPOM_TORCH_PYTHON:-python3}}"
L=.build/release/lpom
[ -x "$L" ] || swift build -c release --product lpom >/dev/null
"$PY" -c "import numpy, h5py" || { echo "lpom_bench: $PY lacks numpy or h5py (set LPOM_NUMPY_PYTHON)"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cc -O2 bench/sgemm_rate.c -o "$tmp/sgemm_rate" $(pkg-config --cflags --libs openblas) -lm
exec "$PY" bench/lpom_bench.py "$L" "$tmp/sgemm_rate" "$DATA" "$PY"
