#!/usr/bin/env python3
"""One SVG with the empirical CDFs of log10 ‖x̂ − x*‖ of several `lpom surf --json` outputs.

    python3 scripts/surf_cdf_svg.py OUT.svg "Adam=/path/a.json" "surfing=/path/b.json" ...
    python3 scripts/surf_cdf_svg.py --rmse OUT.svg "Adam=…" "surfing=…"   # per-pixel RMSE of G(x̂)

Standard library only; the curves are read from the JSON files' per-trial distances (the full
output's "results", or the "distances" of a small JSON in notebooks-md/03-results, rounded to 1e-6);
with --rmse from the per-trial RMSE √(‖G(x̂) − y‖²/n) ("rmse" of each result, or a small JSON's
"rmses"), the measure when x* is unknown (held-out images, the paper's Fig. 4), on an axis over the
decades the values span (ticks at 1, 2 and 5 over up to two decades).
"""
import json
import math
import sys

W, H, L, R, T, B = 560, 340, 60, 20, 30, 45
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def values(d, rmse):
    """A run's per-trial distances (or RMSEs), None where a trial has none."""
    key, small = ("rmse", "rmses") if rmse else ("distance", "distances")
    if "results" in d:
        return [r.get(key) for r in d["results"]]
    return d.get(small) or []


def legend_corner(curves, lo, hi):
    """Where the legend's lines (≈ 6.5 px a character) cross no curve: the bottom right, if every
    CDF has risen above the legend's top by the legend's left edge; else the top left, if every CDF
    is still below the legend's bottom at its right edge; else the bottom right anyway, with a warning."""
    width = 6.5 * max(len("%s (n = %d)" % (label, len(xs))) for label, xs, _ in curves) + 16
    frac = (16 * len(curves) + 8) / (H - T - B)                      # the legend's height on the y axis
    value = lambda px: lo + (px - L) / (W - L - R) * (hi - lo)       # a pixel's x → the axis's value
    cdf = lambda xs, v: sum(1 for x in xs if x <= v) / len(xs)
    if all(cdf(xs, value(W - R - width)) > frac for _, xs, _ in curves):
        return "bottom right"
    if all(cdf(xs, value(L + width)) < 1 - frac for _, xs, _ in curves):
        return "top left"
    print("surf_cdf_svg: the legend crosses a curve in either corner (bottom right used); shorter labels would fit",
          file=sys.stderr)
    return "bottom right"


def main(argv):
    rmse = bool(argv) and argv[0] == "--rmse"
    if rmse:
        argv = argv[1:]
    if len(argv) < 2:
        sys.exit(__doc__)
    out, series = argv[0], [a.rsplit("=", 1) for a in argv[1:]]   # a label may hold "="
    curves = []
    for label, path in series:
        with open(path) as f:
            d = json.load(f)
        ds = sorted(max(x, 1e-6) for x in values(d, rmse) if x is not None)
        if not ds:
            sys.exit(f"surf_cdf_svg: {path} holds no per-trial {'RMSE' if rmse else 'distance'}")
        curves.append((label, [math.log10(x) for x in ds], d.get("tolerance", 0.01)))
    if rmse:
        # the decades the values span (held-out images' RMSE sit within one or two), ticks at 1, 2, 5
        # over up to two decades, at each decade over more
        lo = math.floor(min(xs[0] for _, xs, _ in curves) + 1e-9)
        hi = max(lo + 1, math.ceil(max(xs[-1] for _, xs, _ in curves) - 1e-9))
        ticks = [(e + math.log10(f), "%g" % (f * 10.0 ** e)) for e in range(lo, hi + 1)
                 for f in ((1, 2, 5) if hi - lo <= 2 else (1,)) if e + math.log10(f) <= hi + 1e-9]
    else:
        lo, hi = -6, 1
        ticks = [(e, "1e%d" % e) for e in range(lo, hi + 1)]
    sx = lambda v: L + (min(max(v, lo), hi) - lo) / (hi - lo) * (W - L - R)
    sy = lambda p: T + (1 - p) * (H - T - B)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
             f'<rect width="{W}" height="{H}" fill="white"/>']
    for v, text in ticks:
        x = sx(v)
        parts.append(f'<line x1="{x:.1f}" y1="{T}" x2="{x:.1f}" y2="{H - B}" stroke="#ddd"/>')
        parts.append(f'<text x="{x:.1f}" y="{H - B + 15}" text-anchor="middle">{text}</text>')
    for p in (0, 0.25, 0.5, 0.75, 1):
        parts.append(f'<line x1="{L}" y1="{sy(p):.1f}" x2="{W - R}" y2="{sy(p):.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{L - 6}" y="{sy(p) + 4:.1f}" text-anchor="end">{p:g}</text>')
    if not rmse:   # the success threshold (no x*, no threshold: RMSE is a rate-distortion measure)
        tol = math.log10(curves[0][2])
        parts.append(f'<line x1="{sx(tol):.1f}" y1="{T}" x2="{sx(tol):.1f}" y2="{H - B}" stroke="black" stroke-dasharray="4,3"/>')
    legend = legend_corner(curves, lo, hi) if rmse else None
    for i, (label, xs, _) in enumerate(curves):
        n = len(xs)
        # the empirical CDF as steps: 0 up to the smallest value, up by 1/n at each trial's value
        pts = " ".join(f"{sx(x):.1f},{sy(j / n):.1f} {sx(x):.1f},{sy((j + 1) / n):.1f}" for j, x in enumerate(xs))
        c = COLORS[i % len(COLORS)]
        parts.append(f'<polyline fill="none" stroke="{c}" stroke-width="2" points="{sx(lo):.1f},{sy(0):.1f} {pts} {sx(hi):.1f},{sy(1):.1f}"/>')
        if legend == "bottom right":
            x, y, anchor = W - R - 8, sy(0) - 8 - 16 * (len(curves) - 1 - i), ' text-anchor="end"'
        elif legend == "top left":
            x, y, anchor = L + 8, sy(1) + 20 + 16 * i, ""
        else:      # the left half, mid-height: the curves stay at 0 left of the threshold
            x, y, anchor = L + 10, sy(0.6) + 16 * i, ""
        parts.append(f'<text x="{x}" y="{y:.1f}"{anchor} fill="{c}">{label} (n = {n})</text>')
    xlabel = ("per-pixel RMSE √(‖G(x̂) − y‖²/n) (log scale)" if rmse
              else "‖x̂ − x*‖ (log scale; dashed: success threshold)")
    parts.append(f'<text x="{(W + L) / 2:.0f}" y="{H - 8}" text-anchor="middle">{xlabel}</text>')
    parts.append(f'<text x="14" y="{(H - B + T) / 2:.0f}" transform="rotate(-90 14 {(H - B + T) / 2:.0f})" text-anchor="middle">fraction of trials</text>')
    parts.append("</svg>")
    with open(out, "w") as f:
        f.write("\n".join(parts) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
