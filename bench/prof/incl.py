#!/usr/bin/env python3
# incl.py DATA REGEX: samples whose chain has a frame matching REGEX (mangled), by leaf symbol, and the chain frame matched.
import re, subprocess, sys, collections, os
data, pat = sys.argv[1], re.compile(sys.argv[2])
p = subprocess.run(["perf", "script", "-i", data, "-F", "pid,tid,ip,sym,dso"], capture_output=True, text=True).stdout
total = 0; n = 0; leaf = collections.Counter()
for block in p.split("\n\n"):
    lines = [l.strip() for l in block.strip().splitlines() if l.strip()]
    if not lines: continue
    total += 1
    fr = [re.match(r"([0-9a-f]+)\s+(.*?)\s+\((.*)\)$", f) for f in lines[1:]]
    fr = [(m.group(2), os.path.basename(m.group(3))) for m in fr if m]
    if any(pat.search(s) for s, _ in fr):
        n += 1; leaf[re.sub(r"\+0x[0-9a-f]+$", "", fr[0][0])] += 1
keys = list(leaf)
dem = subprocess.run(["/opt/swift/usr/bin/swift-demangle", "--simplified", "--compact"], input="\n".join(keys), capture_output=True, text=True).stdout.splitlines()
print(f"{sys.argv[2]}: {n} of {total} samples = {100*n/total:.2f}%  ({n/ float(sys.argv[3]) * 1000 if len(sys.argv)>3 else 0:.1f} ms at the sampling rate)")
for k, d in sorted(zip(keys, dem), key=lambda x: -leaf[x[0]])[:10]:
    print(f"   {leaf[k]:5d}  {re.sub('(specialized |static )', '', d)[:110]}")
