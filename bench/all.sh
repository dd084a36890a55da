#!/usr/bin/env bash
# Every speed figure of the project in one go, each beside its peer run in the same rounds, with
# the ratios (the targets of issue 16 and notebooks-md/00-foundation.md):
#
#   mlp     SGD epoch of 784-300-100-10 vs PyTorch, 1 and 2 threads, and the snapshot
#           overhead at --snapshot-every 40                                   (bench/run.sh)
#   surf    surfing the paper's generator, 300 trials batched, vs PyTorch       (bench/surf_bench.sh)
#   gan     a generator step of the paper's DCGAN / WGAN-GP vs PyTorch          (bench/gan_bench.sh)
#   lpom    an LPOM epoch vs the NumPy peer doing the same algebra             (bench/lpom_bench.sh)
#   mpi     1 process vs mpirun -np 2                                          (bench/mpi_bench.sh)
#
#   LPOM_TORCH_PYTHON=/path/to/python bash bench/all.sh            # all but mpi, ROUNDS=3
#   PARTS="mlp surf" ROUNDS=5 LPOM_TORCH_PYTHON=… bash bench/all.sh
#
# PyTorch is found through LPOM_TORCH_PYTHON only (a Python with torch, numpy and h5py; install:
# bench/README.md). Run it on a quiet machine: two-thread figures need two free cores. The full
# output goes to runs/bench-all/all.log as well as the terminal; each part prints its medians,
# per-round ratios and the fraction of the machine's sgemm rate where it applies.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/torch_python.sh
PARTS=${PARTS:-"mlp surf gan lpom"}
export ROUNDS=${ROUNDS:-3}
OUT=${OUT:-runs/bench-all}
mkdir -p "$OUT"
LOG="$OUT/all.log"
[ -x .build/release/lpom ] || swift build -c release --product lpom >/dev/null
{
    echo "bench/all.sh — $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores"
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); ROUNDS=$ROUNDS; PyTorch: $("$LPOM_TORCH_PYTHON" -c 'import torch; print(torch.__version__)')"
} | tee "$LOG"
for part in $PARTS; do
    echo | tee -a "$LOG"
    echo "=== $part (load average $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$LOG"
    case $part in
        mlp)  bash bench/run.sh ;;
        surf) bash bench/surf_bench.sh ;;   # 1 and 2 threads (THREAD_LIST)
        gan)  bash bench/gan_bench.sh ;;
        lpom) LPOM_NUMPY_PYTHON=$LPOM_TORCH_PYTHON N=${LPOM_N:-60000} bash bench/lpom_bench.sh ;;
        mpi)  bash bench/mpi_bench.sh ;;
        *) echo "bench/all.sh: unknown part '$part' (mlp surf gan lpom mpi)" >&2; exit 2 ;;
    esac 2>&1 | tee -a "$LOG"
done
echo | tee -a "$LOG"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); full output in $LOG" | tee -a "$LOG"
