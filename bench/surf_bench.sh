#!/usr/bin/env bash
# Surfing on the paper's generator (bench/make_paper_generator.py: FC k->1024-BN-ReLU -> FC 6272-BN-ReLU
# -> convT 64 -> convT 1 -> sigmoid, random initialisation, SNAPSHOTS snapshots), TRIALS trials of
# STEPS Adam steps per snapshot (fixed: tolerance 1e-12 so no trial stops early), ROUNDS interleaved
# rounds; in every round, on 1 and on 2 threads (THREAD_LIST), alternately:
#   1. lpom surf --threads T, all trials in one batch;
#   2. bench/torch_surf.py --threads T, the same trials batched (torch.set_num_threads(T));
#   3. (ONE_TRIALS > 0, 1 thread only) both again with the trials one at a time (ONE_TRIALS of them).
# Also measures the machine's sgemm rate (bench/sgemm_rate.c against the OpenBLAS lpom links:
# n = 1024 square, the tool every bench uses, on 1 and 2 threads, in every round) and
# prints: medians of wall and CPU ms per trial-step, per-round lpom/PyTorch ratios, the fraction of
# the sgemm rate lpom reaches (FLOPs per trial-step counted from the architecture: forward + input
# gradient, 2 FLOPs per multiply-add of the dense and transposed-convolution products), the
# 2-thread speed-up, the machine load (uptime) at every round, and the agreement of the final latents.
#
#   bash bench/surf_bench.sh   # TRIALS=300 STEPS=5 SNAPSHOTS=4 K=20 ROUNDS=3 THREAD_LIST="1 2" ONE_TRIALS=0
set -euo pipefail
cd "$(dirname "$0")/.."
TRIALS=${TRIALS:-300}; STEPS=${STEPS:-5}; SNAPSHOTS=${SNAPSHOTS:-4}; K=${K:-20}; ROUNDS=${ROUNDS:-3}
THREAD_LIST=${THREAD_LIST:-1 2}; ONE_TRIALS=${ONE_TRIALS:-0}
LPOM=${LPOM:-.build/release/lpom}
source bench/torch_python.sh
H5PY=${H5PY:-python3}   # a Python with h5py and numpy (pip install h5py numpy)
TORCH=$LPOM_TORCH_PYTHON
DIR=${DIR:-runs/surf-bench}
mkdir -p "$DIR"
[ -f "$DIR/paper.h5" ] || "$H5PY" bench/make_paper_generator.py "$DIR/paper.h5" "$K" "$SNAPSHOTS"
cc -O2 -o "$DIR/sgemm_rate" bench/sgemm_rate.c $(pkg-config --cflags --libs openblas) -lm
rm -f "$DIR"/r*_*.json "$DIR"/r*_*.txt
for r in $(seq 1 "$ROUNDS"); do
    uptime > "$DIR/r${r}_uptime.txt"
    for t in $THREAD_LIST; do
        export OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t
        "$DIR/sgemm_rate" 1024 "$t" 1 | awk '{print $7}' > "$DIR/r${r}_t${t}_sgemm.txt"   # gflops field
        common=(--method surfing --schedule uniform --steps-per-snapshot "$STEPS" --steps "$STEPS" --tolerance 1e-12
                --threads "$t" --json --quiet)
        "$LPOM" surf "$DIR/paper.h5" --trials "$TRIALS" "${common[@]}" > "$DIR/r${r}_t${t}_lpom.json"
        "$TORCH" bench/torch_surf.py "$DIR/paper.npz" --trials "$TRIALS" --steps "$STEPS" --threads "$t" \
            --save "$DIR/torch_x.npy" > "$DIR/r${r}_t${t}_torch.json"
        if [ "$ONE_TRIALS" -gt 0 ] && [ "$t" = 1 ]; then
            "$LPOM" surf "$DIR/paper.h5" --trials "$ONE_TRIALS" --batch-size 1 "${common[@]}" > "$DIR/r${r}_t1_lpom1.json"
            "$TORCH" bench/torch_surf.py "$DIR/paper.npz" --trials "$ONE_TRIALS" --steps "$STEPS" --threads 1 \
                --batch-size 1 > "$DIR/r${r}_t1_torch1.json"
        fi
    done
