#!/usr/bin/env bash
# The Table 1 analogue of notebooks-md/03-surfing.md: regular Adam on the final network vs
# surfing through the saved snapshots, 300 in-range trials per cell, for every generator
# history $GEN/<name>.h5 that scripts/train_generators.sh produced. One JSON per cell in $OUT;
# scripts/surf_summary.py turns them into the notebook's table.
#
#   bash scripts/surf_table.sh                       # every fc-* history in $GEN
#   ONLY="fc-dcgan-k5" bash scripts/surf_table.sh    # names matching
#
# Budget: --steps (default 20000) on the final network for both methods (the paper allows up to
# 60000); surfing's intermediate snapshots use lpom surf's front-loaded default schedule.
set -euo pipefail
cd "$(dirname "$0")/.."
LPOM=${LPOM:-.build/release/lpom}
GEN=${GEN:-runs/gen}
OUT=${OUT:-runs/surf}
TRIALS=${TRIALS:-300}
STEPS=${STEPS:-20000}
SEED=${SEED:-1}
METHODS=${METHODS:-"adam surfing"}
PATTERN=${PATTERN:-fc-*}
mkdir -p "$OUT"
for h in "$GEN"/$PATTERN.h5; do
    [ -e "$h" ] || continue
    name=$(basename "$h" .h5)
    if [[ -n "${ONLY:-}" && "$name" != *${ONLY}* ]]; then continue; fi
    for m in $METHODS; do
        out="$OUT/$name-$m.json"
        if [ -s "$out" ] && [ -z "${REDO:-}" ]; then echo "$name $m: kept $out"; continue; fi
        t0=$SECONDS
        "$LPOM" surf "$h" --trials "$TRIALS" --method "$m" --steps "$STEPS" --seed "$SEED" --threads 1 --json --quiet > "$out.tmp"
        mv "$out.tmp" "$out"
        echo "$name $m: $((SECONDS - t0)) s"
    done
done
