#!/usr/bin/env python3
"""Learned recurrence coefficients of a training history (HDF5, docs: HISTORY-FORMAT): for the
`recurrence` layer of the model, every learnable coefficient as "initial → learned" (first and last
snapshot of /theta/<layer>.states.S.coef), labelled from the model JSON, as a markdown table.
Usage: scripts/archfromopt_coefficients.py HISTORY.h5 [HISTORY.h5 ...]   (needs h5py)

Labels: x_j is state j (x0 the recurrence input); T_j is block j applied to the state it reads.
ADMM (two interleaved sequences): state 2k−1 is x'_k, state 2k is x_k; block 2k is T'_k, 2k+1 is T_k.
Heavy ball: the two learnable terms of state k+1 are β₁ (on x_k) and β₂ (on x_{k−1}, x_{−1} = x_0)."""
import json
import sys

import h5py


def num(v):
    s = f"{v:.3f}"
    return "0.000" if s == "-0.000" else s.replace("-", "−")


def state_name(kind, i):
    if kind == "admm" and i > 0:
        return f"x'{(i + 1) // 2}" if i % 2 else f"x{i // 2}"
    return f"x{i}"


def block_name(kind, b):
    if kind == "admm":
        return f"T'{b // 2}" if b % 2 == 0 else f"T{b // 2}"
    return f"T{b}"


def table(path):
    f = h5py.File(path, "r")
    model = json.loads(f.attrs["model"])
    rec = next(l for l in model["layers"] if l["type"] == "recurrence")
    kind, name = rec["recurrence"], rec["name"]
    steps = f["snapshot_step"][:]
    print(f"{path}: {kind}, steps {steps[0]} → {steps[-1]}")
    if kind == "heavy_ball":
        print("| state | β₁ (on x_k) | β₂ (on x_{k−1}) |\n|---|---|---|")
    else:
        print("| state | coefficients, initial → learned |\n|---|---|")
    for s, state in enumerate(rec["states"], start=1):
        key = f"theta/{name}.states.{s}.coef"
        if key not in f:
            continue
        coef = f[key]
        first, last = coef[0], coef[-1]
        cells, i = [], 0
        for t in state["terms"]:
            if not t.get("learnable"):
                continue
            assert abs(first[i] - t["coef"]) < 1e-6, (key, i, first[i], t["coef"])
            src = state_name(kind, t["from"])
            label = f"{block_name(kind, t['block'])}({src})" if "block" in t else src
            cells.append((label, f"{num(first[i])} → {num(last[i])}"))
            i += 1
        if kind == "heavy_ball":
            print(f"| {state_name(kind, s)} | " + " | ".join(v for _, v in cells) + " |")
        else:
            print(f"| {state_name(kind, s)} | " + "; ".join(f"{l} {v}" for l, v in cells) + " |")
    print()


for p in sys.argv[1:]:
    table(p)
