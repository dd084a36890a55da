#!/usr/bin/env bash
# Backpropagation baselines of notebooks-md/00-foundation.md: SGD and Adam on MNIST
# (300; 300-100) and Fashion-MNIST (300-100), 10 epochs, cosine schedule, seeds given as
# arguments (default 0 1 2). Prints one line per run: method dataset layers seed accuracy seconds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
L=.build/release/lpom
seeds="${*:-0 1 2}"
for seed in $seeds; do
  for cfg in "sgd mnist 300" "sgd mnist 300,100" "sgd fashion-mnist 300,100" "adam mnist 300" "adam mnist 300,100" "adam fashion-mnist 300,100"; do
    set -- $cfg
    $L train --method "$1" --dataset "$2" --layers "$3" --epochs 10 --seed "$seed" \
        --history "runs/base-$1-$2-$3-s$seed.h5" --overwrite --json --quiet \
      | python3 -c "import json,sys; d=json.load(sys.stdin); print('$1 $2 $3 $seed', d['test_accuracy'], round(d['seconds'],1))"
  done
done
