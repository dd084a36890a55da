#!/usr/bin/env bash
# Re-runs the accuracy experiments of notebooks 00, 02 and 04 with one binary, one after another,
# one BLAS thread each (timings of these runs are not benchmarks: the benchmarks are separate,
# bench/). Resumable: a step whose output exists is skipped, so the script can be killed and
# started again. Output: $OUT (default runs/rerun), one log per step in $OUT/logs.
#   LPOM=.build/release/lpom OUT=runs/rerun bash scripts/rerun_notebooks.sh [step …]
# Steps: base (00), ggn (04 §1), ink (04 §2), ntk (04 §3), dense (02), conv (02), hb (02).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export LPOM=${LPOM:-.build/release/lpom}
OUT=${OUT:-runs/rerun}
DATA=${DATA:-data}
mkdir -p "$OUT/logs"
steps="${*:-base ggn ink ntk dense conv hb}"
done_mark() { [ -e "$OUT/logs/$1.done" ]; }
step() {   # step NAME COMMAND…: runs COMMAND once, its output in $OUT/logs/NAME.log
    local name=$1; shift
    if done_mark "$name"; then echo "rerun: $name done before, skipped"; return; fi
    echo "rerun: $name started $(date -u +%H:%M:%S)"
    local t0=$SECONDS
    "$@" > "$OUT/logs/$name.log.tmp" 2>&1
    mv "$OUT/logs/$name.log.tmp" "$OUT/logs/$name.log"
    echo "binary $($LPOM --version 2>/dev/null || true) $(git rev-parse --short HEAD) $(date -u +%FT%TZ) $((SECONDS - t0)) s" > "$OUT/logs/$name.done"
    echo "rerun: $name finished in $((SECONDS - t0)) s"
}
baselines() {
    for seed in 0 1 2; do
      for cfg in "sgd mnist 300" "sgd mnist 300,100" "sgd fashion-mnist 300,100" "adam mnist 300" "adam mnist 300,100" "adam fashion-mnist 300,100"; do
        set -- $cfg
        "$LPOM" train --method "$1" --dataset "$2" --data-dir "$DATA" --layers "$3" --epochs 10 --seed "$seed" \
            --threads 1 --history "$OUT/base-$1-$2-$3-s$seed.h5" --overwrite --json --quiet \
          | python3 -c "import json,sys; d=json.load(sys.stdin); print('$1 $2 $3 $seed', d['test_accuracy'], round(d['seconds'],1))"
      done
    done
}
ggn() { for s in 0 1 2; do bash scripts/ggn_vs_sgd.sh "$s"; done; }
ntk() { bash scripts/ntk_widths.sh 0; bash scripts/ntk_widths.sh 1; WIDTHS="10 30" bash scripts/ntk_widths.sh 0; }
dense() { OUT="$OUT/arch-dense" bash bench/archfromopt_seeds.sh "$DATA" fashion-mnist 10 4 128 "0 1 2" "0 1" --block dense; }
conv() { OUT="$OUT/arch-conv" bash bench/archfromopt_seeds.sh "$DATA" fashion-mnist 5 3 16 "0 1" "" --block conv; }
hb() {
    for ds in fashion-mnist mnist; do
        "$LPOM" train --arch hbnet --block conv --depth 3 --width 32 --dataset "$ds" --data-dir "$DATA" \
          --epochs 10 --batch-size 100 --lr 0.1 --momentum 0.9 --schedule cosine --threads 1 \
          --snapshot-every 600 --json --quiet --overwrite --history "$OUT/hb32-$ds.h5" > "$OUT/hb32-$ds.json"
        python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(sys.argv[1], d['test_accuracy'], round(d['seconds'],1))" "$OUT/hb32-$ds.json"
    done
}
for s in $steps; do
    case $s in
        base) step base baselines ;;
        ggn) step ggn ggn ;;
        ink) step ink env DATA="$DATA" bash scripts/ggn_mnist_ink.sh ;;
        ntk) step ntk ntk ;;
        dense) step dense dense ;;
        conv) step conv conv ;;
        hb) step hb hb ;;
        *) echo "rerun: unknown step '$s' (base ggn ink ntk dense conv hb)" >&2; exit 2 ;;
    esac
done
