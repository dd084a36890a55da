#!/usr/bin/env python3
"""Checks that a generator trained again (its history lost with a machine) is the generator a
finished Table-1 cell ran on: the cell's regular-Adam run is run again on the new history for its
first few hundred steps, over the same trials and workers as its first piece, and every trial must
come out as in the finished run — the same iterations and distance for each trial it had solved by
then, unsolved for every other.

    python3 scripts/surf_retrain_check.py plan ADAM_SMALL.json
        prints "FROM:TO THREADS STEPS": the finished run's first piece (--trial-range, --threads,
        read from its command) and the fewest steps by which 10 of that piece's trials were solved
    python3 scripts/surf_retrain_check.py compare ADAM_SMALL.json RERUN.json OUT.json [DIGEST]
        compares the rerun (`lpom surf --json --method adam --steps STEPS --trial-range FROM:TO
        --threads THREADS`, the cell's other options) with the finished run; writes OUT.json (both
        sides per solved trial, the verdict and, when all agree, DIGEST — the generator's final
        network digest from `lpom inspect --json`, which later machines compare instead) and exits
        0 when all agree, 3 when any differs

Why regular Adam over the whole piece. A trial's descent does not depend on the budget, and the
batch holds the same unsolved trials at each step, so the rerun is bit for bit the finished run's
first STEPS steps (InverterTests.testALongerBudgetKeepsTheShorterRunAsItsPrefix) — when its
products have the same rows: OpenBLAS rounds a product of fewer rows differently in the last bit.
A first version reran 4 trials of the surfing run alone: on DCGAN k = 10 (≈ 3,800 steps each)
their iterations moved by 1–5% on the same generator, which this check then confirmed bit for bit
(23 of 23 trials solved within 1,500 steps equal; 2026-12-05). A generator trained with another
thread count or other BLAS kernels ends elsewhere and fails at once.
"""
import json
import os
import re
import sys

SOLVED = 10


def first_piece(small):
    cmd = small.get("command", "")
    m = re.search(r"--trial-range\)\S*\s+(\d+):(\d+)", cmd)
    t = re.search(r"--threads (\d+)", cmd[m.end():] if m else "")
    if not m or not t:
        sys.exit(f"surf_retrain_check: cannot read the first piece and its --threads from: {cmd}")
    return int(m.group(1)), int(m.group(2)), int(t.group(1))


def plan(path):
    d = json.load(open(path))
    a, b, threads = first_piece(d)
    solved = sorted(d["iterations"][i] for i in range(a, b) if d["successes"][i] == "1")
    if len(solved) < SOLVED:
        sys.exit(f"surf_retrain_check: only {len(solved)} trials of {a}:{b} solved")
    print(f"{a}:{b} {threads} {solved[SOLVED - 1]}")


def compare(small_path, rerun_path, out_path, digest=None):
    d = json.load(open(small_path))
    r = json.load(open(rerun_path))
    a, b = r.get("trial_range") or [0, r["trials"]]
    steps = r["final_steps"]
    rows, equal, unsolved_ok = [], True, 0
    for i, t in zip(range(a, b), r["results"]):
        dist = round(t["distance"], 6) if t.get("distance") is not None else None
        if d["successes"][i] == "1" and d["iterations"][i] <= steps:
            same = bool(t["success"]) and t["iterations"] == d["iterations"][i] and dist == d["distances"][i]
            rows.append({"trial": i, "iterations": [d["iterations"][i], t["iterations"]],
                         "distance": [d["distances"][i], dist], "equal": same})
            equal &= same
        elif t["success"]:
            rows.append({"trial": i, "iterations": [d["iterations"][i], t["iterations"]],
                         "distance": [d["distances"][i], dist], "equal": False,
                         "note": "solved here, not within these steps in the finished run"})
            equal = False
        else:
            unsolved_ok += 1
    rec = {"finished_run": small_path, "history": r.get("history"), "trial_range": [a, b], "steps": steps,
           "solved_trials": rows, "unsolved_in_both": unsolved_ok, "equal": equal,
           "rerun_cpu_seconds": r.get("cpu_seconds"), "command": r.get("command")}
    if equal and digest:
        rec["final_network_digest"] = digest
    with open(out_path + ".tmp", "w") as f:
        json.dump(rec, f, indent=1)
    os.replace(out_path + ".tmp", out_path)
    n = sum(x["equal"] for x in rows)
    print(f"surf_retrain_check: regular Adam, trials {a}:{b}, {steps} steps: {n} of {len(rows)} solved trials "
          f"equal to {small_path} and {unsolved_ok} unsolved in both: "
          f"{'the same generator' if equal else 'NOT the same generator'}")
    sys.exit(0 if equal else 3)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "plan":
        plan(sys.argv[2])
    elif len(sys.argv) in (5, 6) and sys.argv[1] == "compare":
        compare(*sys.argv[2:])
    else:
        sys.exit(__doc__)
