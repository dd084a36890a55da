#!/usr/bin/env python3
"""Markdown table of the runs written by bench/archfromopt_seeds.sh: per architecture the parameter
count, test accuracy of every seed, their mean ± sample standard deviation, and the median seconds
per epoch. Usage: scripts/archfromopt_table.py OUT_DIR DATASET DEPTH WIDTH"""
import glob
import json
import os
import statistics
import sys

out, ds, depth, width = sys.argv[1:5]
order = ["plain", "resnet", "hbnet", "hbnet-learnable", "densenet", "agdnet", "agdnet-learnable",
         "dmrnet", "admmnet", "admmnet-learnable"]
rows = {}
for path in glob.glob(os.path.join(out, f"*-{ds}-d{depth}-w{width}-s*.json")):
    name = os.path.basename(path).split(f"-{ds}-")[0]
    seed = int(path.rsplit("-s", 1)[1].split(".")[0])
    d = json.load(open(path))
    rows.setdefault(name, []).append((seed, d))
print(f"| arch | parameters | test accuracy per seed | mean ± sd | median s/epoch |")
print("|---|---:|---|---:|---:|")
for name in order:
    if name not in rows:
        continue
    runs = sorted(rows[name], key=lambda r: r[0])
    acc = [100 * d["test_accuracy"] for _, d in runs]
    secs = [c["seconds"] for _, d in runs for c in d["curve"]]
    params = runs[0][1].get("parameters", "?")
    sd = f" ± {statistics.stdev(acc):.2f}" if len(acc) > 1 else ""
    per_seed = ", ".join(f"{a:.2f}" for a in acc)
    print(f"| {name} | {params:,} | {per_seed} | {statistics.mean(acc):.2f}{sd} | {statistics.median(secs):.1f} |"
          if isinstance(params, int) else
          f"| {name} | {params} | {per_seed} | {statistics.mean(acc):.2f}{sd} | {statistics.median(secs):.1f} |")
