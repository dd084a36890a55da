#!/usr/bin/env bash
# Projected-gradient surfing where the theorem applies (notebooks-md/03-surfing.md): small DCGAN
# generators k → 40 → ReLU → 784 with an identity output (piecewise linear, as in Song, Fan,
# Lafferty 2019, Thm 3.1), k = 2, 3, 5, 8, trained 2000 steps with a snapshot every 20. Per k,
# 100 in-range trials each of: regular Adam (20,000 steps), Adam surfing (lpom's front-loaded
# schedule, 20,000 final steps) and exact projected surfing (each piece's convex QP solved
# exactly; pieces over the units within τ = 0.05 of switching, at most 256 per search; up to 100
# rounds on the final network). One small JSON per run in $RES, resumable.
#
#   REPO=$PWD nohup nice -n 10 bash runs/projected/bin/surf_projected.sh >> runs/projected/log 2>&1 &
#   (run a copy of this script and of the binary, as for surf_paper_table.sh)
set -euo pipefail
cd "${REPO:-$(dirname "$0")/..}"
ROOT=${ROOT:-runs/projected}
LPOM=${LPOM:-$ROOT/bin/lpom}
RES=${RES:-notebooks-md/03-results/projected}
DATA=${DATA:-data}
TRIALS=${TRIALS:-100}
PY=${PY:-python3}
mkdir -p "$ROOT" "$RES"
log() { echo "$(date -u +%FT%TZ) $*"; }
for k in 2 3 5 8; do
    h="$ROOT/small-id-k$k.h5"
    if [ ! -s "$h" ]; then
        log "train k=$k"
        "$LPOM" train --dataset fashion-mnist --data-dir "$DATA" --threads 1 --seed 1 --quiet --overwrite \
            --model dcgan --generator fc --gen-hidden 40 --gen-output identity --latent "$k" --steps 2000 \
            --snapshot-every 20 --history "$h.part" > "$ROOT/small-id-k$k.log" 2>&1 && mv "$h.part" "$h"
    fi
    for m in adam surfing projected; do
        small="$RES/small-id-k$k-$m.json"
        [ -s "$small" ] && continue
        log "k=$k $m"
        t0=$SECONDS
        if "$LPOM" surf "$h" --method "$m" --trials "$TRIALS" --seed 1 --steps 20000 --threads 1 --json --quiet \
            --max-pieces 256 --final-piece-rounds 100 > "$ROOT/k$k-$m.json.tmp" 2> "$ROOT/k$k-$m.err"; then
            "$PY" - "$ROOT/k$k-$m.json.tmp" "$small" "$((SECONDS - t0))" <<'PYEOF'
import json, os, sys
d = json.load(open(sys.argv[1])); r = d.pop("results")
d["iterations"] = [t["iterations"] for t in r]; d["run_seconds"] = int(sys.argv[3])
json.dump(d, open(sys.argv[2] + ".tmp", "w"), indent=0); os.replace(sys.argv[2] + ".tmp", sys.argv[2])
PYEOF
            log "done k=$k $m in $((SECONDS - t0)) s"
        else
            log "FAILED k=$k $m: $(tail -1 "$ROOT/k$k-$m.err")"
        fi
    done
done
log "finished"
