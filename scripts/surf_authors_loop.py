#!/usr/bin/env python3
"""An independent check of `lpom surf --protocol paper`: the authors' inversion loop, written again
here in PyTorch + NumPy from the semantics of their released GD_surfing.py / GD_regular.py
(github jdlafferty/surfing, codes/Fashion-MNIST/<MODEL>/), run on an lpom history for the same
trials as an lpom run, trial by trial against that run's full JSON.

What it shares with lpom: nothing but the history file (read with python/lpom_history, the model
rebuilt in PyTorch), lpom's trial draws (x*, x_init from SplitMix64 streams, bench/splitmix64.py)
and the settings it reads from the lpom JSON (seed, step sizes, pre-final budget, final steps).
What it does the authors' way, not lpom's:
  - the objective f = sum (G(x) - y)^2 (theirs; lpom minimises half of it), gradient in float32
    by autograd, the generator in eval mode;
  - Adam as their NumPy lines: float64 m, v, bias corrections 1 - b^(i+1) with i the step on the
    current network, x <- clip(x - lr m_hat / (sqrt(v_hat) + 1e-8), -1, 1), state reset per network;
  - surfing: checkpoints 1 ... 99 (inter, 2 inter, ...) with np.round(grid / sum(grid) * B) steps
    each, grid = [4000]*2 + [2000]*4 + [1000]*8 + [500]*16 + [250]*32 + [125]*37, then up to
    final_steps on the final network, stopping a trial when ||x - x*|| < tolerance there;
    regular Adam: up to final_steps on the final network with the same stop.
Rows of the batch are trials; each row's gradient is its own (eval-mode batch norm), so the batch
is the authors' one-trial loop run side by side. Iterations count steps (GD_regular.py reports the
loop index, one less).

  # with a Python that has torch, h5py and numpy:
  python3 scripts/surf_authors_loop.py runs/paper/surf/dcgan-k5-g1-s1-surfing.json \\
      --trials 0:60 --out notebooks-md/03-results/authors-loop/dcgan-k5-g1-s1-surfing-0-60.json

Prints the agreement: successes each way, trials solved by one only, mean iterations of the trials
both solved and the largest difference of a trial's iterations.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "bench"))
from splitmix64 import uniform_trials  # noqa: E402

GRID = [4000] * 2 + [2000] * 4 + [1000] * 8 + [500] * 16 + [250] * 32 + [125] * 37


def fail(msg):
    print("surf_authors_loop: " + msg, file=sys.stderr)
    sys.exit(2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("lpom_json", help="the full JSON of an lpom surf --protocol paper run (runs/paper/surf/...)")
    ap.add_argument("--trials", default="0:40", help="FROM:TO of that run's trials (default 0:40)")
    ap.add_argument("--history", help="the generator history (default: the one the JSON names)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--prefinal-budget", type=int,
                    help="surfing: the --prefinal-budget B the lpom run was given (default: read from its command "
                         "in notebooks-md/03-results/<same name>)")
    ap.add_argument("--out", help="write the per-trial results and the agreement as JSON")
    a = ap.parse_args()

    import torch
    import lpom_history as lh
    torch.set_num_threads(a.threads)

    run = json.load(open(a.lpom_json))
    method = run.get("method")
    if run.get("protocol") != "paper" or method not in ("surfing", "adam"):
        fail("%s: not an lpom surf --protocol paper run of surfing or regular Adam" % a.lpom_json)
    if run.get("prior") != "uniform" or run.get("target") != "in-range" or run.get("measurements") is not None:
        fail("%s: only the GANs' uniform in-range trials without measurements are checked here" % a.lpom_json)
    lo, hi = (int(v) for v in a.trials.split(":"))
    if not 0 <= lo < hi <= len(run["results"]):
        fail("--trials %s outside the run's %d trials" % (a.trials, len(run["results"])))
    k, seed, tol = int(run["latent"]), int(run["seed"]), float(run["tolerance"])
    final_steps, final_lr, lr = int(run["final_steps"]), float(run["final_learning_rate"]), float(run["learning_rate"])

    h = lh.open_history(a.history or run["history"])
    if len(h) != 101:
        fail("%s: %d snapshots, the protocol's histories have 101 (theta_0 and 100 checkpoints)" % (h.path, len(h)))
    g = lh.build_model(h.model)
    g.eval()
    for p in g.parameters():
        p.requires_grad_(False)

    def load(t):
        g.load_state_dict(h.state_dict(t))

    xs, x0 = uniform_trials(seed, lo, hi, k)
    load(100)
    with torch.no_grad():
        y = g(torch.from_numpy(xs.astype(np.float32))).reshape(hi - lo, -1)

    n = hi - lo
    x = x0.copy()
    steps = np.zeros(n, dtype=np.int64)
    done = np.zeros(n, dtype=bool)
    if method == "surfing":
        # The budget B given to lpom (--prefinal-budget B); the JSON's prefinal_budget is the sum of
        # the rounded schedule, which may differ from B by a few steps (504 -> 499).
        budget = a.prefinal_budget
        if budget is None:
            small = os.path.join(HERE, "..", "notebooks-md", "03-results", os.path.basename(a.lpom_json))
            words = json.load(open(small)).get("command", "").split() if os.path.exists(small) else []
            if "--prefinal-budget" not in words:
                fail("pass --prefinal-budget B: the B this surfing run was given (its command in %s has none)" % small)
            budget = int(words[words.index("--prefinal-budget") + 1])
        grid = np.array(GRID, dtype=float)
        schedule = [int(s) for s in np.round(grid / grid.sum() * budget)]
        if sum(schedule) != int(run["prefinal_budget"]):
            fail("budget %d gives %d pre-final steps, the run took %d: not this run's budget"
                 % (budget, sum(schedule), int(run["prefinal_budget"])))
        networks = [(t, s, lr, False) for t, s in zip(range(1, 100), schedule)] + [(100, final_steps, final_lr, True)]
    else:
        networks = [(100, final_steps, final_lr, True)]

    t0, c0 = time.perf_counter(), time.process_time()
    for t, count, step, final in networks:
        load(t)
        rows = np.flatnonzero(~done)
        m, v = np.zeros((len(rows), k)), np.zeros((len(rows), k))
        for i in range(count):
            if len(rows) == 0:
                break
            z = torch.from_numpy(x[rows].astype(np.float32)).requires_grad_(True)
            f = ((g(z).reshape(len(rows), -1) - y[rows]) ** 2).sum()
            grad = torch.autograd.grad(f, z)[0].numpy().astype(np.float64)
            m = 0.9 * m + 0.1 * grad
            v = 0.999 * v + 0.001 * grad ** 2
            m_hat, v_hat = m / (1 - 0.9 ** (i + 1)), v / (1 - 0.999 ** (i + 1))
            x[rows] = np.clip(x[rows] - step * m_hat / (np.sqrt(v_hat) + 1e-8), -1, 1)
            steps[rows] += 1
            if final and (i + 1) % 5000 == 0:
                print("  final network: step %d of %d, %d trials still descending, %.0f s"
                      % (i + 1, count, len(rows), time.perf_counter() - t0), file=sys.stderr, flush=True)
            if final:
                hit = np.linalg.norm(x[rows] - xs[rows], axis=1) < tol
                if hit.any():
                    done[rows[hit]] = True
                    keep = ~hit
                    rows, m, v = rows[keep], m[keep], v[keep]
        print("network %d done (%d steps, %d trials still descending), %.0f s" % (t, count, int((~done).sum()), time.perf_counter() - t0),
              file=sys.stderr, flush=True)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0

    dist = np.linalg.norm(x - xs, axis=1)
    ours = [{"trial": lo + r, "success": bool(dist[r] < tol), "iterations": int(steps[r]), "distance": float(dist[r])}
            for r in range(n)]
    theirs = run["results"][lo:hi]
    both = [r for r in range(n) if ours[r]["success"] and theirs[r]["success"]]
    only_this = sum(1 for r in range(n) if ours[r]["success"] and not theirs[r]["success"])
    only_lpom = sum(1 for r in range(n) if theirs[r]["success"] and not ours[r]["success"])
    diffs = [ours[r]["iterations"] - int(theirs[r]["iterations"]) for r in both]
    summary = {
        "lpom_json": a.lpom_json, "history": h.path, "method": method, "trials": [lo, hi], "seed": seed,
        "successes_this_loop": sum(o["success"] for o in ours), "successes_lpom": sum(bool(r["success"]) for r in theirs),
        "solved_by_this_loop_only": only_this, "solved_by_lpom_only": only_lpom,
        "mean_iterations_both_solved_this_loop": float(np.mean([ours[r]["iterations"] for r in both])) if both else None,
        "mean_iterations_both_solved_lpom": float(np.mean([int(theirs[r]["iterations"]) for r in both])) if both else None,
        "largest_iteration_difference": int(max(map(abs, diffs))) if diffs else None,
        "same_iterations": sum(1 for d in diffs if d == 0),
        "prefinal_steps": int(sum(c for t, c, _, f in networks if not f)),
        "seconds": seconds, "cpu_seconds": cpu, "torch": torch.__version__,
        "command": " ".join(["python3", "scripts/surf_authors_loop.py"] + sys.argv[1:]),
    }
    print(json.dumps(summary, indent=1))
    if a.out:
        os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
        with open(a.out, "w") as fh:
            json.dump(dict(summary, results=ours), fh, indent=1)


if __name__ == "__main__":
    main()
