#!/usr/bin/env bash
# LPOM vs SGD vs a plain NumPy LPOM, in one go: seconds per MNIST epoch and peak memory (max
# RSS from /usr/bin/time) on 784-300-100-10 and 784-400-200-100-50-10, every LPOM option at its
# default, one BLAS thread for every program (the matrices are small; see notes/lpom-experiments.md §6).
# Usage: bash bench/lpom_bench.sh [train-limit]   (default 60000 = a full epoch)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
L=.build/release/lpom
N="${1:-60000}"
[ -x "$L" ] || swift build -c release --product lpom >/dev/null
export OPENBLAS_NUM_THREADS=1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf "%-28s %12s %10s\n" "run" "s/epoch" "peak MB"
for layers in 300,100 400,200,100,50; do
    for method in sgd lpom; do
        extra=""; [ $method = lpom ] && extra="--no-lpom-diagnostics"   # the NumPy peer computes no diagnostics
        rss=$( { /usr/bin/time -f "MAXRSS %M" $L train --method $method --layers $layers --epochs 1 --train-limit $N $extra \
              --threads 1 --snapshot-every 0 --history "$tmp/$method.h5" --overwrite --quiet --json \
              > "$tmp/bench.json"; } 2>&1 | awk '/MAXRSS/ {print $2}')
        s=$(python3 -c "import json; d=json.load(open('$tmp/bench.json')); print('%.2f' % d['curve'][0]['seconds'])")
        acc=$(python3 -c "import json; d=json.load(open('$tmp/bench.json')); print('%.2f' % (100*d['test_accuracy']))")
        printf "%-28s %12s %10.0f   test acc %s%%\n" "lpom $method $layers" "$s" "$(echo "$rss/1024" | bc -l)" "$acc"
    done
    rss=$( { /usr/bin/time -f "MAXRSS %M" python3 bench/lpom_numpy.py --data data/mnist --layers $layers --epochs 1 \
          --train-limit $N > "$tmp/numpy.txt"; } 2>&1 | awk '/MAXRSS/ {print $2}')
    printf "%-28s %12s %10.0f   test acc %s\n" "numpy lpom $layers" "$(awk '/^epoch/ {print $3}' "$tmp/numpy.txt" | tail -n 1)" \
        "$(echo "$rss/1024" | bc -l)" "$(awk '/^epoch/ {print $NF}' "$tmp/numpy.txt" | tail -n 1)"
done
