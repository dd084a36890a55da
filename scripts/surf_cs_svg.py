#!/usr/bin/env python3
"""The compressed-sensing success rate against the number of measurements m (the paper's Fig. 3
as we ran it): one SVG from the sweep's small JSON files.

    python3 scripts/surf_cs_svg.py OUT.svg [RESULTS_DIR [CELL]]
        RESULTS_DIR default notebooks-md/03-results, CELL default dcgan-k20-g1-s1

Reads CELL-cs-m<M>-{adam,surfing,restarts}.json for every M present; draws each method's success
rate (‖x̂ − x*‖ < 0.01, paired trials) with its 95% Wilson interval, m on a log scale; a line
joins a method's points at neighbouring values of m only (none across an m it has not run).
Standard library only.
"""
import json
import math
import os
import re
import sys

W, H, L, R, T, B = 560, 340, 60, 20, 30, 45
METHODS = [("adam", "regular Adam", "#1f77b4"), ("surfing", "surfing", "#d62728"),
           ("restarts", "10 random restarts (surfing's budget)", "#2ca02c")]
Z = 1.959963984540054   # the normal's 97.5% point


def wilson(k, n, z=Z):
    """The 95% Wilson score interval of k successes in n trials."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def load(directory, cell):
    """{method: [(m, successes, trials)]} sorted by m."""
    found = {}
    for f in os.listdir(directory):
        hit = re.fullmatch(re.escape(cell) + r"-cs-m(\d+)-(adam|surfing|restarts)\.json", f)
        if hit:
            with open(os.path.join(directory, f)) as fh:
                s = json.load(fh)["successes"]
            found.setdefault(hit.group(2), []).append((int(hit.group(1)), s.count("1"), len(s)))
    return {k: sorted(v) for k, v in found.items()}


def svg(series):
    ms = sorted({m for pts in series.values() for m, _, _ in pts})
    lo, hi = math.log10(min(ms) / 1.25), math.log10(max(ms) * 1.25)
    sx = lambda m: L + (math.log10(m) - lo) / (hi - lo) * (W - L - R)
    sy = lambda p: T + (1 - p) * (H - T - B)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
             f'<rect width="{W}" height="{H}" fill="white"/>']
    for m in ms:
        parts.append(f'<line x1="{sx(m):.1f}" y1="{T}" x2="{sx(m):.1f}" y2="{H - B}" stroke="#ddd"/>')
        parts.append(f'<text x="{sx(m):.1f}" y="{H - B + 15}" text-anchor="middle">{m}</text>')
    for p in (0, 0.25, 0.5, 0.75, 1):
        parts.append(f'<line x1="{L}" y1="{sy(p):.1f}" x2="{W - R}" y2="{sy(p):.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{L - 6}" y="{sy(p) + 4:.1f}" text-anchor="end">{p:g}</text>')
    # the legend at the bottom right: high m with a low rate is the corner the curves leave empty
    shown = [key for key, _, _ in METHODS if series.get(key)]
    for i, (key, label, colour) in enumerate(METHODS):
        pts = series.get(key)
        if not pts:
            continue
        shift = (i - 1) * 4     # methods side by side at each m, so the intervals do not hide each other
        # lines join neighbouring values of m only: a method not yet run at some m breaks its line there
        have = {m: (k, n) for m, k, n in pts}
        for m0, m1 in zip(ms, ms[1:]):
            if m0 in have and m1 in have:
                (k0, n0), (k1, n1) = have[m0], have[m1]
                parts.append(f'<line x1="{sx(m0) + shift:.1f}" y1="{sy(k0 / n0):.1f}" x2="{sx(m1) + shift:.1f}" '
                             f'y2="{sy(k1 / n1):.1f}" stroke="{colour}" stroke-width="2"/>')
        for m, k, n in pts:
            a, b = wilson(k, n)
            x = sx(m) + shift
            parts.append(f'<line x1="{x:.1f}" y1="{sy(a):.1f}" x2="{x:.1f}" y2="{sy(b):.1f}" stroke="{colour}"/>')
            parts.append(f'<circle cx="{x:.1f}" cy="{sy(k / n):.1f}" r="3.5" fill="{colour}"><title>{label}, m = {m}: {k} of {n}</title></circle>')
        trials = sorted({n for _, _, n in pts})
        y = H - B - 10 - 16 * (len(shown) - 1 - shown.index(key))
        parts.append(f'<text x="{W - R - 10}" y="{y:.1f}" text-anchor="end" fill="{colour}">{label} (n = {"/".join(map(str, trials))} per m)</text>')
    parts.append(f'<text x="{(W + L) / 2:.0f}" y="{H - 8}" text-anchor="middle">number of measurements m (log scale); bars: 95% Wilson intervals</text>')
    parts.append(f'<text x="14" y="{(H - B + T) / 2:.0f}" transform="rotate(-90 14 {(H - B + T) / 2:.0f})" text-anchor="middle">fraction recovered (‖x̂ − x*‖ &lt; 0.01)</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main(argv):
    if not argv:
        sys.exit(__doc__)
    out = argv[0]
    directory = argv[1] if len(argv) > 1 else "notebooks-md/03-results"
    cell = argv[2] if len(argv) > 2 else "dcgan-k20-g1-s1"
    series = load(directory, cell)
    if not series:
        sys.exit(f"surf_cs_svg: no {cell}-cs-m<M>-<method>.json in {directory}")
    with open(out, "w") as f:
        f.write(svg(series))


if __name__ == "__main__":
    main(sys.argv[1:])
