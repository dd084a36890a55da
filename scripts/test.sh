#!/usr/bin/env bash
# The test command of the README (and of CI): builds and runs every unit test. Needs only the
# system libraries (scripts/install.sh installs them) — the tests use the fixtures in
# data/fixtures and generated data, no download. The MPI tests launch `mpirun -np 2` themselves.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PKGS="libopenblas-dev liblapacke-dev libhdf5-dev hdf5-tools zlib1g-dev pkg-config libopenmpi-dev openmpi-bin"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
    echo "test: installing system packages:$missing"
    as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -q && as_root apt-get install -y -q --no-install-recommends $missing
fi
# h5py lets the tests check files against an independent reader; skipped (with a note) without it.
python3 -c "import h5py" 2>/dev/null || pip install -q h5py 2>/dev/null || echo "test: h5py unavailable; h5py interop tests will be skipped"
# Logs in a directory of this run's own (runs from several checkouts may share /tmp), kept
# for reading after a failure; LPOM_TEST_LOGS names another place.
LOGS="${LPOM_TEST_LOGS:-$(mktemp -d "${TMPDIR:-/tmp}/lpom-test-XXXXXX")}"
mkdir -p "$LOGS"
set +e
swift build --build-tests > "$LOGS/build.log" 2>&1
rc=$?
if [ $rc -ne 0 ]; then grep -E "error" "$LOGS/build.log" | head -n 40; tail -n 20 "$LOGS/build.log"; echo "test: logs in $LOGS"; exit $rc; fi
swift test --skip-build > "$LOGS/test.log" 2>&1
rc=$?
grep -E "error:|failed|skipped|Skipped" "$LOGS/test.log" | head -n 60
# XCTest's overall summary, then a plain closing line for CI.
summary=$(grep -E "Executed [0-9]+ tests?, with [0-9]+ failures?" "$LOGS/test.log" | tail -n 1)
echo "$summary"
total=$(echo "$summary" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')
failed=$(echo "$summary" | sed -E 's/.*with ([0-9]+) failures?.*/\1/')
if [ -n "$total" ] && [ -n "$failed" ]; then echo "tests: $((total - failed)) passed, $failed failed"; fi
# The Python companion (python/lpom_history) against the lpom just built: needs a Python with
# h5py (LPOM_PYTHON names one, e.g. a venv with PyTorch; without torch its PyTorch tests skip).
PY="${LPOM_PYTHON:-python3}"
if "$PY" -c "import h5py, numpy" 2>/dev/null; then
    LPOM_BIN="$ROOT/.build/debug/lpom" "$PY" -m unittest discover -s python/tests > "$LOGS/python.log" 2>&1
    prc=$?
    grep -E "^(FAIL|ERROR):|^Ran |^OK|^FAILED" "$LOGS/python.log"
    "$PY" -c "import torch" 2>/dev/null || echo "python: PyTorch not installed in $PY; the PyTorch comparisons were skipped (set LPOM_PYTHON)"
    [ $prc -ne 0 ] && rc=$prc
else
    echo "python: skipped ($PY has no h5py; set LPOM_PYTHON to a Python with h5py, numpy and optionally torch)"
fi
# The scripts' own tests (standard library only): the Table-1 sweep's bash on a stub lpom.
python3 -m unittest discover -s scripts/tests > "$LOGS/scripts.log" 2>&1
src=$?
grep -E "^(FAIL|ERROR):|^Ran |^OK|^FAILED" "$LOGS/scripts.log" | sed 's/^/scripts: /'
[ $src -ne 0 ] && rc=$src
echo "test: logs in $LOGS"
exit $rc
