#!/usr/bin/env bash
# Regular Adam vs surfing vs projected-gradient surfing on the small ReLU generators of
# scripts/train_generators.sh (small-dcgan-k2: 2 → 20 → 784, small-dcgan-k5: 5 → 40 → 784).
# One JSON per cell in $OUT; the notebook's table reads them.
set -euo pipefail
cd "$(dirname "$0")/.."
LPOM=${LPOM:-.build/release/lpom}
GEN=${GEN:-runs/gen}
OUT=${OUT:-runs/surf/small}
TRIALS=${TRIALS:-100}
PTRIALS=${PTRIALS:-20}      # projected runs trial by trial in Double: fewer trials
mkdir -p "$OUT"
for name in small-dcgan-k2 small-dcgan-k5; do
    for m in adam surfing projected; do
        n=$TRIALS; [ $m = projected ] && n=$PTRIALS
        out="$OUT/$name-$m.json"
        if [ -s "$out" ] && [ -z "${REDO:-}" ]; then continue; fi
        t0=$SECONDS
        "$LPOM" surf "$GEN/$name.h5" --trials $n --method $m --steps 5000 --seed 1 --threads 1 --json --quiet > "$out.tmp"
        mv "$out.tmp" "$out"
        echo "$name $m: $((SECONDS - t0)) s"
    done
done
