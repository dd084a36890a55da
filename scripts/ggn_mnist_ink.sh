#!/usr/bin/env bash
# GGN, SGD and Adam on MNIST "bottom-half ink" regression (notebooks-md/04-ggn-and-ntk.md).
# Usage: DATA=/path/with/mnist bash scripts/ggn_mnist_ink.sh → runs/04/ink-*.json (per-epoch curves)
# The step sizes and damping are compared on the validation loss (last 10,000 training images,
# --validation 10000; training on the first 10,000); the test loss is evaluated once, at the end.
set -euo pipefail
L=${LPOM:-.build-ggn/release/lpom}; DATA=${DATA:-data}
mkdir -p runs/04
COMMON="--task regression --dataset mnist --data-dir $DATA --validation 10000 --train-limit 10000 --test-limit 2000 --layers 256
  --batch-size 100 --seed 0 --threads 1 --quiet --json --overwrite --snapshot-every 0 --schedule constant"
$L train --method ggn --ggn-step 1 --damping 1e-3 --epochs 30 $COMMON --history runs/04/ink-ggn.h5 > runs/04/ink-ggn.json
$L train --method ggn --ggn-step 0.3 --damping 1e-3 --epochs 30 $COMMON --history runs/04/ink-ggn-eta0.3.h5 > runs/04/ink-ggn-eta0.3.json
$L train --method sgd --lr 0.05 --momentum 0.9 --epochs 30 $COMMON --history runs/04/ink-sgd.h5 > runs/04/ink-sgd.json
$L train --method adam --lr 0.001 --epochs 30 $COMMON --history runs/04/ink-adam.h5 > runs/04/ink-adam.json
for n in ggn ggn-eta0.3 sgd adam; do
  python3 - runs/04/ink-$n.json <<'PY'
import json, sys
o = json.load(open(sys.argv[1])); t = 0.0
print("%s: %.2f ms/step, test loss %.4g (once, at the end)" % (sys.argv[1].split("/")[-1], 1000 * o["seconds"] / o["steps"], o["test_loss"]))
for c in o["curve"]:
    t += c["seconds"]
    if c["epoch"] in (1, 2, 3, 5, 10, 20, 30):
        print("  epoch %2d  iterations %5d  wall %6.1f s  train loss %.4g  val loss %.4g" % (c["epoch"], 100 * c["epoch"], t, c["train_loss"], c["val_loss"]))
PY
done
