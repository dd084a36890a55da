#!/usr/bin/env bash
# Time per iteration of GGN and GD on the teacher-student task (1 BLAS thread, 200 full-batch steps,
# 3 alternating repeats; seconds include the per-step metric writes, no snapshots).
# Usage: bash scripts/ggn_step_time.sh [WIDTH] [SAMPLES]
set -euo pipefail
M=${1:-4096}; N=${2:-100}
L=${LPOM:-.build-ggn/release/lpom}
mkdir -p runs/04
COMMON="--task regression --teacher-width 1000 --samples $N --test-samples 10 --input-dim 10 --layers $M
  --activation relu --init ntk --output-scale --batch-size $N --epochs 200 --seed 0 --threads 1 --quiet --json
  --overwrite --snapshot-every 0 --schedule constant"
for rep in 1 2 3; do
  for cfg in "ggn" "sgd --momentum 0 --lr 4" "adam --lr 0.01"; do
    $L train --method $cfg $COMMON --history runs/04/time.h5 | python3 -c "
import json, sys; o = json.load(sys.stdin); print('m=$M n=$N %-24s %7.3f ms/step' % ('$cfg', 1000 * o['seconds'] / o['steps']))"
  done
done
