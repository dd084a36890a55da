#!/usr/bin/env python3
"""The numbers notebook 03 writes about two paired `lpom surf --json` runs (the same trials: x*,
x_init and A), so that each sentence's numbers come from a command:

    python3 scripts/surf_pair_report.py SURFING.json ADAM.json

Per run: successes, mean steps per trial, CPU minutes, median ‖x̂ − x*‖, the failures binned by
their distance to x* (< 0.1, [0.1, 1), ≥ 1; the nearest), and how many failures used the run's
whole budget (no stopping test met); the per-pixel RMSE of G(x̂) against the target
image (for held-out images, which have no x*, the only measure): mean, median and range. For the pair: the trials solved by each only and McNemar's exact p, the
ratio of mean steps, and sign tests on ‖x̂ − x*‖ and on the RMSE (trials where each is lower). Standard library
only; the p-values are surf_paper_summary's.
"""
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from surf_paper_summary import mcnemar, sign_test  # noqa: E402


def fail(msg):
    print("surf_pair_report: " + msg, file=sys.stderr)
    sys.exit(2)


def read(path):
    try:
        with open(path) as f:
            d = json.load(f)
    except (OSError, ValueError) as e:
        fail("%s: %s" % (path, e))
    if not isinstance(d, dict) or not isinstance(d.get("iterations"), list):
        fail("%s: not an `lpom surf --json` result (no per-trial iterations)" % path)
    return d


def budget(d):
    """Steps a trial may take in all: surfing's pre-final budget plus the final network's."""
    return (d.get("prefinal_budget") or 0) + (d.get("final_steps") or 0)


def has_x_star(d):
    """Whether the run's targets had an x*: a distance and a success per trial (held-out images
    have neither)."""
    s, dist = d.get("successes"), d.get("distances")
    return bool(s) and bool(dist) and None not in dist and len(dist) == len(s) == len(d["iterations"])


def describe(name, d):
    it = d["iterations"]
    lines = ["%s: %s" % (name, d.get("command", "?")),
             "  mean steps per trial %s, CPU %.1f min" % ("{:,.0f}".format(statistics.mean(it)), (d.get("cpu_seconds") or 0) / 60)]
    if has_x_star(d):
        s, dist = d["successes"], d["distances"]
        failed = [(x, n) for x, n, ok in zip(dist, it, s) if ok == "0"]
        far = [x for x, _ in failed]
        whole = sum(1 for _, n in failed if n >= budget(d) > 0)
        lines.append("  solved %d of %d; median ‖x̂ − x*‖ %.4g" % (s.count("1"), len(s), statistics.median(dist)))
        lines.append("  failures %d: < 0.1 %d, [0.1, 1) %d, ≥ 1 %d; nearest %s, farthest %s; %d used the whole budget of %s steps" % (
            len(far), sum(x < 0.1 for x in far), sum(0.1 <= x < 1 for x in far), sum(x >= 1 for x in far),
            "%.4g" % min(far) if far else "—", "%.4g" % max(far) if far else "—", whole, "{:,}".format(budget(d))))
    else:
        lines.append("  no x* (held-out images): no success test")
    r = d.get("rmses")
    if r and None not in r:
        lines.append("  per-pixel RMSE mean %.4f, median %.4f, range %.4f to %.4f" % (
            statistics.mean(r), statistics.median(r), min(r), max(r)))
    return lines


def main(argv):
    if len(argv) != 2:
        fail("usage: surf_pair_report.py A.json B.json (two runs on the same trials)")
    a, b = (read(p) for p in argv)
    if len(a["iterations"]) != len(b["iterations"]):
        fail("%s has %d trials, %s %d: not paired" % (argv[0], len(a["iterations"]), argv[1], len(b["iterations"])))
    out = describe("A", a) + describe("B", b)
    out.append("A / B mean steps per trial: %.1f" % (statistics.mean(a["iterations"]) / statistics.mean(b["iterations"])))
    if has_x_star(a) and has_x_star(b):
        p, x, y = mcnemar(a["successes"], b["successes"])
        out.append("solved by A only %d, by B only %d; McNemar p %.2g" % (x, y, p))
        p, x, y = sign_test(a["distances"], b["distances"])
        out.append("ends nearer to x* in A %d, in B %d (ties dropped); sign test p %.2g" % (x, y, p))
    ra, rb = a.get("rmses"), b.get("rmses")
    if ra and rb and None not in ra + rb:
        p, x, y = sign_test(ra, rb)
        out.append("RMSE lower in A %d, in B %d (ties dropped); sign test p %.2g" % (x, y, p))
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1:])
