#!/usr/bin/env python3
# cat2.py DATA [EXCLUDE_REGEX | +INCLUDE_REGEX] [TOP]: leaf-symbol categories over samples whose call chain has no
# frame matching EXCLUDE_REGEX (setup: data loading, initialisation, evaluation, history writing; `setup.re`), or
# (with +) whose main-thread chain has a frame matching INCLUDE_REGEX, plus the excluded share.
import re, sys, collections
from perfdata import demangle, samples
from cat import cat

data = sys.argv[1]; arg = sys.argv[2] if len(sys.argv) > 2 else ""
incl = re.compile(arg[1:]) if arg.startswith("+") else None
excl = re.compile(arg) if arg and not incl else None
top = int(sys.argv[3]) if len(sys.argv) > 3 else 22
total = 0; excluded = 0; leaf = collections.Counter(); tids = collections.Counter()
for header, fr in samples(data):
    total += 1
    if not fr: fr = [("[unknown]", "?")]
    first = header.split()
    pid, tid = first[0].split("/") if "/" in first[0] else (first[0], first[1])
    if excl and any(excl.search(s) for s, _ in fr): excluded += 1; continue
    if incl and pid == tid and not any(incl.search(s) for s, _ in fr): excluded += 1; continue
    tids[tid] += 1
    leaf[(fr[0][1], re.sub(r"\+0x[0-9a-f]+$", "", fr[0][0]))] += 1
kept = total - excluded
keys = list(leaf)
dem = demangle([k[1] for k in keys])
cats = collections.Counter(); rows = []; setup_leaf = 0
for (dso, sym), d in zip(keys, dem):
    dso2 = "[kernel.kallsyms]" if dso.startswith("[kernel") else ("libopenblas" if "openblas" in dso else dso)
    c = cat(dso2, sym, d)
    if "strsm" in sym: c = "strsm (triangular solves)"
    if c.startswith("setup"): setup_leaf += leaf[(dso, sym)]; continue
    cats[c] += leaf[(dso, sym)]; rows.append((leaf[(dso, sym)], dso2, d))
kept0 = kept; kept -= setup_leaf; excluded += setup_leaf
print(f"{data}: {total} samples; excluded (outside the step / setup, eval, IO) {100*excluded/total:.1f}%; shares below are of the remaining {kept}")
print("  per thread (share of in-step samples):", ", ".join(f"{t}: {100*c/kept0:.0f}%" for t, c in tids.most_common(4)))
for c, n in cats.most_common():
    if 100*n/kept >= 0.3: print(f"  {100*n/kept:6.2f}%  {c}")
print("  top symbols:")
for n, dso, d in sorted(rows, key=lambda r: -r[0])[:top]:
    d = re.sub(r"(specialized |static )", "", d)
    print(f"  {100*n/kept:6.2f}%  {dso[:18]:18} {d[:100]}")
