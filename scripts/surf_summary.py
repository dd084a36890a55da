#!/usr/bin/env python3
"""Markdown tables from the JSON files of scripts/surf_table.sh and scripts/surf_cs.sh.

    python3 scripts/surf_summary.py table runs/surf     # Table 1 analogue
    python3 scripts/surf_summary.py cs runs/surf/cs     # compressed-sensing sweep

Standard library only. Every number printed is read from the `lpom surf --json` output.
"""
import glob
import json
import os
import re
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def table(directory):
    cells = {}
    for p in sorted(glob.glob(os.path.join(directory, "*.json"))):
        m = re.match(r"(?P<arch>[a-z]+)-(?P<model>[a-z-]+)-k(?P<k>\d+)-(?P<method>adam|surfing|restarts|projected)\.json$",
                     os.path.basename(p))
        if not m:
            continue
        cells[(m["arch"], m["model"], int(m["k"]), m["method"])] = load(p)
    keys = sorted({(a, mo, k) for (a, mo, k, _) in cells})
    print("| generator | k | Adam success | surfing success | Adam iters (mean / median) | surfing iters (mean / median; on final net) | time Adam / surfing |")
    print("|---|---|---|---|---|---|---|")
    for a, mo, k in keys:
        ad, su = cells.get((a, mo, k, "adam")), cells.get((a, mo, k, "surfing"))
        def rate(r):
            return f"{100 * r['success_rate']:.1f}% ({r['trials']})" if r else "—"
        def iters(r, final=False):
            if not r:
                return "—"
            s = f"{r['mean_iterations']:.0f} / {r['median_iterations']:.0f}"
            if final:
                s += f"; {r['mean_final_iterations']:.0f}"
            return s
        t = " / ".join(f"{r['seconds']:.0f} s" if r else "—" for r in (ad, su))
        print(f"| {a} {mo} | {k} | {rate(ad)} | {rate(su)} | {iters(ad)} | {iters(su, True)} | {t} |")


def cs(directory):
    rows = {}
    for p in sorted(glob.glob(os.path.join(directory, "*.json"))):
        m = re.match(r"(?P<name>.+)-m(?P<m>\d+)-(?P<method>[a-z]+)-(?P<target>in-range|test-images)\.json$",
                     os.path.basename(p))
        if not m:
            continue
        rows.setdefault((m["name"], m["target"], int(m["m"])), {})[m["method"]] = load(p)
    methods = sorted({meth for v in rows.values() for meth in v})
    for target in ("in-range", "test-images"):
        sel = sorted(k for k in rows if k[1] == target)
        if not sel:
            continue
        metric = "success" if target == "in-range" else "per-pixel RMSE (mean)"
        print(f"\n**{target}** ({metric})\n")
        print("| generator | m | " + " | ".join(methods) + " |")
        print("|---|---|" + "---|" * len(methods))
        for key in sel:
            cellv = []
            for meth in methods:
                r = rows[key].get(meth)
                if r is None:
                    cellv.append("—")
                elif target == "in-range":
                    cellv.append(f"{100 * r['success_rate']:.1f}% ({r['seconds']:.0f} s)")
                else:
                    cellv.append(f"{r['mean_rmse']:.4f} ({r['seconds']:.0f} s)")
            print(f"| {key[0]} | {key[2]} | " + " | ".join(cellv) + " |")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("table", "cs"):
        sys.exit(__doc__)
    {"table": table, "cs": cs}[sys.argv[1]](sys.argv[2])
