#!/usr/bin/env bash
# Generator training against PyTorch (issue 16): seconds per generator step of the surfing paper's
# networks (--generator paper, batch 128) with the authors' settings (one D/critic update per G
# update, Adam beta1 0.5, D lr 2e-4, G lr 1e-3, critic batch norm on; WGAN-GP lambda 0.25), lpom
# against bench/torch_gan_step.py doing the same step, in ROUNDS interleaved rounds (the side that
# runs first alternates between rounds), on 1 and 2 threads.
#
# Cases: dcgan; wgan-gp (lpom's default penalty: per sample); wgan-gp-released (--gp-style
# released, what scripts/surf_paper_table.sh trains).
#
# How lpom is timed: `lpom train` reports `seconds` for its training loop (data loading and network
# construction excluded; θ_0 and the final snapshot written inside it). Two runs of SHORT and LONG
# steps write the same two snapshots, so (seconds_LONG − seconds_SHORT) / (LONG − SHORT) is the time
# of a step after the first SHORT (warm-up: first allocations, page faults). CPU seconds (user + sys
# of the process, /usr/bin/time) are differenced the same way. The peer excludes WARMUP steps and
# times PEER_STEPS (time.perf_counter and time.process_time).
#
# sgemm rate: measured in each round and thread count by calling cblas_sgemm of the OpenBLAS library
# lpom links (found by ldd, loaded by python3 ctypes, openblas_set_num_threads(T)) on n = 1024
# float32 matrices, 7 batches of 5 products, median GFLOP/s. The step's flops are counted from the
# architecture (every product lpom's step performs, listed in flops() below); the fraction printed
# is flops / (lpom's s/step × sgemm rate).
#
#   LPOM_TORCH_PYTHON=/path/to/python bash bench/gan_bench.sh
# Env: ROUNDS (3), THREADS ("1 2"), CASES ("dcgan wgan-gp wgan-gp-released"), K (10, latent),
#      SHORT (2), LONG (12) lpom steps, PEER_STEPS (10), WARMUP (3), DATA (data), LPOM
#      (.build/release/lpom), OUT (runs/gan-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}; THREADS=${THREADS:-"1 2"}; CASES=${CASES:-"dcgan wgan-gp wgan-gp-released"}
K=${K:-10}; SHORT=${SHORT:-2}; LONG=${LONG:-12}; PEER_STEPS=${PEER_STEPS:-10}; WARMUP=${WARMUP:-3}
DATA=${DATA:-data}; LPOM=${LPOM:-.build/release/lpom}; OUT=${OUT:-runs/gan-bench}
source bench/torch_python.sh
TORCH=$LPOM_TORCH_PYTHON
[ -x "$LPOM" ] || { echo "error: $LPOM not found (swift build -c release --product lpom)" >&2; exit 2; }
mkdir -p "$OUT"; log="$OUT/runs.jsonl"; : > "$log"
BLASLIB=$(ldd "$LPOM" | awk '/libopenblas/ && !f {print $3; f = 1}')
echo "$(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), OpenBLAS $BLASLIB" >&2

case_options() {  # lpom options, then (after |) peer options of a case
    case $1 in
        dcgan) echo "--model dcgan|--model dcgan" ;;
        wgan-gp) echo "--model wgan-gp --gp-style per-sample|--model wgan-gp --gp-style per-sample" ;;
        wgan-gp-released) echo "--model wgan-gp --gp-style released|--model wgan-gp --gp-style released" ;;
        *) echo "unknown case $1" >&2; exit 2 ;;
    esac
}

record() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d.update(json.loads(sys.argv[2])); print(json.dumps(d))' "$@" >> "$log"; }

lpom_run() {  # case threads steps round
    local opts; opts=$(case_options "$1"); opts=${opts%%|*}
    local json cpu
    # shellcheck disable=SC2086
    json=$(/usr/bin/time -f %U+%S -o "$OUT/cpu.txt" "$LPOM" train $opts --generator paper --latent "$K" \
        --dataset fashion-mnist --data-dir "$DATA" --steps "$3" --n-critic 1 --g-lr 1e-3 --d-lr 2e-4 --gp-lambda 0.25 \
        --critic-batchnorm on --threads "$2" --snapshot-every 1000 --seed 1 --history "$OUT/lpom.h5" --overwrite --json --quiet)
    cpu=$(tail -n 1 "$OUT/cpu.txt")
    record "$json" "{\"side\": \"lpom\", \"case\": \"$1\", \"threads\": $2, \"steps\": $3, \"round\": $4, \"cpu\": $(python3 -c "print($cpu)")}"
}

