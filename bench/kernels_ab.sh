#!/usr/bin/env bash
# Old against new binary on the layers the kernels serve (Conv2D by Winograd and by im2col,
# BatchNorm, ConvTranspose2D), in interleaved rounds: per round and thread count, each case
# runs once with each binary, the first binary alternating between rounds so a drift of the
# machine's load falls on both. Prints every time, the new/old ratio per round and the median
# ratio, and checks that both binaries report the same losses and accuracies. Two clocks: the
# run's own `seconds` (wall time of the timed loop) and the process's CPU time (user + system,
# from /usr/bin/time, data loading included): on a shared machine the wall time follows the
# other users' load, the CPU time mostly the work done (with 2 threads it includes the
# workers' spinning between regions).
#
# Usage: bench/kernels_ab.sh OLD_LPOM NEW_LPOM
# Env: ROUNDS (3), THREADS ("1 2"), WIDTHS ("32"): HB-Net conv widths, LIMIT (12000 training
#      images per HB-Net epoch), GAN_STEPS (20 DCGAN generator steps), DATA (data: mnist and
#      fashion-mnist IDX files), OUT (runs/bench-kernels-ab).
# Cases: hbnet-auto / hbnet-im2col — one epoch of the depth-3 convolutional HB-Net on
# Fashion-MNIST (3×3 convolutions + batch norm, Winograd or im2col; lpom's per-epoch
# `seconds`, no test pass); dcgan — GAN_STEPS steps of the surfing paper's DCGAN on MNIST
# (generator FC-BN-ConvTranspose2D, convolutional discriminator; lpom's `seconds`).
set -euo pipefail
if [ $# -ne 2 ] || [ ! -x "$1" ] || [ ! -x "$2" ]; then
  echo "usage: bench/kernels_ab.sh OLD_LPOM NEW_LPOM (two executable lpom binaries)" >&2; exit 2
fi
old=$1; new=$2
rounds=${ROUNDS:-3}; threads=${THREADS:-"1 2"}; widths=${WIDTHS:-32}; limit=${LIMIT:-12000}
steps=${GAN_STEPS:-20}; data=${DATA:-data}; out=${OUT:-runs/bench-kernels-ab}
mkdir -p "$out"; log="$out/runs.jsonl"; : > "$log"
echo "$(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# run LABEL BINARY CASE THREADS: one timed run; appends a JSON line with the seconds and the
# run's non-timing results (for the equality check).
run() {
  local label=$1 bin=$2 case=$3 t=$4 json
  local clock="/usr/bin/time -f %U+%S -o $out/cpu.txt"
  case $case in
    hbnet-*)
      json=$($clock "$bin" train --arch hbnet --block conv --depth 3 --width "${case#*@}" --dataset fashion-mnist \
               --data-dir "$data" --epochs 1 --batch-size 100 --lr 0.1 --momentum 0.9 --schedule constant \
               --threads "$t" --test-limit 1 --train-limit "$limit" --snapshot-every 0 \
               --conv-algorithm "$(echo "${case%@*}" | cut -d- -f2)" --json --overwrite --history "$out/$label.h5")
      ;;
    dcgan)
      json=$($clock "$bin" train --model dcgan --dataset mnist --data-dir "$data" --steps "$steps" --threads "$t" \
               --json --overwrite --history "$out/$label.h5")
      ;;
  esac
  python3 - "$label" "$case" "$t" "$round" "$(tail -n 1 "$out/cpu.txt")" <<PY >> "$log"
import json, sys
d = json.loads('''$json''')
label, case, t, r = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
cpu = sum(float(x) for x in sys.argv[5].split("+"))
if "curve" in d:
    e = d["curve"][0]; s = e["seconds"]; result = {k: e[k] for k in ("train_loss", "train_accuracy")}
else:
    s = d["seconds"]; result = d["last_metrics"]
print(json.dumps({"round": r, "threads": t, "case": case, "binary": label, "seconds": s, "cpu": cpu, "result": result}))
PY
  tail -n 1 "$log" >&2
}

# summarize LOG: the two tables of the runs in LOG.
summarize() {
  python3 - "$1" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
keys = sorted({(r["case"], r["threads"]) for r in rows})
fmt = lambda xs: ", ".join(f"{x:.2f}" for x in xs)
med = statistics.median
for clock, title in (("cpu", "CPU time (user + system) of the process"), ("seconds", "wall time of the timed loop (lpom's `seconds`)")):
    print(f"\n{title}\n")
    print("| case | threads | old s (per round) | new s (per round) | new/old per round | median old s | median new s | median new/old | same results |")
    print("|---|---:|---|---|---|---:|---:|---:|---|")
    for c, t in keys:
        get = lambda b: sorted((r for r in rows if (r["case"], r["threads"], r["binary"]) == (c, t, b)), key=lambda r: r["round"])
        o, n = get("old"), get("new")
        ratios = [b[clock] / a[clock] for a, b in zip(o, n)]
        same = all(a["result"] == b["result"] for a, b in zip(o, n))
        print(f"| {c} | {t} | {fmt([r[clock] for r in o])} | {fmt([r[clock] for r in n])} | {fmt(ratios)} | "
              f"{med([r[clock] for r in o]):.2f} | {med([r[clock] for r in n]):.2f} | **{med(ratios):.3f}** | {'yes' if same else 'NO'} |")
PY
}

cases=""
for w in $widths; do cases="$cases hbnet-auto@$w hbnet-im2col@$w"; done
cases="$cases dcgan"
for round in $(seq "$rounds"); do
  for t in $threads; do
    for c in $cases; do
      if [ $((round % 2)) -eq 1 ]; then run old "$old" "$c" "$t"; run new "$new" "$c" "$t"
      else run new "$new" "$c" "$t"; run old "$old" "$c" "$t"; fi
    done
  done
done
echo "$(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
summarize "$log"
