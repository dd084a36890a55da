#!/usr/bin/env python3
"""The tables of notebooks-md/05-lifted-methods.md from notebooks-md/05-results/*.json.

    python3 scripts/lifted_tables.py
"""
import glob
import json
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "notebooks-md", "05-results")
NETS = ["300", "300-100", "500-150", "500-200-100", "400-200-100-50"]
ASKARI_PAPER = dict(zip(NETS, [89.8, 87.5, 86.5, 85.3, 77.0]))
LPOM_PAPER = dict(zip(NETS, [97.7, 96.9, 97.1, 96.2, 96.1]))
# notebooks-md/01-lpom-vs-sgd-mnist.md, 20 epochs, mean of seeds 11-13 (test accuracy).
LPOM_HERE = dict(zip(NETS, [97.83, 97.53, 97.67, 97.31, 96.88]))
SGD_HERE = dict(zip(NETS, [98.30, 98.46, 98.46, 98.46, 98.33]))


def load(name):
    p = os.path.join(OUT, name + ".json")
    return json.load(open(p)) if os.path.exists(p) else None


def pct(x):
    return "—" if x is None else f"{100 * x:.2f}"


def spe(d):
    return sum(r["seconds"] for r in d["curve"]) / len(d["curve"])


print("| hidden layers | Askari et al. 2018 (paper) | Askari here: test | (validation) | LPOM (paper) | LPOM here (nb 01) | SGD here (nb 01) |")
print("|---|---|---|---|---|---|---|")
for net in NETS:
    d = load(f"askari-{net}-s11")
    test = pct(d["test_accuracy"]) if d else "not run"
    val = pct(d["val_accuracy"]) if d else "—"
    print(f"| {net} | {ASKARI_PAPER[net]} | {test} | {val} | {LPOM_PAPER[net]} | {LPOM_HERE[net]} | {SGD_HERE[net]} |")
print()
print("| method (784-300-10) | iterations | test | validation (last) | best validation (iteration) | s/iteration | peak MB |")
print("|---|---|---|---|---|---|---|")
for m in ["admm", "bcd", "penalty", "askari"]:
    d = load(f"{m}-300-s11")
    if not d:
        print(f"| {m} | not run | | | | | |")
        continue
    best = max(d["curve"], key=lambda r: r["val_accuracy"])
    print(f"| {m} | {d['epochs']} | {pct(d['test_accuracy'])} | {pct(d['val_accuracy'])} | {pct(best['val_accuracy'])} ({best['epoch']}) "
          f"| {spe(d):.1f} | {d.get('peak_memory_mb') or float('nan'):.0f} |")
print()
print("| screen run (784-300-10, seed 101) | iterations | validation (last) | best (iteration) | s/iteration |")
print("|---|---|---|---|---|")
for p in sorted(glob.glob(os.path.join(OUT, "screen-*.json"))):
    d = json.load(open(p))
    best = max(d["curve"], key=lambda r: r["val_accuracy"])
    print(f"| {os.path.basename(p)[7:-5]} | {d['epochs']} | {pct(d['val_accuracy'])} | {pct(best['val_accuracy'])} ({best['epoch']}) | {spe(d):.1f} |")
print()
print("| method (784-300-10, 1 epoch, own process) | s/epoch | peak MB | validation |")
print("|---|---|---|---|")
for m in ["sgd", "lpom", "admm", "bcd", "penalty", "askari"]:
    d = load(f"memory-{m}-300")
    if d:
        print(f"| {m} | {spe(d):.1f} | {d.get('peak_memory_mb') or float('nan'):.0f} | {pct(d['val_accuracy'])} |")
