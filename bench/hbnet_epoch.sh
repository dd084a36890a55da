#!/usr/bin/env bash
# One full training epoch of the convolutional HB-Net (depth 3) on Fashion-MNIST: lpom with
# Winograd (default), lpom with --conv-algorithm im2col, and the PyTorch peer, interleaved per
# (threads, width) and repeated ROUNDS times; then a table of medians and lpom/PyTorch ratios.
# Env: ROUNDS (2), WIDTHS ("16 32"), THREADS ("1 2"), LPOM (.build/release/lpom),
#      LPOM_TORCH_PYTHON (required: a Python with torch), DATA (data), LIMIT (0 = all 60,000 images), OUT (runs/bench-hbnet).
# lpom's epoch time is its per-epoch `seconds` with --test-limit 1 (no test pass); PyTorch's is
# its training loop. Both use SGD lr 0.1, momentum 0.9, batch 100, the same model and data.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/torch_python.sh"
rounds=${ROUNDS:-2}; widths=${WIDTHS:-"16 32"}; threads=${THREADS:-"1 2"}
lpom=${LPOM:-.build/release/lpom}; py=$LPOM_TORCH_PYTHON; data=${DATA:-data}; limit=${LIMIT:-0}
out=${OUT:-runs/bench-hbnet}; mkdir -p "$out"; log="$out/epochs.jsonl"; : > "$log"
echo "$(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg) OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}" >&2
for r in $(seq "$rounds"); do
  for t in $threads; do
    for w in $widths; do
      for algo in auto im2col; do
        s=$("$lpom" train --arch hbnet --block conv --depth 3 --width "$w" --dataset fashion-mnist --data-dir "$data" \
              --epochs 1 --batch-size 100 --lr 0.1 --momentum 0.9 --schedule constant --threads "$t" --test-limit 1 \
              --train-limit "$limit" --snapshot-every 0 --conv-algorithm "$algo" --json --overwrite --history "$out/t.h5" |
            python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["curve"][0]["seconds"])')
        echo "{\"round\": $r, \"threads\": $t, \"width\": $w, \"program\": \"lpom-$algo\", \"seconds\": $s}" | tee -a "$log" >&2
      done
      s=$("$py" bench/torch_hbnet_epoch.py --data-dir "$data" --dataset fashion-mnist --depth 3 --width "$w" --threads "$t" \
            --train-limit "$limit" | python3 -c 'import json,sys; print(json.load(sys.stdin)["epoch_seconds"])')
      echo "{\"round\": $r, \"threads\": $t, \"width\": $w, \"program\": \"pytorch\", \"seconds\": $s}" | tee -a "$log" >&2
    done
  done
done
echo "$(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
python3 - "$log" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
keys = sorted({(r["threads"], r["width"]) for r in rows})
print("| threads | width | lpom (Winograd) s | lpom (im2col) s | PyTorch s | Winograd / PyTorch | im2col / PyTorch |")
print("|---:|---:|---|---|---|---:|---:|")
for t, w in keys:
    get = lambda p: [r["seconds"] for r in rows if (r["threads"], r["width"], r["program"]) == (t, w, p)]
    a, i, p = get("lpom-auto"), get("lpom-im2col"), get("pytorch")
    fmt = lambda xs: ", ".join(f"{x:.2f}" for x in xs)
    ma, mi, mp = statistics.median(a), statistics.median(i), statistics.median(p)
    print(f"| {t} | {w} | {fmt(a)} | {fmt(i)} | {fmt(p)} | **{ma / mp:.2f}** | {mi / mp:.2f} |")
PY
