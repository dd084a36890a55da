#!/usr/bin/env python3
"""Regular Adam with a smaller budget, read off a longer run (`lpom surf --json` output, or a
small JSON of scripts/surf_paper_table.sh):

    python3 scripts/surf_cap.py LONG.json CAP OUT.json

Why this is exact. In regular Adam a trial's descent does not depend on the step budget, and the
rows of the batch at each step are the trials not yet solved, the same in a run of CAP steps and
in a longer one; so the first CAP steps of the long run *are* the CAP-step run, to the last bit
(`InverterTests.testALongerBudgetKeepsTheShorterRunAsItsPrefix`, which fails if anything in a
descent depends on the budget). A trial solved at step t ≤ CAP is solved at t in both runs; a
trial not solved by CAP fails the CAP-step run after CAP steps.

One run of 60,000 + B steps thus gives both the authors' regular Adam (60,000 steps) and regular
Adam given surfing's whole budget (B' + 60,000 steps, for any pre-final budget B' ≤ B), instead of
two runs that repeat the same 60,000 steps.

What the long run cannot tell: where a trial still running at CAP was then (its distance, loss and
RMSE at CAP). Those are null in OUT, and so are the summaries over them (median distance, mean
RMSE and loss) unless every trial had ended by CAP. `run_seconds` is the long run's, marked by
`derived_from`. Standard library only; exits 2 with one line on bad input, writing nothing.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from surf_merge_pieces import mean, median  # noqa: E402  (the merge's summaries, computed as lpom does)


def fail(msg):
    print(f"surf_cap: {msg}", file=sys.stderr)
    sys.exit(2)


def cap_run(d, cap, src):
    name = os.path.basename(src)
    if d.get("method") != "adam" or d.get("snapshots_used") != 1:
        fail(f"{name} is not a regular-Adam run (method {d.get('method')!r}, {d.get('snapshots_used')} snapshots)")
    steps = d.get("final_steps")
    if not isinstance(steps, int) or not 0 < cap <= steps:
        fail(f"cap {cap} is not within the run's {steps} steps")
    if isinstance(d.get("results"), list):     # lpom surf --json's own output: per-trial rows
        d = dict(d)
        r = d.pop("results")
        d["iterations"] = [t.get("iterations") for t in r]
        d["distances"] = [t.get("distance") for t in r]
    its, dist, ok = d.get("iterations"), d.get("distances"), d.get("successes")
    if not (isinstance(its, list) and isinstance(dist, list) and isinstance(ok, str) and len(its) == len(dist) == len(ok) == d.get("trials")):
        fail(f"{name} has no per-trial iterations, distances and successes for its {d.get('trials')} trials")
    out = {k: v for k, v in d.items() if k not in ("iterations", "distances", "successes")}
    succ, new_its, new_dist = [], [], []
    for t, dd, s in zip(its, dist, ok):
        if not isinstance(t, int) or t < 0 or t > steps or s not in "01":
            fail(f"{name}: a trial has iterations {t!r}, success {s!r}")
        ended = t <= cap                      # the trial's descent ended within the cap, as in the long run
        solved = s == "1" and ended
        succ.append("1" if solved else "0")
        new_its.append(t if ended else cap)
        new_dist.append(dd if ended else None)
    solved_its = [t for t, s in zip(new_its, succ) if s == "1"]
    everyone = all(x is not None for x in new_dist)
    out.update({
        "final_steps": cap,
        "iterations": new_its,
        "distances": new_dist,
        "successes": "".join(succ),
        "success_rate": succ.count("1") / len(succ) if succ else None,
        "mean_successful_iterations": mean(solved_its),
        "mean_iterations": mean(new_its),
        "mean_final_iterations": mean(new_its),
        "median_iterations": median(new_its),
        "total_steps": sum(new_its),
        "median_distance": median(new_dist) if everyone else None,
        "derived_from": {"final_steps": steps, "cap": cap, "command": d.get("command")},
    })
    if not everyone:
        for k in ("mean_rmse", "median_rmse", "mean_loss"):
            out[k] = None
    out["command"] = f"python3 scripts/surf_cap.py {src} {cap} (the first {cap} steps of: {d.get('command')})"
    return out


def main(argv):
    if len(argv) != 4:
        fail("usage: surf_cap.py LONG.json CAP OUT.json")
    src, cap, dst = argv[1], argv[2], argv[3]
    try:
        cap = int(cap)
    except ValueError:
        fail(f"CAP must be a whole number of steps, got {cap!r}")
    try:
        d = json.load(open(src))
    except (OSError, ValueError) as e:
        fail(f"cannot read {src}: {e}")
    out = cap_run(d, cap, src)
    tmp = dst + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f, indent=0)
    os.replace(tmp, dst)


if __name__ == "__main__":
    main(sys.argv)
