#!/usr/bin/env python3
"""How far a generator's batch-norm running statistics are from its own: at chosen snapshots of a
history, the eval-mode network with the recorded running statistics (what inversion uses) against
the same θ with the population statistics of its batches (the average batch mean and unbiased
batch variance over many training-mode batches of 128 latents x ~ U[−1, 1]^k), and, for scale,
against the previous snapshot's eval-mode network.

The running statistics are an exponential average over the last steps' batches, so they lag θ and
carry the noise of a few batches. The surfing authors' released trainers update them twice per
step (decay 0.9 twice: r ← 0.81 r + 0.19 s), lpom once (r ← 0.9 r + 0.1 s): half the lag, more
noise. This measures the size of what that choice can change, on a generator lpom trained; the
answer to whether it changes inversion is the sweep's unit `cell wgan 5 1f2`.

    # with a Python that has torch, h5py and numpy (the README's venv):
    python scripts/surf_bn_lag.py runs/paper/gen/wgan-k5-g2.h5 [--snapshots 1,5,25,50,99,100]

Prints per snapshot: RMS over 1,024 latents and 784 pixels of G_recorded(x) − G_population(x);
RMS of G_recorded(x) − G_previous snapshot(x); the relative distance of the running mean and
variance from the population's, over all batch-norm layers; and RMS of G_recorded(x) − the same
network with TF's running variance. TF's `batch_norm` (non-fused, the dense layers) averages the
biased batch variance, lpom and PyTorch the unbiased one: the running average is linear in the
batch statistics, so TF's is exactly lpom's × (n − 1)/n on the dense layers (n = 128 rows); on the
convolutional layer n = 128·14·14 and TF's fused kernel keeps the unbiased variance, so it is left
as is. `--json FILE` writes them.
"""
import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("history")
    ap.add_argument("--snapshots", default="1,5,25,50,99,100")
    ap.add_argument("--batches", type=int, default=64, help="training-mode batches of 128 for the population statistics")
    ap.add_argument("--batch", type=int, default=128, help="the training batch (TF's biased variance: × (batch − 1)/batch)")
    ap.add_argument("--json")
    a = ap.parse_args()

    import torch
    import lpom_history as lh
    torch.set_num_threads(1)
    torch.manual_seed(0)
    h = lh.open_history(a.history)
    g = lh.build_model(h.model)
    bns = [m for m in g.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns:
        sys.exit("surf_bn_lag: %s: the generator has no batch norm" % a.history)
    k = int(h.model["input_shape"][0])
    rng = np.random.default_rng(1)
    probe = torch.from_numpy(rng.uniform(-1, 1, size=(1024, k)).astype(np.float32))
    snaps = [int(s) for s in a.snapshots.split(",")]
    if any(not 0 <= t < len(h) for t in snaps):
        sys.exit("surf_bn_lag: snapshots must be in 0 … %d" % (len(h) - 1))

    def eval_out(state):
        g.load_state_dict(state)
        g.eval()
        with torch.no_grad():
            return g(probe).reshape(len(probe), -1)

    rows = []
    for t in snaps:
        state = h.state_dict(t)
        recorded = eval_out(state)
        previous = eval_out(h.state_dict(t - 1)) if t >= 1 else None
        g.load_state_dict(state)
        saved = [(b.running_mean.clone(), b.running_var.clone()) for b in bns]
        for b in bns:
            b.reset_running_stats()
            b.momentum = None              # cumulative average over the batches below
        g.train()
        with torch.no_grad():
            for _ in range(a.batches):
                g(torch.from_numpy(rng.uniform(-1, 1, size=(128, k)).astype(np.float32)))
        g.eval()
        with torch.no_grad():
            population = g(probe).reshape(len(probe), -1)
        dm = sum(float(((b.running_mean - m) ** 2).sum()) for b, (m, _) in zip(bns, saved))
        nm = sum(float((b.running_mean ** 2).sum()) for b in bns)
        dv = sum(float(((b.running_var - v) ** 2).sum()) for b, (_, v) in zip(bns, saved))
        nv = sum(float((b.running_var ** 2).sum()) for b in bns)
        biased = dict(state)                 # TF's running variance on the dense layers
        for name, b in g.named_modules():
            if isinstance(b, torch.nn.BatchNorm1d):
                biased[name + ".running_var"] = state[name + ".running_var"] * ((a.batch - 1) / a.batch)
        tf_variance = eval_out(biased)
        row = {"snapshot": t, "step": int(h.steps[t]),
               "rms_recorded_vs_population": float(torch.sqrt(((recorded - population) ** 2).mean())),
               "rms_recorded_vs_previous_snapshot": None if previous is None else float(torch.sqrt(((recorded - previous) ** 2).mean())),
               "running_mean_relative_distance": (dm / nm) ** 0.5 if nm > 0 else None,
               "running_var_relative_distance": (dv / nv) ** 0.5,
               "rms_recorded_vs_biased_running_variance": float(torch.sqrt(((recorded - tf_variance) ** 2).mean()))}
        rows.append(row)
        print("snapshot %3d: RMS G_recorded − G_population %.4f; G_recorded − previous snapshot %s; "
              "running mean %.3f, var %.3f relative distance from the population's; TF's biased running variance %.5f"
              % (t, row["rms_recorded_vs_population"],
                 "—" if previous is None else "%.4f" % row["rms_recorded_vs_previous_snapshot"],
                 row["running_mean_relative_distance"] or 0, row["running_var_relative_distance"],
                 row["rms_recorded_vs_biased_running_variance"]), flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"history": os.path.basename(a.history), "batches": a.batches, "probe_latents": len(probe), "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
