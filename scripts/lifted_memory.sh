#!/usr/bin/env bash
# notebooks-md/05: seconds per epoch and peak memory of every method on one network, each run in
# its own process (peak resident memory of the process, `peak_memory_mb` of `lpom train --json`).
# SGD and LPOM take mini-batches of 100; the lifted methods one full-batch iteration per epoch.
#
#   bash scripts/lifted_memory.sh [layers] [epochs]   (defaults 300,100 and 2)
#
# Validation split as in scripts/lifted_experiments.sh (training on 50,000 images), seed 101,
# one BLAS thread, diagnostics off (LPOM's and the lifted methods'). Resumable; JSON results in
# notebooks-md/05-results/memory-*.json.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
L=${LPOM:-.build/release/lpom}
DATA=${DATA:-data}
RUNS=${RUNS:-runs/lifted}
OUT=notebooks-md/05-results
NET=${1:-300,100}
EPOCHS=${2:-2}
mkdir -p "$RUNS" "$OUT"
export OPENBLAS_NUM_THREADS=1
for m in sgd lpom admm bcd penalty askari; do
    name="memory-$m-${NET//,/-}"
    if [ -s "$OUT/$name.json" ]; then echo "skip $name"; continue; fi
    extra=""
    case $m in
        lpom) extra="--no-lpom-diagnostics" ;;
        admm|bcd|penalty|askari) extra="--no-lifted-diagnostics" ;;
    esac
    echo "run  $name"
    # shellcheck disable=SC2086
    $L train --method $m --layers "$NET" --epochs "$EPOCHS" --seed 101 $extra --dataset mnist --data-dir "$DATA" \
        --validation 10000 --threads 1 --snapshot-every 0 --history "$RUNS/$name.h5" --overwrite --quiet --json \
        > "$OUT/$name.json.tmp" && mv "$OUT/$name.json.tmp" "$OUT/$name.json"
done
