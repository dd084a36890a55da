#!/usr/bin/env bash
# Each recurrence architecture against its special case at equal depth and width on one data set:
# test accuracy, parameter count and seconds per epoch, one JSON line per run (from `lpom train --json`).
# Usage: bench/archfromopt_compare.sh DATA_DIR DATASET EPOCHS DEPTH WIDTH [extra lpom train options]
# Runs two trainings at a time with one BLAS thread each (the machine has two cores).
set -euo pipefail
data=$1; ds=$2; epochs=$3; depth=$4; width=$5; shift 5
lpom=${LPOM:-.build-arch/release/lpom}
out=${OUT:-runs/archfromopt}
mkdir -p "$out"
run() {
  local arch=$1; shift
  "$lpom" train --arch "$arch" --depth "$depth" --width "$width" --dataset "$ds" --data-dir "$data" \
    --epochs "$epochs" --threads 1 --snapshot-every 0 --quiet --json --overwrite \
    --history "$out/$arch-$ds-d$depth-w$width.h5" "$@" > "$out/$arch-$ds-d$depth-w$width.json"
  python3 - "$out/$arch-$ds-d$depth-w$width.json" "$arch" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
per_epoch = [round(c["seconds"], 1) for c in d["curve"]]
print(json.dumps({"arch": sys.argv[2], "test_accuracy": d["test_accuracy"], "epoch_seconds": per_epoch,
                  "history": d["history"]}))
PY
}
pairs=("plain resnet" "hbnet agdnet" "densenet dmrnet" "admmnet")
for p in "${pairs[@]}"; do
  for a in $p; do run "$a" "$@" & done
  wait
done
