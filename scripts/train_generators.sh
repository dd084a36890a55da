#!/usr/bin/env bash
# Trains the generators the surfing notebook inverts, one run at a time on one thread, into
# $OUT (default runs/gen). Each run writes <name>.h5 (the generator's history, ~100
# snapshots), <name>.png (64 samples of the final generator) and <name>.log.
#
#   bash scripts/train_generators.sh            # everything (fc: ~35 min, paper DCGAN: ~20 min)
#   ONLY="fc-dcgan-k10" bash scripts/train_generators.sh   # runs whose name matches
#
# Step counts: fc DCGAN and VAE 8000 steps (snapshot every 80), fc WGAN and WGAN-GP 4000
# generator steps with 5 critic steps each (every 40, the paper's interval); paper-architecture
# DCGAN k=5 1500 steps (every 15). Measured on the 2-core machine, one thread, with other builds
# running beside it (22 Nov 2026): fc DCGAN 145-193 s, VAE 135-152 s, WGAN 209-277 s, WGAN-GP
# 357-518 s per run (the whole fc set 49 min); paper DCGAN ~0.5-0.7 s/step, ~17 min. The files
# take 2.5 GB (fc: 155 MB each) plus 2.7 GB (paper DCGAN, 26 MB per snapshot).
set -euo pipefail
cd "$(dirname "$0")/.."
LPOM=${LPOM:-.build/release/lpom}
OUT=${OUT:-runs/gen}
DATA=${DATA:-data}
THREADS=${THREADS:-1}
SEED=${SEED:-1}
mkdir -p "$OUT"

run() {  # name, then lpom train options
    local name=$1; shift
    if [[ -n "${ONLY:-}" && "$name" != *${ONLY}* ]]; then return; fi
    local t0=$SECONDS
    "$LPOM" train --dataset fashion-mnist --data-dir "$DATA" --threads "$THREADS" --seed "$SEED" --quiet \
        --history "$OUT/$name.h5" --overwrite --sample-grid "$OUT/$name.png" "$@" > "$OUT/$name.log" 2>&1
    echo "$name: $((SECONDS - t0)) s — $(tail -1 "$OUT/$name.log")"
}

for k in 5 10 20; do
    run "fc-dcgan-k$k"   --model dcgan   --generator fc --latent $k --steps 8000 --snapshot-every 80
    run "fc-vae-k$k"     --model vae     --generator fc --latent $k --steps 8000 --snapshot-every 80
    run "fc-wgan-k$k"    --model wgan    --generator fc --latent $k --steps 4000 --snapshot-every 40
    run "fc-wgan-gp-k$k" --model wgan-gp --generator fc --latent $k --steps 4000 --snapshot-every 40
done
run "paper-dcgan-k5" --model dcgan --generator paper --latent 5 --steps 1500 --snapshot-every 15
# Small ReLU generators (k → 20 or 40 → 784) for projected-gradient surfing (seconds each).
run "small-dcgan-k2" --model dcgan --generator fc --gen-hidden 20 --latent 2 --steps 2000 --snapshot-every 20
run "small-dcgan-k5" --model dcgan --generator fc --gen-hidden 40 --latent 5 --steps 2000 --snapshot-every 20
