#!/usr/bin/env python3
"""A stand-in for the lpom binary, for testing scripts/surf_paper_table.sh (the Table-1 sweep)
without hours of compute: `train` writes a small file in place of a history, `surf` prints the
JSON `lpom surf --json` prints, with made-up but deterministic per-trial results. Every call is
appended to $STUB_LOG as one JSON line (argv, and whether a checkpoint was there to continue).

What the stub keeps of lpom, because the sweep relies on it:
- a "generator" is a function of what trained it: model, latent, seed, --generator-forwards, --threads, the BLAS kernels
  ($OPENBLAS_CORETYPE) and $STUB_SALT (so a generator trained again differently is another one);
- a trial's result is a function of the generator, the seed, the trial index and the method's
  settings, never of --trial-range or the budget beyond the step it stops at: regular Adam given
  more steps keeps the shorter run as its prefix (what scripts/surf_cap.py and the retrain check
  rest on);
- `inspect HISTORY --json`: the final network's digest, a function of the generator;
- --checkpoint DIR: split.json (the workers) written at the start, a state file "every
  --checkpoint-every steps", everything removed at the end unless --keep-checkpoint; a run started
  with a checkpoint of another worker count is refused, as lpom refuses it.
- --save FILE: refused when FILE exists; written (HDF5: targets, generated, rmse) at the end.
$STUB_FAIL: a substring of the command line; a call containing it fails with one line on stderr.
"""
import hashlib
import json
import os
import shutil
import sys


def log(entry):
    path = os.environ.get("STUB_LOG")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(entry) + "\n")


def opts(argv):
    """--name value pairs and bare flags (flags: the next token starts with -- or there is none)."""
    o, i = {}, 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--"):
            if i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                o[a[2:]] = argv[i + 1]
                i += 2
                continue
            o[a[2:]] = True
        i += 1
    return o


def u(*parts):
    """A uniform number in [0, 1) from the parts."""
    h = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(h[:8], "big") / 2.0 ** 64


def train(argv, o):
    if "resume" in o:
        part = o["resume"]
        if not os.path.isfile(part):
            sys.exit(f"lpom: error: no history to resume at {part}")
        with open(part, "a") as f:
            f.write(" resumed")
    else:
        content = "stub generator model={} latent={} seed={} forwards={} threads={} kernels={} salt={}".format(
            o.get("model"), o.get("latent"), o.get("seed"), o.get("generator-forwards", "1"), o.get("threads"),
            os.environ.get("OPENBLAS_CORETYPE", ""), os.environ.get("STUB_SALT", ""))
        with open(o["history"], "w") as f:
            f.write(content)
    if "sample-grid" in o:
        open(o["sample-grid"], "w").close()


def trial(gen, o, seed, i):
    """(iterations, final_iterations, success, distance) of trial i."""
    method = o.get("method", "adam")
    steps = int(o.get("steps", 60000))
    key = (gen, seed, i, o.get("measurements", "none"))
    if method == "adam":
        # k = 20 generators are easier for regular Adam here, so that validation chooses R = 1 there
        solvable = u(*key, "adam") < (0.95 if "latent=20 " in gen else 0.6)
        t = 50 + int(u(*key, "adam-t") * 4000)
        if solvable and t <= steps:
            return t, t, True, 0.005
        return steps, steps, False, 0.4 + u(*key, "d")
    if method == "restarts":
        r, each = int(o.get("restarts", 10)), int(o.get("restart-steps", 1000))
        if r == 1:      # as lpom: one restart is regular Adam cut at its steps
            return trial(gen, dict(o, method="adam", steps=str(each)), seed, i)
        used = 0
        for j in range(r):
            t = 50 + int(u(*key, "restart", j) * 4000)
            if u(*key, "restart-ok", j) < 0.5 and t <= each:
                return used + t, used + t, True, 0.005
            used += each
        return used, used, False, 0.3 + u(*key, "d")
    # surfing (history, line or fewer snapshots): the pre-final budget, then the final network
    b = int(o.get("prefinal-budget", 600)) if str(o.get("prefinal-budget", "")).isdigit() else 600
    pre = max(0, b - 5)     # lpom's rounded schedule spends a few steps less than B
    p = 0.85 if o.get("path") != "linear" and "snapshots" not in o else 0.65
    if u(*key, "surf", o.get("path"), o.get("snapshots")) < p:
        t = 20 + int(u(*key, "surf-t") * 500)
        return pre + t, t, True, 0.005
    return pre + steps, steps, False, 0.5 + u(*key, "d")


