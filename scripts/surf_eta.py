#!/usr/bin/env python3
"""How much a surf run on the final network has left, for `bash scripts/surf_sweep.sh status`.

    lpom inspect CKPT --json | python3 scripts/surf_eta.py "--method adam --steps 74679"

prints " (≈ 0.5–1.9 CPU h more at this rate if no more trials stop)" for regular Adam or random
restarts, and nothing otherwise. The checkpoint holds each chunk's rows, step and rows not stopped
but not the run's budget (regular Adam's is left out of its fingerprint on purpose: a run continues
to a larger --steps), so the budget comes from the command's options, as the sweep's log gives them
("surf GEN UNIT trials A:B ...: OPTIONS"). Surfing is left out: its CPU time includes the
intermediate networks, so a rate per final-network step cannot be read off it.

The estimate: rows not stopped run to the budget and rows not begun run all of it (the most steps
left, reached when no further trial stops), at the CPU time per row-step so far. The checkpoint
does not say when the stopped rows stopped, so that rate is given as a range: stopped rows counted
as if they had run to the chunk's step (the low end) or as if they had taken no step (the high
end); with none stopped the two agree. A guide for planning, not a bound.
"""
import json
import re
import sys

PAPER_FINAL_STEPS = 60000   # `lpom surf --protocol paper`'s regular Adam budget without --steps


def option(args, name):
    m = re.search(r"(?:^|\s)--%s[ =](\S+)" % re.escape(name), args)
    return m.group(1) if m else None


def hours_left(report, args):
    """(low, high) CPU hours left, or None when the run is not regular Adam or restarts on its
    final network."""
    if report.get("phases") is not None or not report.get("chunks"):
        return None
    m = re.search(r"range (\d+):(\d+)", report.get("fingerprint", ""))
    if not m:
        return None
    trials = int(m.group(2)) - int(m.group(1))
    method = option(args, "method")
    if method == "restarts":
        steps, restarts = option(args, "restart-steps"), option(args, "restarts")
        if steps is None or restarts is None:
            return None
        budget, rows = int(steps), trials * int(restarts)
    elif method == "adam":
        budget, rows = int(option(args, "steps") or PAPER_FINAL_STEPS), trials
    else:
        return None
    chunks = report["chunks"]
    done_all = sum((c["rows"][1] - c["rows"][0]) * c["step"] for c in chunks)
    done_running = sum(c["not_stopped"] * c["step"] for c in chunks)
    begun = sum(c["rows"][1] - c["rows"][0] for c in chunks)
    left = sum(c["not_stopped"] * max(budget - c["step"], 0) for c in chunks) + max(rows - begun, 0) * budget
    cpu = report.get("cpu_seconds", 0)
    if done_all <= 0 or cpu <= 0:
        return None
    low = cpu / done_all * left / 3600
    # every row begun has stopped: no rate for the high end, only the rows not begun are left
    return low, (cpu / done_running * left / 3600 if done_running > 0 else low)


def main():
    args = sys.argv[1] if len(sys.argv) > 1 else ""
    try:
        h = hours_left(json.load(sys.stdin), args)
    except (ValueError, KeyError, TypeError, IndexError):
        return
    if h is not None:
        low, high = ("%.1f" % x for x in h)
        span = low if low == high else "%s–%s" % (low, high)
        print(" (≈ %s CPU h more at this rate if no more trials stop)" % span, end="")


if __name__ == "__main__":
    main()
