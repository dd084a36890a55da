#!/usr/bin/env python3
"""The setting of the surfing paper's theorems (Song, Fan, Lafferty 2019, §3; after Hand and
Voroninski 2017), as a plot: on random expansive ReLU networks
    G(x) = V σ(W_d … σ(W_1 x + b_1) … + b_d),  W_i, b_i ~ N(0, 1/n_i),  V ~ N(0, 1/n),
widths n_i = ⌈ε n_{i−1}⌉ from n_0 = k and n = ⌈ε n_d⌉ rounded up to a square, the fraction of random starts from which
descent on f(x) = ½‖G(x) − G(x*)‖² (regular Adam, `lpom surf --method adam` on a one-snapshot
history; x*, x_0 ~ U[−1, 1]^k) reaches ‖x̂ − x*‖ < 0.01, against the expansivity ε. Hand and
Voroninski's landscape has one spurious critical region, near −ρ x*; the script also counts the
failures that end there (cos(x̂, x*) < −0.5), and those that found another preimage of the target
(G(x̂) = G(x*) to RMSE 10⁻³ with x̂ ≠ x*: a ReLU network this narrow is not injective).

    python3 scripts/expansivity.py                    # k = 5, d = 2, ε = 1 … 8, 10 networks × 100 starts
    python3 scripts/expansivity.py --eps 1,2,4 --nets 2 --trials 20 --steps 2000   # a quick look

Needs h5py and numpy (python3 with h5py; `bash scripts/test.sh` installs it) and a release lpom.
Resumable: each (ε, network) result is kept in OUT_DIR/ and skipped when present. Writes
OUT.json (per ε: success fraction, near −ρx* fraction, networks, trials, widths, seconds) and an
SVG plot.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np


def widths(k, depth, eps):
    n = [k]
    for _ in range(depth):
        n.append(int(math.ceil(eps * n[-1])))
    # The output n = ⌈ε n_d⌉ rounded up to a square number of pixels (lpom surf inverts image
    # generators: a square image larger than the input).
    side = int(math.ceil(math.sqrt(max(eps * n[-1], k + 1))))
    return n + [side * side]  # k, n_1 … n_d, n


def write_history(path, k, depth, eps, seed):
    """A one-snapshot lpom history of a random expansive ReLU network (the theorem's G)."""
    rng = np.random.default_rng(seed)
    n = widths(k, depth, eps)
    layers, theta = [], {}
    for i in range(depth + 1):
        name = "layers.%d" % (2 * i)
        layers.append({"name": name, "type": "dense", "in": n[i], "out": n[i + 1]})
        sd = 1 / math.sqrt(n[i + 1])
        theta[name + ".weight"] = rng.normal(0, sd, size=(n[i + 1], n[i]))
        # b_i ~ N(0, 1/n_i) in the hidden layers; the linear output V has no bias.
        theta[name + ".bias"] = rng.normal(0, sd, size=n[i + 1]) if i < depth else np.zeros(n[i + 1])
        if i < depth:
            layers.append({"type": "relu"})
    model = {"input_shape": [k], "layers": layers}
    with h5py.File(path, "w", libver=("v110", "v110")) as f:
        f.attrs["format"] = "lpom-history"
        f.attrs["format_version"] = 1
        f.attrs["created_by"] = "scripts/expansivity.py (h5py %s)" % h5py.version.version
        f.attrs["model"] = json.dumps(model)
        f.attrs["training"] = json.dumps({"method": "gan", "note": "random expansive ReLU network, eps %g, seed %d" % (eps, seed)})
        g = f.create_group("theta")
        for name, v in theta.items():
            v = v.astype(np.float32)[None]
            g.create_dataset(name, data=v, maxshape=(None,) + v.shape[1:], chunks=(1,) + v.shape[1:])
        f.create_group("buffers")
        f.create_dataset("snapshot_step", data=np.zeros(1, dtype=np.int64), maxshape=(None,), chunks=(16,))
        m = f.create_group("metrics")
        m.create_dataset("step", data=np.zeros(0, dtype=np.int64), maxshape=(None,), chunks=(16,))
    return n


def one(args, eps, seed, tmp):
    h = os.path.join(tmp, "g.h5")
    save = os.path.join(tmp, "found.h5")
    for p in (h, save):
        if os.path.exists(p):
            os.remove(p)
    n = write_history(h, args.k, args.depth, eps, seed)
    t0 = time.time()
    out = subprocess.run([args.lpom, "surf", h, "--method", "adam", "--trials", str(args.trials), "--steps", str(args.steps),
                          "--seed", str(seed), "--threads", "1", "--json", "--quiet", "--save", save],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("expansivity: lpom surf failed: " + out.stderr.strip().splitlines()[-1])
    r = json.loads(out.stdout)
    with h5py.File(save, "r") as f:
        names = list(f.keys())
        xhat = f["x"][...] if "x" in f else f[[n for n in names if n.startswith("x_hat") or n == "latents"][0]][...]
        xstar = f["x_star"][...]
        rmse = f["rmse"][...]
    ok = np.array([c == "1" for c in r["successes"]])
    cos = np.sum(xhat * xstar, 1) / (np.linalg.norm(xhat, axis=1) * np.linalg.norm(xstar, axis=1) + 1e-30)
    return {"eps": eps, "seed": seed, "widths": n, "trials": len(ok), "successes": int(ok.sum()),
            "near_minus_x_star": int(np.sum(~ok & (cos < -0.5))),
            "other_preimage": int(np.sum(~ok & (rmse < args.match))), "seconds": time.time() - t0,
            "mean_iterations": r["mean_iterations"]}


def svg(path, rows):
    W, H, L, R, T, B = 560, 400, 60, 20, 30, 110
    es = [r["eps"] for r in rows]
    lo, hi = math.log(min(es)), math.log(max(es))
    X = lambda e: L + (W - L - R) * ((math.log(e) - lo) / (hi - lo) if hi > lo else 0.5)
    Y = lambda f: T + (H - T - B) * (1 - f)
    o = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">' % (W, H),
         '<rect width="100%" height="100%" fill="white"/>']
    for f in (0, 0.25, 0.5, 0.75, 1):
        o.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>' % (L, W - R, Y(f), Y(f)))
        o.append('<text x="%d" y="%.1f" text-anchor="end">%d%%</text>' % (L - 6, Y(f) + 4, 100 * f))
    for e in es:
        o.append('<text x="%.1f" y="%d" text-anchor="middle">%g</text>' % (X(e), H - B + 18, e))
    o.append('<text x="%d" y="%d" text-anchor="middle">expansivity ε (each layer ⌈ε × the previous⌉; log scale)</text>' % ((L + W - R) / 2, H - B + 38))
    o.append('<text x="%d" y="18">fraction of random starts</text>' % L)
    for key, colour, label in (("success", "#1f77b4", "reaches x* (‖x̂ − x*‖ < 0.01)"),
                               ("other_preimage", "#2ca02c", "another preimage: G(x̂) = G(x*), x̂ ≠ x*"),
                               ("near", "#d62728", "ends near −ρx* (cos < −0.5)")):
        pts = [(X(r["eps"]), Y(r[key])) for r in rows]
        o.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' % (colour, " ".join("%.1f,%.1f" % p for p in pts)))
        for x, y in pts:
            o.append('<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>' % (x, y, colour))
        ly = H - B + 62 + 16 * ["success", "other_preimage", "near"].index(key)
        o.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2"/>' % (L, L + 20, ly - 4, ly - 4, colour))
        o.append('<text x="%d" y="%d">%s</text>' % (L + 25, ly, label.replace("&", "&amp;").replace("<", "&lt;")))
    o.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(o))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--depth", type=int, default=2, help="hidden ReLU layers d")
    ap.add_argument("--eps", default="1,1.25,1.5,2,2.5,3,4,6,8")
    ap.add_argument("--nets", type=int, default=10, help="random networks per ε")
    ap.add_argument("--trials", type=int, default=100, help="random (x*, x_0) pairs per network")
    ap.add_argument("--steps", type=int, default=20000, help="Adam steps (lpom surf --steps)")
    ap.add_argument("--match", type=float, default=1e-3,
                    help="a failure whose per-pixel RMSE ‖G(x̂) − G(x*)‖/√n is below this found another preimage of the target (G not injective there)")
    ap.add_argument("--lpom", default=".build/release/lpom")
    ap.add_argument("--out", default="notebooks-md/03-results/expansivity.json")
    ap.add_argument("--plot", default="notebooks-md/03-expansivity.svg")
    ap.add_argument("--work", default="runs/expansivity", help="per-(ε, network) results, for resuming")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    eps = [float(e) for e in args.eps.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for e in eps:
            runs = []
            for s in range(1, args.nets + 1):
                keep = os.path.join(args.work, "k%d-d%d-e%g-s%d-t%d-n%d.json" % (args.k, args.depth, e, s, args.trials, args.steps))
                if os.path.exists(keep):
                    runs.append(json.load(open(keep)))
                    continue
                r = one(args, e, s, tmp)
                json.dump(r, open(keep, "w"))
                runs.append(r)
            t = sum(r["trials"] for r in runs)
            row = {"eps": e, "widths": runs[0]["widths"], "networks": len(runs), "trials": t,
                   "success": sum(r["successes"] for r in runs) / t,
                   "near": sum(r["near_minus_x_star"] for r in runs) / t,
                   "other_preimage": sum(r["other_preimage"] for r in runs) / t,
                   "per_network_success": [r["successes"] / r["trials"] for r in runs],
                   "seconds": sum(r["seconds"] for r in runs)}
            rows.append(row)
            print("ε %-4g widths %-20s success %5.1f%%  near −ρx* %5.1f%%  other preimage %5.1f%%  per network %s  (%.0f s)" % (
                e, "-".join(map(str, row["widths"])), 100 * row["success"], 100 * row["near"], 100 * row["other_preimage"],
                " ".join("%.0f" % (100 * p) for p in row["per_network_success"]), row["seconds"]), flush=True)
    meta = {"k": args.k, "depth": args.depth, "steps": args.steps, "optimizer": "regular Adam, lr 0.01 (lpom surf --method adam)",
            "command": "python3 scripts/expansivity.py " + " ".join(sys.argv[1:]), "rows": rows}
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    json.dump(meta, open(args.out, "w"), indent=1)
    svg(args.plot, rows)
    print("wrote %s and %s" % (args.out, args.plot))


if __name__ == "__main__":
    main()
