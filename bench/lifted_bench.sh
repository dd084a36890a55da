#!/usr/bin/env bash
# lpom's ADMM (Taylor et al. 2016) vs a plain NumPy ADMM of the same updates (bench/admm_numpy.py),
# in interleaved rounds: seconds per full-batch iteration on the first N MNIST training images
# and peak memory (max RSS from /usr/bin/time), one BLAS thread for both, 784-300-10.
# Usage: bash bench/lifted_bench.sh [N] [rounds] [iterations]   (defaults 50000 3 3)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
L=${LPOM:-.build/release/lpom}
N="${1:-50000}"; ROUNDS="${2:-3}"; IT="${3:-3}"
DATA=${DATA:-data}
[ -x "$L" ] || swift build -c release --product lpom >/dev/null
export OPENBLAS_NUM_THREADS=1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf "%-6s %-6s %14s %9s\n" round prog "s/iteration" "peak MB"
for r in $(seq 1 "$ROUNDS"); do
    rss=$( { /usr/bin/time -f "MAXRSS %M" $L train --method admm --layers 300 --epochs "$IT" --train-limit "$N" \
          --data-dir "$DATA" --no-lifted-diagnostics --threads 1 --snapshot-every 0 --history "$tmp/a.h5" --overwrite \
          --quiet --json > "$tmp/a.json"; } 2>&1 | awk '/MAXRSS/ {print $2}')
    # The first iteration's epoch time includes the data system's factorisation (once per run).
    s=$(python3 -c "import json; c=json.load(open('$tmp/a.json'))['curve']; print('%.3f' % (sum(r['seconds'] for r in c[1:]) / max(1, len(c) - 1)))")
    printf "%-6s %-6s %14s %9.0f\n" "$r" lpom "$s" "$(echo "$rss/1024" | bc -l)"
    rss=$( { /usr/bin/time -f "MAXRSS %M" python3 bench/admm_numpy.py --data "$DATA/mnist" --layers 300 --iterations "$IT" \
          --train-limit "$N" > "$tmp/n.txt"; } 2>&1 | awk '/MAXRSS/ {print $2}')
    s=$(awk '/^iteration/ && $2 > 1 {t += $3; n++} END {printf "%.3f", t / (n ? n : 1)}' "$tmp/n.txt")
    printf "%-6s %-6s %14s %9.0f\n" "$r" numpy "$s" "$(echo "$rss/1024" | bc -l)"
done
