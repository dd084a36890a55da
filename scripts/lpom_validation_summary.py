#!/usr/bin/env python3
"""Tables of notebooks-md/01 from the JSON results of scripts/lpom_validation.sh.

Validation accuracy per epoch comes from each run's JSON curve (`val_accuracy` when the run
used `--validation`, else `test_accuracy` of a run whose data directory held the validation
images as its test split, see the script's SPLIT); test accuracy only from the *.test.json
files written by `lpom_validation.sh test`.
"""
import glob
import json
import os
import statistics
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "notebooks-md/01-results"


def load(name):
    with open(os.path.join(out, name + ".json")) as f:
        return json.load(f)


def val_curve(d):
    return [c.get("val_accuracy", c.get("test_accuracy")) for c in d["curve"]]


def tests(name):
    path = os.path.join(out, name + ".test.json")
    if not os.path.exists(path):
        return None
    vals = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                obj = json.loads(line)
                rows = obj.get("snapshots", [obj])
                vals += [r.get("test_accuracy", r.get("accuracy")) for r in rows]
    return vals


def pct(x):
    return "–" if x is None else f"{100 * x:.2f}"


def screening():
    names = sorted(os.path.basename(p)[:-5] for p in glob.glob(os.path.join(out, "screen-*.json")))
    names += sorted(os.path.basename(p)[:-5] for p in glob.glob(os.path.join(out, "sgd-lr*.json")))
    if not names:
        return
    print("| run | validation accuracy per epoch (%) | s/epoch |")
    print("|---|---|---|")
    for n in names:
        if n.endswith(".test"):
            continue
        d = load(n)
        v = val_curve(d)
        print(f"| {n} | {' '.join(pct(x) for x in v)} | {d['seconds'] / max(1, len(v)):.1f} |")
    print()


def table():
    nets = ["300", "300-100", "500-150", "500-200-100", "400-200-100-50"]
    seeds = [11, 12, 13]

    def stats(xs):
        xs = [x for x in xs if x is not None]
        if not xs:
            return "–"
        m = statistics.mean(xs) * 100
        sd = statistics.stdev(xs) * 100 if len(xs) > 1 else 0.0
        return f"{m:.2f} ± {sd:.2f} ({100 * min(xs):.2f}, n={len(xs)})"

    rows = []
    for net in nets:
        row = {"net": net}
        for kind, ep, idx in [("lpom", 10, 0), ("lpom", 20, 1), ("sgd10", 10, 0), ("sgd20", 20, 0)]:
            vals, tvals, secs = [], [], []
            for s in seeds:
                name = f"table-{kind}-{net}-s{s}"
                if not os.path.exists(os.path.join(out, name + ".json")):
                    continue
                d = load(name)
                v = val_curve(d)
                vals.append(v[ep - 1] if len(v) >= ep else None)
                secs.append(d["seconds"] / len(v))
                t = tests(name)
                if t is not None and len(t) > idx:
                    tvals.append(t[idx])
            key = ("LPOM" if kind == "lpom" else "SGD") + f" {ep}"
            row[key] = (stats(vals), stats(tvals), statistics.mean(secs) if secs else None)
        rows.append(row)
    paper = {"300": 97.7, "300-100": 96.9, "500-150": 97.1, "500-200-100": 96.2, "400-200-100-50": 96.1}
    for part, title in [(0, "validation"), (1, "test")]:
        print(f"{title} accuracy (%), mean ± sd over seeds 11-13 (minimum, runs)")
        print()
        print("| hidden layers | LPOM (paper) | LPOM 10 ep | LPOM 20 ep | SGD 10 ep | SGD 20 ep |")
        print("|---|---|---|---|---|---|")
        for r in rows:
            cells = [r.get(k, ("–", "–", None))[part] for k in ["LPOM 10", "LPOM 20", "SGD 10", "SGD 20"]]
            print(f"| {r['net']} | {paper[r['net']]} | " + " | ".join(cells) + " |")
        print()
    print("| hidden layers | LPOM s/epoch | SGD s/epoch |")
    print("|---|---|---|")
    for r in rows:
        l = r.get("LPOM 20", (None, None, None))[2]
        s = r.get("SGD 20", (None, None, None))[2]
        print(f"| {r['net']} | {'–' if l is None else f'{l:.1f}'} | {'–' if s is None else f'{s:.1f}'} |")


screening()
table()
