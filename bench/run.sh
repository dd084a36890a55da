#!/usr/bin/env bash
# One SGD epoch of 784-300-100-10 (batch 100, float32) by lpom and by PyTorch CPU, in the same
# go, on 1 and 2 threads, with the ratios. Needs `bash scripts/install.sh` (data + release build)
# and LPOM_TORCH_PYTHON naming a Python with torch (install: bench/README.md); `lpom bench`
# alone times lpom without the peer.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/torch_python.sh
LPOM=.build/release/lpom
[ -x "$LPOM" ] || swift build -c release --product lpom >/dev/null
PY="$LPOM_TORCH_PYTHON"
ours=$($LPOM bench --threads 1,2 --repeats 2 --json)
echo "lpom:    $ours"
peer=$("$PY" bench/torch_mlp_epoch.py --threads 1,2 --epochs 2)
echo "pytorch: $(echo "$peer" | tr '\n' ' ')"
python3 - "$ours" "$peer" <<'PYEOF'
import json, sys
ours = {r["threads"]: r for r in json.loads(sys.argv[1])["lpom"]}
peer = {}
for line in sys.argv[2].splitlines():
    if line.strip():
        r = json.loads(line); peer[r["threads"]] = r
print("threads  lpom s/epoch  pytorch s/epoch  lpom/pytorch  lpom BLAS share  snapshot overhead")
for t in sorted(ours):
    o = ours[t]; p = peer.get(t)
    ratio = o["epoch_seconds"] / p["epoch_seconds"] if p else float("nan")
    print(f"{t:7d}  {o['epoch_seconds']:12.3f}  {p['epoch_seconds'] if p else float('nan'):15.3f}  {ratio:12.2f}  {100*o['blas_fraction']:14.0f}%  {100*o['snapshot_overhead']:+16.1f}%")
PYEOF
