#!/usr/bin/env python3
"""PyTorch peer of `lpom surf --method surfing` for timing (bench/surf_bench.sh).

The same loop as Sources/Surfing/Inverter.swift: x* and x_init ~ U[-1, 1]^k drawn exactly as lpom draws them
(SplitMix64 streams, so both sides invert the same trials), y = G_final(x*);
for every snapshot, load its parameters and batch-norm buffers (eval mode), reset Adam(lr 0.01,
0.9, 0.999, 1e-8) on x, take a fixed number of steps on f = 1/2 sum_i ||G(x_i) - y_i||^2 (the sum
over trials keeps each trial's gradient its own), clip x to [-1, 1] after every step. The weights
have requires_grad = False (only the input gradient is computed, like the frozen Swift stores).
--batch-size 1 runs the trials one at a time. Prints one JSON line.

Usage: torch_surf.py PAPER.npz [--trials 300] [--steps 10] [--threads 1] [--batch-size 300]
"""
import argparse
import json
import time

import numpy as np
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from lpom_history.torch_model import build_model  # noqa: E402
from splitmix64 import uniform_trials  # noqa: E402  (bench/, the script's own folder)


def generator(model):
    """The generator of a model JSON, built by the Python companion (python/lpom_history), frozen, eval mode."""
    g = build_model(model)
    g.eval()
    for p in g.parameters():
        p.requires_grad_(False)
    return g


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("npz")
    ap.add_argument("--trials", type=int, default=300)
    ap.add_argument("--steps", type=int, default=10, help="Adam steps per snapshot")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=0, help="0 = all trials at once")
    ap.add_argument("--seed", type=int, default=0, help="lpom surf's --seed: the same x* and x_init")
    ap.add_argument("--save", help="write the final x as .npy")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    z = np.load(a.npz)
    model = json.loads(str(z["model"]))
    g = generator(model)
    names = [n for n in z.files if n != "model"]
    T = z[names[0]].shape[0]
    # The .npz holds no num_batches_tracked; strict=False leaves it at 0 (unused in eval).
    snap = [{n.split("/", 1)[1]: torch.from_numpy(z[n][t]) for n in names} for t in range(T)]
    k = model["input_shape"][0]
    xs, x0 = (torch.from_numpy(v.astype(np.float32)) for v in uniform_trials(a.seed, 0, a.trials, k))
    g.load_state_dict(snap[-1], strict=False)
    with torch.no_grad():
        y = g(xs).reshape(a.trials, -1)
    b = a.batch_size or a.trials
    t0, c0 = time.perf_counter(), time.process_time()
    out = []
    for start in range(0, a.trials, b):
        x = x0[start:start + b].clone().requires_grad_(True)
        yb = y[start:start + b]
        for t in range(T):
            g.load_state_dict(snap[t], strict=False)
            opt = torch.optim.Adam([x], lr=0.01, betas=(0.9, 0.999), eps=1e-8)
            for _ in range(a.steps):
                opt.zero_grad(set_to_none=True)
                loss = 0.5 * ((g(x).reshape(x.shape[0], -1) - yb) ** 2).sum()
                loss.backward()
                opt.step()
                with torch.no_grad():
                    x.clamp_(-1, 1)
        out.append(x.detach())
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    xh = torch.cat(out)
    if a.save:
        np.save(a.save, xh.numpy())
    steps = T * a.steps * ((a.trials + b - 1) // b)
    print(json.dumps({"peer": "pytorch", "torch": torch.__version__, "threads": a.threads, "trials": a.trials, "batch": b,
                      "snapshots": T, "steps_per_snapshot": a.steps, "seconds": seconds, "cpu_seconds": cpu, "batched_steps": steps,
                      "s_per_step": seconds / steps, "s_per_trial_step": seconds / (T * a.steps * a.trials),
                      "cpu_s_per_trial_step": cpu / (T * a.steps * a.trials),
                      "mean_distance": float((xh - xs).norm(dim=1).mean())}))


if __name__ == "__main__":
    main()
