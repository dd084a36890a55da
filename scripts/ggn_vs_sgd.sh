#!/usr/bin/env bash
# GGN against GD, heavy-ball SGD and Adam on the teacher-student task (notebooks-md/04-ggn-and-ntk.md).
# Usage: bash scripts/ggn_vs_sgd.sh SEED [WIDTH]   → runs/04/{ggn,gd,sgd-m0.9,adam}-sSEED-mWIDTH.h5/.json
set -euo pipefail
SEED=${1:-0}; M=${2:-4096}
L=${LPOM:-.build-ggn/release/lpom}
mkdir -p runs/04
COMMON="--task regression --teacher-width 1000 --samples 100 --test-samples 100 --input-dim 10
  --layers $M --activation relu --init ntk --output-scale --batch-size 100 --seed $SEED
  --threads 1 --quiet --json --overwrite --snapshot-every 0 --schedule constant"
run() { local name=$1; shift; $L train "$@" $COMMON --history runs/04/$name-s$SEED-m$M.h5 > runs/04/$name-s$SEED-m$M.json; }
run ggn      --method ggn --epochs 10                       # λ = 1e-6 (default), η = 1
run gd       --method sgd --momentum 0 --lr 4 --epochs 3000 # full-batch gradient descent
run sgd-m0.9 --method sgd --momentum 0.9 --lr 0.8 --epochs 1000
run adam     --method adam --lr 0.01 --epochs 500
python3 scripts/loss_milestones.py runs/04/{ggn,gd,sgd-m0.9,adam}-s$SEED-m$M.h5 --at 1,2,3,10,100,1000
for n in ggn gd sgd-m0.9 adam; do
  python3 -c "import json; o=json.load(open('runs/04/$n-s$SEED-m$M.json')); print('%-9s %5d steps %7.2f s %8.3f ms/step  test loss %.3g' % ('$n', o['steps'], o['seconds'], 1000*o['seconds']/o['steps'], o['test_loss']))"
done