def surf(argv, o):
    hist = argv[0]
    if not os.path.isfile(hist):
        sys.exit(f"lpom: error: no history at {hist}")
    gen = open(hist).read()
    n, seed = int(o["trials"]), int(o.get("seed", 1))
    a, b = map(int, o.get("trial-range", f"0:{n}").split(":"))
    threads = int(o.get("threads", 1))
    ck, resumed = o.get("checkpoint"), None
    if ck:
        if os.path.isfile(os.path.join(ck, "split.json")):
            w = json.load(open(os.path.join(ck, "split.json")))["workers"]
            if w != threads:
                sys.exit(f"lpom: error: the checkpoint in {ck} was saved with {w} workers; run it with --threads {w}")
            state = os.path.join(ck, "state.json")
            resumed = json.load(open(state))["step"] if os.path.isfile(state) else 0
        os.makedirs(ck, exist_ok=True)
        json.dump({"workers": threads}, open(os.path.join(ck, "split.json"), "w"))
        json.dump({"step": int(o.get("steps", 60000))}, open(os.path.join(ck, "state.json"), "w"))
    save = o.get("save")
    if save and os.path.exists(save):       # as lpom: nothing is overwritten
        sys.exit(f"lpom: error: --save {save} exists; choose a new file (nothing is overwritten)")
    log({"argv": ["surf"] + argv, "resumed_from": resumed})
    results = []
    images = o.get("target") == "test-images"   # no x*: no success, no distance (as lpom)
    for i in range(a, b):
        it, fin, ok, dist = trial(gen, o, seed, i)
        t = {"iterations": it, "final_iterations": fin, "rmse": dist / 28, "loss": dist * dist / 2, "x": [0.0]}
        if not images:
            t.update(success=ok, distance=dist)
        results.append(t)
    it = [t["iterations"] for t in results]
    solved = [t["iterations"] for t in results if t.get("success")]
    rmse = sorted(t["rmse"] for t in results)
    method = o.get("method", "adam")
    out = {"history": hist, "method": method, "seed": seed, "protocol": o.get("protocol"),
           "final_steps": int(o.get("steps", 60000)), "snapshots_used": 1 if method in ("adam", "restarts") else 99,
           "trials_drawn": n, "trials": b - a, "trial_range": [a, b] if "trial-range" in o else None,
           "measurements": int(o["measurements"]) if "measurements" in o else None,
           "seconds": 1.0, "cpu_seconds": 1.0, "results": results,
           "mean_iterations": sum(it) / len(it), "median_iterations": sorted(it)[len(it) // 2],
           "mean_final_iterations": sum(t["final_iterations"] for t in results) / len(results),
           "mean_rmse": sum(rmse) / len(rmse), "median_rmse": rmse[len(rmse) // 2], "mean_loss": None, "total_steps": sum(it),
           "successes": "".join("1" if t.get("success") else "0" for t in results),
           "mean_successful_iterations": sum(solved) / len(solved) if solved else None,
           "success_rate": None if images else len(solved) / len(results), "median_distance": None}
    if method == "surfing":
        b_ = o.get("prefinal-budget", "600")
        out["prefinal_budget"] = max(0, int(b_) - 5) if str(b_).isdigit() else 595
    if save:
        write_save(save, gen, seed, a, results)
    if ck and "keep-checkpoint" not in o:
        shutil.rmtree(ck)
    json.dump(out, sys.stdout)


def write_save(path, gen, seed, a, results):
    """--save: targets (a function of the seed and the trial, 4×4 pixels here), what was found
    (a function of the generator too) and per-trial RMSE, as lpom's HDF5 names them; written at
    the run's end, as lpom writes it. Nothing without h5py (the sweep then has no picture to draw)."""
    try:
        import h5py
    except ImportError:
        return
    n = len(results)
    targets = [[u(seed, a + i, "pixel", j) for j in range(16)] for i in range(n)]
    found = [[u(gen, seed, a + i, "found", j) for j in range(16)] for i in range(n)]
    with h5py.File(path, "w") as f:
        f["targets"], f["generated"] = targets, found
        f["rmse"] = [t["rmse"] for t in results]
        f["x_hat"] = [t["x"] for t in results]


def main():
    argv = sys.argv[1:]
    line = " ".join(argv)
    fail = os.environ.get("STUB_FAIL")
    if fail and fail in line:
        log({"argv": argv, "failed": True})
        sys.exit("lpom: error: stub failure (STUB_FAIL)")
    if not argv:
        sys.exit("lpom: error: no command")
    cmd, rest = argv[0], argv[1:]
    o = opts(rest)
    if cmd == "train":
        log({"argv": argv})
        train(rest, o)
    elif cmd == "surf":
        surf(rest, o)
    elif cmd == "inspect":
        log({"argv": argv})
        # the final network's digest: the generator's identity (a resumed training ends where an
        # uninterrupted one would)
        gen = open(rest[0]).read().replace(" resumed", "")
        json.dump({"history": rest[0], "final_network_digest": hashlib.sha256(gen.encode()).hexdigest()[:16]}, sys.stdout)
    else:
        sys.exit(f"lpom: error: the stub knows no command {cmd!r}")


if __name__ == "__main__":
    main()
