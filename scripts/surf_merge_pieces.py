#!/usr/bin/env python3
"""Merges the pieces of one `lpom surf` run split by --trial-range FROM:TO into the JSON the whole
run would have printed (`lpom surf --json`): the per-trial results in trial order, and every
summary recomputed from them as lpom computes it (SurfSummary in Sources/lpom/SurfCommand.swift).

    python3 scripts/surf_merge_pieces.py OUT.json PIECE.json [PIECE.json ...]

The pieces must be the same run — every setting equal (history, method, seed, trials drawn,
schedule, budgets, …) — and together cover trials 0 … N−1 exactly once, N being the --trials they
were drawn from; otherwise the script names the first problem and exits with status 2, writing
nothing. Times are summed (`seconds`, `cpu_seconds`: the CPU the whole run took, not its wall
time on one machine); `pieces` lists each piece's range and seconds.
"""
import json
import math
import os
import sys

# Fields a piece computes from its own trials (recomputed below) or its own run; every other
# field must be equal in all pieces.
PER_PIECE = {"trials", "trial_range", "results", "seconds", "cpu_seconds", "mean_iterations", "median_iterations",
             "mean_final_iterations", "mean_rmse", "median_rmse", "mean_loss", "total_steps", "successes",
             "mean_successful_iterations", "success_rate", "median_distance", "mean_pieces", "reference_adam",
             "seconds_before_continued", "cpu_seconds_before_continued", "denormals"}


def fail(msg):
    print(f"surf_merge_pieces: {msg}", file=sys.stderr)
    sys.exit(2)


def mean(v):
    return sum(v) / len(v) if v else None


def median(v):
    s = sorted(v)
    if not s:
        return None
    n = len(s)
    return s[n // 2] if n % 2 == 1 else (s[n // 2 - 1] + s[n // 2]) / 2


def merge(pieces):
    ranges = []
    for name, p in pieces:
        r = p.get("trial_range")
        if not (isinstance(r, list) and len(r) == 2) or "trials_drawn" not in p:
            fail(f"{name} has no trial_range: not a piece of a --trial-range run")
        if len(p.get("results", [])) != r[1] - r[0]:
            fail(f"{name}: {len(p.get('results', []))} results for trials {r[0]}:{r[1]}")
        ranges.append((r[0], r[1], name, p))
    ranges.sort(key=lambda t: t[0])
    first = ranges[0][3]
    for a, b, name, p in ranges[1:]:
        for k in set(first) | set(p):
            if k not in PER_PIECE and first.get(k) != p.get(k):
                fail(f"{name} differs from {ranges[0][2]} in {k!r}: {p.get(k)!r} vs {first.get(k)!r}")
    expect = 0
    for a, b, name, _ in ranges:
        if a != expect:
            fail(f"trials {expect}:{a} are missing" if a > expect else f"{name} overlaps the previous piece at trial {a}")
        expect = b
    results = [t for _, _, _, p in ranges for t in p["results"]]
    out = {k: v for k, v in first.items() if k not in PER_PIECE}
    it = [t["iterations"] for t in results]
    ok = [t["success"] for t in results if "success" in t]
    dist = [t["distance"] for t in results if t.get("distance") is not None]
    rmse = [t["rmse"] for t in results if t.get("rmse") is not None]
    loss = [t["loss"] for t in results if t.get("loss") is not None]
    solved = [t["iterations"] for t in results if t.get("success") is True]
    out.update({
        "trials": len(results), "trial_range": None,
        "seconds": sum(p["seconds"] for _, _, _, p in ranges),
        "cpu_seconds": sum(p["cpu_seconds"] for _, _, _, p in ranges),
        "mean_iterations": mean(it), "median_iterations": median(it),
        "mean_final_iterations": mean([t["final_iterations"] for t in results]),
        "mean_rmse": mean(rmse), "median_rmse": median(rmse), "mean_loss": mean(loss),
        "total_steps": sum(it),
        "successes": "".join("1" if t.get("success") is True else "0" for t in results),
        "mean_successful_iterations": mean(solved),
        "success_rate": (sum(ok) / len(ok)) if ok else None,
        "median_distance": median(dist),
        "pieces": [{"trial_range": [a, b], "seconds": p["seconds"]} for a, b, _, p in ranges],
        "results": results,
    })
    # How each piece's lpom treated denormal floats (pieces from before 2026-12-06 kept them: "ieee").
    out["denormals"] = ", ".join(sorted({p.get("denormals", "ieee") for _, _, _, p in ranges}))
    if "mean_pieces" in first:
        out["mean_pieces"] = mean([t.get("pieces", 0) for t in results])
    if expect != first["trials_drawn"]:
        fail(f"the pieces cover trials 0:{expect}, the run drew {first['trials_drawn']}")
    return out


def main():
    if len(sys.argv) < 3:
        fail("usage: surf_merge_pieces.py OUT.json PIECE.json [PIECE.json ...]")
    out_path, names = sys.argv[1], sys.argv[2:]
    pieces = []
    for n in names:
        try:
            with open(n) as f:
                pieces.append((n, json.load(f)))
        except (OSError, ValueError) as e:
            fail(f"cannot read {n}: {e}")
    merged = merge(pieces)
    tmp = out_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(merged, f, allow_nan=False, default=lambda x: None)
    os.replace(tmp, out_path)
    print(f"{out_path}: {merged['trials']} trials from {len(pieces)} pieces, success rate {merged['success_rate']}")


if __name__ == "__main__":
    main()
