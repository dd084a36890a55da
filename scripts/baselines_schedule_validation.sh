#!/usr/bin/env bash
# Chooses the baselines' learning-rate schedule on validation, not on test: the six baseline
# configurations of notebook 00, trained on the first 50,000 training images with the last 10,000
# held out (--validation 10000), seed 101 (a seed the notebook's test table does not use), with
# the cosine schedule (the default) and with a constant rate. Prints validation accuracy only.
# Resumable: a finished run (its JSON) is skipped.
#   LPOM=.build/release/lpom OUT=runs/schedule bash scripts/baselines_schedule_validation.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
LPOM=${LPOM:-.build/release/lpom}; OUT=${OUT:-runs/schedule}; DATA=${DATA:-data}; SEED=${SEED:-101}
mkdir -p "$OUT"
for schedule in cosine constant; do
  for cfg in "sgd mnist 300" "sgd mnist 300,100" "sgd fashion-mnist 300,100" "adam mnist 300" "adam mnist 300,100" "adam fashion-mnist 300,100"; do
    set -- $cfg
    stem="$OUT/$1-$2-$3-$schedule-s$SEED"
    if [ ! -s "$stem.json" ]; then
      "$LPOM" train --method "$1" --dataset "$2" --data-dir "$DATA" --layers "$3" --epochs 10 --seed "$SEED" \
          --schedule "$schedule" --validation 10000 --threads 1 --snapshot-every 0 --history "$stem.h5" \
          --overwrite --json --quiet > "$stem.json.tmp"
      mv "$stem.json.tmp" "$stem.json"
    fi
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print('$1 $2 $3 $schedule validation', d['val_accuracy'])" "$stem.json"
  done
done
