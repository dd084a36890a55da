#!/usr/bin/env bash
# NTK quantities of Du et al.'s model for several widths (notebooks-md/04-ggn-and-ntk.md).
# Usage: [WIDTHS="100 1000 10000"] bash scripts/ntk_widths.sh [SEED] → runs/04/ntk-{gd,ggn}-mM-sSEED.h5 and .ntk.json
set -euo pipefail
SEED=${1:-0}
L=${LPOM:-.build-ggn/release/lpom}
mkdir -p runs/04
DATA="--task regression --teacher-width 1000 --samples 50 --test-samples 50 --input-dim 10 --batch-size 50 --seed $SEED"
for M in ${WIDTHS:-100 1000 10000}; do
  NET="--layers $M --activation relu --init ntk --output-scale --threads 1 --quiet --overwrite"
  $L train --method sgd --momentum 0 --schedule constant --lr 2 --epochs 2000 --snapshot-every 100 $DATA $NET \
     --history runs/04/ntk-gd-m$M-s$SEED.h5 > /dev/null
  $L train --method ggn --epochs 5 --snapshot-every 1 $DATA $NET --history runs/04/ntk-ggn-m$M-s$SEED.h5 > /dev/null
  for K in gd ggn; do
    $L ntk runs/04/ntk-$K-m$M-s$SEED.h5 --points 50 --quiet --json --plot runs/04/ntk-$K-m$M-s$SEED.svg > runs/04/ntk-$K-m$M-s$SEED.ntk.json
    python3 - runs/04/ntk-$K-m$M-s$SEED.ntk.json <<'PY'
import json, sys
o = json.load(open(sys.argv[1])); r = o["snapshots"]
print("%-28s m=%5d λ0=%.4g λmin(H0)=%.4g ‖H0−H∞‖=%.3g min_t λmin(H)/λ0=%.3f stays≥λ0/2=%s max‖H−H0‖=%.3g max‖W−W0‖/‖W0‖=%.4g loss %.3g→%.3g" % (
    sys.argv[1].split("/")[-1], o["width"], o["lambda0"], o["lambda_min_H0"], o["distance_H0_Hinf"],
    min(x["lambda_min_H"] for x in r) / o["lambda0"], o["lambda_min_H_stays_above_half_lambda0"],
    o["max_distance_H"], o["max_weight_movement"], r[0]["loss"], r[-1]["loss"]))
PY
  done
done