peer_run() {  # case threads round
    local opts; opts=$(case_options "$1"); opts=${opts#*|}
    local json
    # shellcheck disable=SC2086
    json=$(OMP_NUM_THREADS=$2 "$TORCH" bench/torch_gan_step.py $opts --data-dir "$DATA" --dataset fashion-mnist \
        --threads "$2" --steps "$PEER_STEPS" --warmup "$WARMUP" --latent "$K" --critic-batchnorm on --gp-lambda 0.25)
    record "$json" "{\"side\": \"pytorch\", \"case\": \"$1\", \"round\": $3}"
}

sgemm_run() {  # threads round
    python3 - "$BLASLIB" "$1" "$2" >> "$log" <<'PY'
import ctypes, json, sys, time
import numpy as np
lib = ctypes.CDLL(sys.argv[1]); t = int(sys.argv[2])
lib.openblas_get_corename.restype = ctypes.c_char_p
lib.openblas_set_num_threads(t)
P = ctypes.c_void_p
lib.cblas_sgemm.argtypes = [ctypes.c_int] * 6 + [ctypes.c_float, P, ctypes.c_int, P, ctypes.c_int, ctypes.c_float, P, ctypes.c_int]
n = 1024
a = np.random.default_rng(0).random((n, n), dtype=np.float32); b = a.copy(); c = np.zeros((n, n), np.float32)
rates = []
for r in range(8):
    t0 = time.perf_counter()
    for _ in range(5):
        lib.cblas_sgemm(101, 111, 111, n, n, n, 1.0, a.ctypes.data, n, b.ctypes.data, n, 0.0, c.ctypes.data, n)
    if r: rates.append(5 * 2 * n ** 3 / (time.perf_counter() - t0) / 1e9)   # the first batch warms up
print(json.dumps({"side": "sgemm", "threads": t, "round": int(sys.argv[3]), "gflops": sorted(rates)[len(rates) // 2],
                  "core": lib.openblas_get_corename().decode()}))
PY
}

for round in $(seq 1 "$ROUNDS"); do
    for t in $THREADS; do
        sgemm_run "$t" "$round"
        for c in $CASES; do
            if (( round % 2 == 1 )); then
                lpom_run "$c" "$t" "$SHORT" "$round"; lpom_run "$c" "$t" "$LONG" "$round"; peer_run "$c" "$t" "$round"
            else
                peer_run "$c" "$t" "$round"; lpom_run "$c" "$t" "$SHORT" "$round"; lpom_run "$c" "$t" "$LONG" "$round"
            fi
            echo "round $round, $t thread(s), $c done; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
        done
    done
done
echo "$(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

python3 - "$log" "$K" "$SHORT" "$LONG" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
k, short, long_ = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
B = 128

def flops(case):
    """GFLOP of one lpom step: every matrix product (2·m·n·k each) of the passes GANTrainer makes."""
    dense = lambda i, o: 2 * B * i * o
    conv = lambda ci, co, ho: 2 * B * ho * ho * co * ci * 16     # 4×4 kernel, output ho×ho
    convT = lambda ci, co, hi: 2 * B * hi * hi * ci * co * 16    # 4×4 kernel, input hi×hi
    G = [dense(k, 1024), dense(1024, 6272), convT(128, 64, 7), convT(64, 1, 14)]
    D = [conv(1, 64, 14), conv(64, 128, 7), dense(6272, 1024), dense(1024, 1)]
    fwd = lambda L: sum(L)
    # backward with parameter gradients: dW for every layer, dx for all but the first (unless asked)
    bwd = lambda L, dx_first=False: 2 * sum(L) - (0 if dx_first else L[0])
    d_param = fwd(D) + bwd(D)                      # a D pass with parameter gradients
    d_input = 2 * fwd(D)                           # forward + input gradient, parameters frozen
    total = fwd(G) + 2 * d_param + d_input + bwd(G)
    if case.startswith("wgan-gp"):
        # the penalty by differences (critic with batch norm): ∇ₓD at x̂ (forward + input gradient,
        # parameters frozen), then two forward/backward passes with parameter gradients at x̂ ± εr
        total += fwd(D) + sum(D) + 2 * d_param
    return total / 1e9

def med(v): return statistics.median(v)
cases = list(dict.fromkeys(r["case"] for r in runs if r["side"] != "sgemm"))
threads = sorted({r["threads"] for r in runs if r["side"] == "sgemm"})
rounds = sorted({r["round"] for r in runs})
print(f"surfing paper generator, batch {B}, k = {k}; lpom s/step = difference of {long_}- and {short}-step runs; "
      f"per-round ratio = lpom / PyTorch (wall and CPU)")
for t in threads:
    s = [r for r in runs if r["side"] == "sgemm" and r["threads"] == t]
    rate = med([r["gflops"] for r in s])
    print(f"\n{t} thread(s): sgemm n=1024 {rate:.0f} GFLOP/s (rounds: {', '.join('%.0f' % r['gflops'] for r in s)}; "
          f"OpenBLAS core {s[0]['core']})")
    print(f"  {'case':18}{'GFLOP':>7}{'lpom s':>9}{'lpom cpu':>10}{'torch s':>9}{'torch cpu':>10}{'ratio':>7}{'cpu ratio':>10}"
          f"{'%sgemm':>8}   per-round ratios (wall / cpu)")
    for c in cases:
        per = []
        for rd in rounds:
            l = {r["steps"]: r for r in runs if r["side"] == "lpom" and r["case"] == c and r["threads"] == t and r["round"] == rd}
            p = [r for r in runs if r["side"] == "pytorch" and r["case"] == c and r["threads"] == t and r["round"] == rd]
            g = [r for r in s if r["round"] == rd]
            if short not in l or long_ not in l or not p: continue
            ls = (l[long_]["seconds"] - l[short]["seconds"]) / (long_ - short)
            lc = (l[long_]["cpu"] - l[short]["cpu"]) / (long_ - short)
            per.append((ls, lc, p[0]["s_per_step"], p[0]["cpu_s_per_step"], g[0]["gflops"] if g else rate))
        if not per: continue
        ls, lc, ps, pc = (med([x[i] for x in per]) for i in range(4))
        f = flops(c)
        frac = med([f / (x[0] * x[4]) for x in per])
        rr = ", ".join(f"{x[0] / x[2]:.2f}/{x[1] / x[3]:.2f}" for x in per)
        print(f"  {c:18}{f:7.1f}{ls:9.3f}{lc:10.3f}{ps:9.3f}{pc:10.3f}{ls / ps:7.2f}{lc / pc:10.2f}{100 * frac:7.0f}%   {rr}")
print("\nratio: median lpom s/step / median PyTorch s/step (target ≤ 0.8); %sgemm: lpom's step flops / "
      "(lpom s/step × the round's sgemm rate), median over rounds")
PY
