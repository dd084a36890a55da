#!/usr/bin/env bash
# One SGD epoch of 784-300-100-10 (batch 100, float32) by lpom and by PyTorch CPU, in the same
# go, on 1 and 2 threads: ROUNDS interleaved rounds (default 3; lpom then PyTorch in each round,
# one timed epoch each per thread count), the per-round ratios, their medians, CPU seconds beside
# wall seconds, the load average, and the fraction of the sgemm rate the lpom epoch reaches
# (the epoch's gemm flops / its seconds / the rate of an n = 1024 sgemm measured by `lpom bench`
# through OpenBLAS with the same thread count in the same round). Needs `bash scripts/install.sh`
# (data + release build) and LPOM_TORCH_PYTHON naming a Python with torch (install:
# bench/README.md); `lpom bench` alone times lpom without the peer.
#   ROUNDS=5 bash bench/run.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/torch_python.sh
LPOM=${LPOM:-.build/release/lpom}
[ -x "$LPOM" ] || swift build -c release --product lpom >/dev/null
PY="$LPOM_TORCH_PYTHON"
ROUNDS=${ROUNDS:-3}
out=$(mktemp); trap 'rm -f "$out"' EXIT
for r in $(seq 1 "$ROUNDS"); do
    echo "round $r: load $(cut -d' ' -f1-3 /proc/loadavg)"
    ours=$($LPOM bench --threads 1,2 --repeats 1 --json)
    peer=$("$PY" bench/torch_mlp_epoch.py --threads 1,2 --epochs 1 | tr '\n' ' ')
    echo "  lpom:    $ours"
    echo "  pytorch: $peer"
    printf '%s\t%s\t%s\n' "$r" "$ours" "$peer" >>"$out"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$out" <<'PYEOF'
import json, statistics, sys
rows = []
for line in open(sys.argv[1]):
    r, ours, peer = line.rstrip("\n").split("\t")
    o = {x["threads"]: x for x in json.loads(ours)["lpom"]}
    p = {x["threads"]: x for x in (json.loads(s) for s in peer.replace("} {", "}\n{").splitlines() if s.strip())}
    rows.append((int(r), o, p))
threads = sorted(rows[0][1])
print("round threads  lpom s (CPU s)  pytorch s (CPU s)  lpom/pytorch  lpom BLAS share  sgemm GFLOP/s  lpom/sgemm-limit  snapshot overhead")
for r, o, p in rows:
    for t in threads:
        a, b = o[t], p[t]
        print(f"{r:5d} {t:7d}  {a['epoch_seconds']:6.3f} ({a['epoch_cpu_seconds']:5.2f})  {b['epoch_seconds']:9.3f} ({b['epoch_cpu_seconds']:5.2f})"
              f"  {a['epoch_seconds'] / b['epoch_seconds']:12.2f}  {100 * a['blas_fraction']:14.0f}%  {a['sgemm_gflops_n1024']:13.0f}"
              f"  {100 * a['sgemm_fraction']:15.0f}%  {100 * a['snapshot_overhead']:+16.1f}%")
print(f"medians over {len(rows)} rounds:")
print("threads  lpom s  pytorch s  lpom/pytorch (per round)  lpom fraction of sgemm limit  snapshot overhead (per round)")
for t in threads:
    ls = [o[t]["epoch_seconds"] for _, o, _ in rows]
    ps = [p[t]["epoch_seconds"] for _, _, p in rows]
    ratios = [a / b for a, b in zip(ls, ps)]
    frac = [o[t]["sgemm_fraction"] for _, o, _ in rows]
    snap = [o[t]["snapshot_overhead"] for _, o, _ in rows]
    print(f"{t:7d}  {statistics.median(ls):6.3f}  {statistics.median(ps):9.3f}  {statistics.median(ratios):5.2f} ({', '.join(f'{x:.2f}' for x in ratios)})"
          f"  {100 * statistics.median(frac):27.0f}%  {100 * statistics.median(snap):+6.1f}% ({', '.join(f'{100 * x:+.1f}%' for x in snap)})")
print(f"kernel: {rows[0][1][threads[0]]['blas_core']}; epoch gemm work {rows[0][1][threads[0]]['epoch_gflop']:.1f} GFLOP")
PYEOF
