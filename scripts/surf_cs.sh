#!/usr/bin/env bash
# Compressed sensing for notebooks-md/03-surfing.md: A is an m × 784 Gaussian matrix,
# m ∈ {10, 20, 30, 40, 50, 70, 100, 200, 400}; in-range targets y = G(x*) (success rate) and
# real held-out Fashion-MNIST test images (per-pixel RMSE, the rate-distortion setting).
# Regular Adam on the final network vs surfing (and Bora et al.'s random restarts with
# METHODS="adam surfing restarts"). One JSON per cell in $OUT; summarise with
#   python3 scripts/surf_summary.py cs $OUT
set -euo pipefail
cd "$(dirname "$0")/.."
LPOM=${LPOM:-.build/release/lpom}
H=${H:-runs/gen/fc-dcgan-k20.h5}
OUT=${OUT:-runs/surf/cs}
TRIALS=${TRIALS:-100}
IMAGES=${IMAGES:-50}
STEPS=${STEPS:-5000}
SEED=${SEED:-1}
METHODS=${METHODS:-"adam surfing"}
MS=${MS:-"10 20 30 40 50 70 100 200 400"}
TARGETS=${TARGETS:-"in-range test-images"}
DATA=${DATA:-data}
# Extra lpom surf options for every cell, e.g. EXTRA="--snapshots 25" (fewer intermediate networks).
EXTRA=${EXTRA:-}
mkdir -p "$OUT"
name=$(basename "$H" .h5)
for target in $TARGETS; do
    n=$TRIALS; [ "$target" = test-images ] && n=$IMAGES
    for m in $MS; do
        for meth in $METHODS; do
            out="$OUT/$name-m$m-$meth-$target.json"
            if [ -s "$out" ] && [ -z "${REDO:-}" ]; then continue; fi
            t0=$SECONDS
            "$LPOM" surf "$H" --trials "$n" --method "$meth" --measurements "$m" --target "$target" \
                --steps "$STEPS" --seed "$SEED" --data-dir "$DATA" --threads 1 --json --quiet $EXTRA > "$out.tmp"
            mv "$out.tmp" "$out"
            echo "$name m=$m $meth $target: $((SECONDS - t0)) s"
        done
    done
done
