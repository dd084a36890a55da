#!/usr/bin/env python3
"""Training-loss milestones of lpom histories (h5py only).

/metrics/loss at /metrics/step s is the loss of the batch *before* update s, i.e. L(θ_{s-1}).
With full-batch training (batch size = samples) it is the training loss after s-1 iterations.

    python3 scripts/loss_milestones.py runs/04/*.h5 --threshold 1e-6 --at 1,2,5,10,100,1000
prints, per history: method, iterations until L ≤ threshold (or '>' the run length), and the
loss after each iteration count in --at.
"""
import argparse, json, sys
import h5py, numpy as np

p = argparse.ArgumentParser()
p.add_argument("histories", nargs="+")
p.add_argument("--threshold", type=float, default=1e-6)
p.add_argument("--at", default="1,2,5,10,100,1000")
a = p.parse_args()
at = [int(v) for v in a.at.split(",")]
print("%-34s %-6s %10s  " % ("history", "method", "iters≤%g" % a.threshold) + "  ".join("L(%d)" % k for k in at))
for path in a.histories:
    with h5py.File(path, "r") as f:
        info = json.loads(f.attrs["training"])
        step = f["metrics/step"][:]
        loss = f["metrics/loss"][:]
    iters = step - 1                      # loss row s holds L(θ_{s-1})
    hit = np.nonzero(loss <= a.threshold)[0]
    k = "%d" % iters[hit[0]] if len(hit) else ">%d" % iters[-1]
    vals = []
    for t in at:
        j = np.nonzero(iters == t)[0]
        vals.append("%.3g" % loss[j[0]] if len(j) else "–")
    print("%-34s %-6s %10s  " % (path.split("/")[-1], info["method"], k) + "  ".join(vals))
