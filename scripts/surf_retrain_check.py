#!/usr/bin/env python3
"""Checks that a generator trained again (its history lost with a machine) is the generator a
finished Table-1 cell ran on: a few trials of the cell's surfing run are run again on the new
history and must give the same iterations and distances, trial by trial.

    python3 scripts/surf_retrain_check.py window SURFING_SMALL.json
        prints "FROM:TO BUDGET": the 4 consecutive trials among the first 100 that the finished
        run solved in the fewest steps (the rerun is cheap), and the run's --prefinal-budget
    python3 scripts/surf_retrain_check.py compare SURFING_SMALL.json RERUN.json OUT.json
        compares the rerun (`lpom surf --json --trial-range FROM:TO`, same options) with the
        finished run; writes OUT.json (both sides per trial, the verdict) and exits 0 when every
        trial's iterations and distance (to the 6 decimals kept) agree, 3 when any differs

Distances agree to 6 decimals and iterations exactly only when the descent is the same to the last
bits in practice: a generator trained with another thread count or binary differs in the rounding
of every product, and iterations at the 0.01 threshold move with it.
"""
import json
import re
import sys

WIDTH = 4


def budget(small):
    m = re.search(r"--prefinal-budget (\S+)", small.get("command", ""))
    if not m:
        sys.exit("surf_retrain_check: the run's command names no --prefinal-budget")
    return m.group(1).rstrip(",")


def window(path):
    d = json.load(open(path))
    it, ok = d["iterations"], d["successes"]
    best = None
    for a in range(0, min(100, len(it)) - WIDTH + 1):
        if all(ok[i] == "1" for i in range(a, a + WIDTH)):
            cost = max(it[a:a + WIDTH])
            if best is None or cost < best[0]:
                best = (cost, a)
    if best is None:
        sys.exit("surf_retrain_check: no 4 consecutive solved trials among the first 100")
    print(f"{best[1]}:{best[1] + WIDTH} {budget(d)}")


def compare(small_path, rerun_path, out_path):
    d = json.load(open(small_path))
    r = json.load(open(rerun_path))
    a, b = r["trial_range"]
    rows, equal = [], True
    for i, t in zip(range(a, b), r["results"]):
        dist = round(t["distance"], 6) if t.get("distance") is not None else None
        same = t["iterations"] == d["iterations"][i] and dist == d["distances"][i]
        equal &= same
        rows.append({"trial": i, "iterations": [d["iterations"][i], t["iterations"]],
                     "distance": [d["distances"][i], dist], "equal": same})
    rec = {"finished_run": small_path, "history": r.get("history"), "trials": rows, "equal": equal,
           "rerun_cpu_seconds": r.get("cpu_seconds")}
    json.dump(rec, open(out_path, "w"), indent=1)
    n = sum(x["equal"] for x in rows)
    print(f"surf_retrain_check: {n} of {len(rows)} trials equal to {small_path} "
          f"(trials {a}:{b}): {'the same generator' if equal else 'NOT the same generator'}")
    sys.exit(0 if equal else 3)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "window":
        window(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "compare":
        compare(*sys.argv[2:])
    else:
        sys.exit(__doc__)
