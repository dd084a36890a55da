#!/usr/bin/env bash
# Surfing on the paper's generator (bench/make_paper_generator.py: FC k->1024-BN-ReLU -> FC 6272-BN-ReLU
# -> convT 64 -> convT 1 -> sigmoid, random initialisation, SNAPSHOTS snapshots), TRIALS trials of
# STEPS Adam steps per snapshot (fixed: tolerance 1e-12 so no trial stops early):
#   1. lpom surf, all trials in one batch;
#   2. lpom surf --batch-size 1, the same trials one at a time (ONE_TRIALS of them; per trial-step);
#   3. bench/torch_surf.py, batched and one at a time, torch.set_num_threads(THREADS).
# Prints s/step (one batched step = one step of every trial) and the ratios.
#
#   bash bench/surf_bench.sh            # TRIALS=300 STEPS=5 SNAPSHOTS=4 K=20 THREADS=1 ONE_TRIALS=300
set -euo pipefail
cd "$(dirname "$0")/.."
TRIALS=${TRIALS:-300}; STEPS=${STEPS:-5}; SNAPSHOTS=${SNAPSHOTS:-4}; K=${K:-20}; THREADS=${THREADS:-1}
ONE_TRIALS=${ONE_TRIALS:-$TRIALS}
LPOM=${LPOM:-.build/release/lpom}
source bench/torch_python.sh
H5PY=${H5PY:-python3}   # a Python with h5py and numpy (pip install h5py numpy)
TORCH=$LPOM_TORCH_PYTHON
DIR=${DIR:-runs/surf-bench}
mkdir -p "$DIR"
[ -f "$DIR/paper.h5" ] || "$H5PY" bench/make_paper_generator.py "$DIR/paper.h5" "$K" "$SNAPSHOTS"
export OPENBLAS_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS
common=(--method surfing --schedule uniform --steps-per-snapshot "$STEPS" --steps "$STEPS" --tolerance 1e-12
        --threads "$THREADS" --json --quiet)
"$LPOM" surf "$DIR/paper.h5" --trials "$TRIALS" "${common[@]}" > "$DIR/swift_batched.json"
"$LPOM" surf "$DIR/paper.h5" --trials "$ONE_TRIALS" --batch-size 1 "${common[@]}" > "$DIR/swift_single.json"
"$TORCH" bench/torch_surf.py "$DIR/paper.npz" --trials "$TRIALS" --steps "$STEPS" --threads "$THREADS" --save "$DIR/torch_x.npy" > "$DIR/torch_batched.json"
"$TORCH" bench/torch_surf.py "$DIR/paper.npz" --trials "$ONE_TRIALS" --steps "$STEPS" --threads "$THREADS" --batch-size 1 > "$DIR/torch_single.json"
python3 - "$DIR" "$TRIALS" "$STEPS" "$SNAPSHOTS" <<'PY'
import json, sys
d, trials, steps, snaps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def swift(name):   # seconds and CPU seconds per trial-step
    r = json.load(open(f"{d}/{name}.json"))
    return r["seconds"] / r["total_steps"], r["cpu_seconds"] / r["total_steps"], r["trials"]
def torch(name):
    r = json.load(open(f"{d}/{name}.json"))
    return r["s_per_trial_step"], r["cpu_s_per_trial_step"], r["trials"]
rows = [("lpom surf, batched", swift("swift_batched")), ("lpom surf, one at a time", swift("swift_single")),
        ("PyTorch, batched", torch("torch_batched")), ("PyTorch, one at a time", torch("torch_single"))]
print(f"paper generator, {trials} trials, {snaps} snapshots x {steps} Adam steps (one-at-a-time runs: {rows[1][1][2]} trials)")
print(f"{'':28}{'wall s/step':>13}{'CPU s/step':>12}{'wall ms/trial-step':>20}   (a step = one step of all {trials} trials)")
for name, (w, c, _) in rows:
    print(f"{name:28}{w * trials:13.4f}{c * trials:12.4f}{1000 * w:20.3f}")
(sw, sc, _), (ow, oc, _), (tw, tc, _), (uw, uc, _) = [r[1] for r in rows]
print(f"one at a time / batched (CPU): lpom {oc / sc:.1f}x, PyTorch {uc / tc:.1f}x")
print(f"lpom / PyTorch (CPU): batched {sc / tc:.2f}, one at a time {oc / uc:.2f}")
# Same trials on both sides: the final latents agree up to float32 rounding.
import struct
raw = open(f"{d}/torch_x.npy", "rb").read()
hlen = struct.unpack("<H", raw[8:10])[0]
tx = struct.unpack(f"<{(len(raw) - 10 - hlen) // 4}f", raw[10 + hlen:])
lx = [v for r in json.load(open(f"{d}/swift_batched.json"))["results"] for v in r["x"]]
sx = [v for r in json.load(open(f"{d}/swift_single.json"))["results"] for v in r["x"]]
k = len(json.load(open(f"{d}/swift_batched.json"))["results"][0]["x"])
def per_trial(a, b):   # max |Δx| per trial, sorted
    return sorted(max(abs(u - v) for u, v in zip(a[i:i + k], b[i:i + k])) for i in range(0, min(len(a), len(b)), k))
for label, other in (("PyTorch", tx), ("one at a time", sx)):
    p = per_trial(lx, other)
    print(f"x̂ lpom batched vs {label}: per-trial max |Δx| median {p[len(p) // 2]:.1e}, "
          f"largest {p[-1]:.1e}, {sum(v > 1e-3 for v in p)} of {len(p)} trials above 1e-3")
PY
