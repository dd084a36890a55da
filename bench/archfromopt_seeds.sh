#!/usr/bin/env bash
# Each recurrence architecture against its special case over several seeds, one training at a
# time with one BLAS thread (so the seconds per epoch compare across rows), then a table of
# mean ± standard deviation (scripts/archfromopt_table.py).
# Usage: bench/archfromopt_seeds.sh DATA_DIR DATASET EPOCHS DEPTH WIDTH "SEEDS" "LEARNABLE_SEEDS" [extra lpom train options]
#   e.g. bench/archfromopt_seeds.sh data fashion-mnist 10 4 128 "0 1 2" "0 1" --block dense
# Environment: LPOM (binary, default .build/release/lpom), OUT (directory, default runs/archfromopt-seeds).
# A run whose JSON already exists is skipped, so an interrupted sweep resumes.
set -euo pipefail
data=$1; ds=$2; epochs=$3; depth=$4; width=$5; seeds=$6; lseeds=$7; shift 7
lpom=${LPOM:-.build/release/lpom}
out=${OUT:-runs/archfromopt-seeds}
mkdir -p "$out"
run() {
  local name=$1 arch=$2 seed=$3; shift 3
  local stem="$out/$name-$ds-d$depth-w$width-s$seed"
  [[ -s "$stem.json" ]] && return 0
  "$lpom" train --arch "$arch" --depth "$depth" --width "$width" --dataset "$ds" --data-dir "$data" \
    --epochs "$epochs" --seed "$seed" --threads 1 --snapshot-every 0 --quiet --json --overwrite \
    --history "$stem.h5" "$@" > "$stem.json.tmp"
  mv "$stem.json.tmp" "$stem.json"
  echo "$name seed $seed: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["test_accuracy"])' "$stem.json")"
}
for s in $seeds; do
  for a in plain resnet hbnet agdnet densenet admmnet dmrnet; do run "$a" "$a" "$s" "$@"; done
done
for s in $lseeds; do
  for a in hbnet agdnet admmnet; do run "$a-learnable" "$a" "$s" --learnable-coefficients "$@"; done
done
python3 "$(dirname "$0")/../scripts/archfromopt_table.py" "$out" "$ds" "$depth" "$width"