done
python3 - "$DIR" "$TRIALS" "$STEPS" "$SNAPSHOTS" "$K" "$ROUNDS" "$THREAD_LIST" "$ONE_TRIALS" <<'PY'
import json, os, statistics, struct, sys
d, trials, steps, snaps, k, rounds = sys.argv[1], *map(int, sys.argv[2:7])
threads, one = [int(t) for t in sys.argv[7].split()], int(sys.argv[8])
med = statistics.median
# FLOPs of one trial-step: forward and input gradient of each product (the same count both ways).
macs = k * 1024 + 1024 * 6272 + 128 * 64 * 16 * 7 * 7 + 64 * 1 * 16 * 14 * 14
flops = 2 * 2 * macs
def lpom(name):   # wall, CPU seconds per trial-step
    r = json.load(open(f"{d}/{name}.json"))
    return r["seconds"] / r["total_steps"], r["cpu_seconds"] / r["total_steps"]
def torch(name):
    r = json.load(open(f"{d}/{name}.json"))
    return r["s_per_trial_step"], r["cpu_s_per_trial_step"]
print(f"paper generator k={k}, {trials} trials, {snaps} snapshots x {steps} Adam steps, {rounds} interleaved rounds;"
      f" {flops / 1e6:.1f} MFLOP per trial-step (forward + input gradient)")
for r in range(1, rounds + 1):
    print(f"round {r} load: {open(f'{d}/r{r}_uptime.txt').read().strip()}")
print(f"{'':24}{'threads':>8}{'wall ms/trial-step (rounds)':>40}{'median':>9}{'CPU ms median':>15}")
walls = {}
for t in threads:
    rate = [float(open(f"{d}/r{r}_t{t}_sgemm.txt").read()) for r in range(1, rounds + 1)]
    rows = [("lpom surf, batched", [lpom(f"r{r}_t{t}_lpom") for r in range(1, rounds + 1)]),
            ("PyTorch, batched", [torch(f"r{r}_t{t}_torch") for r in range(1, rounds + 1)])]
    if one and t == 1:
        rows += [("lpom surf, one at a time", [lpom(f"r{r}_t1_lpom1") for r in range(1, rounds + 1)]),
                 ("PyTorch, one at a time", [torch(f"r{r}_t1_torch1") for r in range(1, rounds + 1)])]
    for name, v in rows:
        w = [1000 * a for a, _ in v]
        print(f"{name:24}{t:8}{'  '.join(f'{x:.3f}' for x in w):>40}{med(w):9.3f}{1000 * med(c for _, c in v):15.3f}")
        walls[(name, t)] = v
    lw = [a for a, _ in walls[("lpom surf, batched", t)]]; tw = [a for a, _ in walls[("PyTorch, batched", t)]]
    ratios = [b / a for a, b in zip(lw, tw)]
    print(f"  {t} thread(s): PyTorch/lpom wall per round {' '.join(f'{x:.2f}' for x in ratios)} (median {med(ratios):.2f}x);"
          f" sgemm rate per round {' '.join(f'{x:.0f}' for x in rate)} GFLOP/s (median {med(rate):.0f});"
          f" lpom at {flops / med(lw) / 1e9:.0f} GFLOP/s = {100 * flops / med(lw) / 1e9 / med(rate):.0f}% of it")
if 1 in threads and 2 in threads:
    for name in ("lpom surf, batched", "PyTorch, batched"):
        s = [a / b for (a, _), (b, _) in zip(walls[(name, 1)], walls[(name, 2)])]
        print(f"2-thread speed-up, {name}: per round {' '.join(f'{x:.2f}' for x in s)} (median {med(s):.2f}x)")
# Same trials on both sides: the final latents agree up to float32 rounding (last round, last thread count).
raw = open(f"{d}/torch_x.npy", "rb").read()
hlen = struct.unpack("<H", raw[8:10])[0]
tx = struct.unpack(f"<{(len(raw) - 10 - hlen) // 4}f", raw[10 + hlen:])
def latents(name): return [v for r in json.load(open(f"{d}/{name}.json"))["results"] for v in r["x"]]
lx = latents(f"r{rounds}_t{threads[0]}_lpom")
def per_trial(a, b):   # max |Δx| per trial, sorted
    return sorted(max(abs(u - v) for u, v in zip(a[i:i + k], b[i:i + k])) for i in range(0, min(len(a), len(b)), k))
others = [("PyTorch", tx)] + [(f"lpom {t} threads", latents(f"r{rounds}_t{t}_lpom")) for t in threads[1:]]
if one: others.append(("one at a time", latents(f"r{rounds}_t1_lpom1")))
for label, other in others:
    p = per_trial(lx, other)
    print(f"x̂ lpom batched vs {label}: per-trial max |Δx| median {p[len(p) // 2]:.1e}, "
          f"largest {p[-1]:.1e}, {sum(v > 1e-3 for v in p)} of {len(p)} trials above 1e-3")
PY
