#!/usr/bin/env bash
# Surfing on the paper's generator (bench/make_paper_generator.py: FC k->1024-BN-ReLU -> FC 6272-BN-ReLU
# -> convT 64 -> convT 1 -> sigmoid, random initialisation, SNAPSHOTS snapshots), TRIALS trials of
# STEPS Adam steps per snapshot (fixed: tolerance 1e-12 so no trial stops early):
#   1. lpom surf, all trials in one batch;
#   2. lpom surf --batch-size 1, the same trials one at a time (ONE_TRIALS of them; per trial-step);
#   3. bench/torch_surf.py, batched and one at a time, torch.set_num_threads(THREADS).
# Prints s/step (one batched step = one step of every trial) and the ratios.
#
#   bash bench/surf_bench.sh            # TRIALS=300 STEPS=10 SNAPSHOTS=4 K=20 THREADS=1 ONE_TRIALS=300
set -euo pipefail
cd "$(dirname "$0")/.."
TRIALS=${TRIALS:-300}; STEPS=${STEPS:-10}; SNAPSHOTS=${SNAPSHOTS:-4}; K=${K:-20}; THREADS=${THREADS:-1}
ONE_TRIALS=${ONE_TRIALS:-$TRIALS}
LPOM=${LPOM:-.build/release/lpom}
H5PY=${H5PY:-/work/venv-h5/bin/python}
TORCH=${TORCH:-/work/venv-torch/bin/python}
DIR=${DIR:-/tmp/surf-bench}
mkdir -p "$DIR"
[ -f "$DIR/paper.h5" ] || "$H5PY" bench/make_paper_generator.py "$DIR/paper.h5" "$K" "$SNAPSHOTS"
export OPENBLAS_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS
common=(--method surfing --schedule uniform --steps-per-snapshot "$STEPS" --steps "$STEPS" --tolerance 1e-12
        --threads "$THREADS" --json --quiet)
"$LPOM" surf "$DIR/paper.h5" --trials "$TRIALS" "${common[@]}" > "$DIR/swift_batched.json"
"$LPOM" surf "$DIR/paper.h5" --trials "$ONE_TRIALS" --batch-size 1 "${common[@]}" > "$DIR/swift_single.json"
"$TORCH" bench/torch_surf.py "$DIR/paper.npz" --trials "$TRIALS" --steps "$STEPS" --threads "$THREADS" > "$DIR/torch_batched.json"
"$TORCH" bench/torch_surf.py "$DIR/paper.npz" --trials "$ONE_TRIALS" --steps "$STEPS" --threads "$THREADS" --batch-size 1 > "$DIR/torch_single.json"
python3 - "$DIR" "$TRIALS" "$STEPS" "$SNAPSHOTS" <<'PY'
import json, sys
d, trials, steps, snaps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def swift(name):
    r = json.load(open(f"{d}/{name}.json"))
    return r["seconds"] / (r["total_steps"]), r["trials"]   # seconds per trial-step
sb, _ = swift("swift_batched"); ss, n1 = swift("swift_single")
tb = json.load(open(f"{d}/torch_batched.json")); ts = json.load(open(f"{d}/torch_single.json"))
print(f"paper generator, {trials} trials, {snaps} snapshots x {steps} Adam steps (one-at-a-time runs: {n1} trials)")
print(f"{'':28}{'s/step (all trials)':>22}{'ms/trial-step':>16}")
rows = [("lpom surf, batched", sb * trials, sb), ("lpom surf, one at a time", ss * trials, ss),
        ("PyTorch, batched", tb["s_per_trial_step"] * trials, tb["s_per_trial_step"]),
        ("PyTorch, one at a time", ts["s_per_trial_step"] * trials, ts["s_per_trial_step"])]
for name, s, t in rows:
    print(f"{name:28}{s:22.4f}{1000 * t:16.3f}")
print(f"one at a time / batched: lpom {ss / sb:.1f}x, PyTorch {ts['s_per_trial_step'] / tb['s_per_trial_step']:.1f}x")
print(f"lpom / PyTorch: batched {sb / tb['s_per_trial_step']:.2f}, one at a time {ss / ts['s_per_trial_step']:.2f}")
PY
