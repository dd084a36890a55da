#!/usr/bin/env python3
# callers.py DATA LEAF_REGEX [DEPTH]: for samples whose leaf symbol matches, the nearest lpom frames above it.
import re, subprocess, sys, collections
data, pat = sys.argv[1], re.compile(sys.argv[2]); depth = int(sys.argv[3]) if len(sys.argv) > 3 else 2
p = subprocess.run(["perf", "script", "-i", data, "-F", "ip,sym,dso"], capture_output=True, text=True).stdout
total = 0; hits = collections.Counter(); n = 0
for block in p.split("\n\n"):
    frames = [l.strip() for l in block.strip().splitlines() if l.strip()]
    if not frames: continue
    total += 1
    parsed = []
    for f in frames:
        m = re.match(r"([0-9a-f]+)\s+(.*?)\s+\((.*)\)$", f)
        if m: parsed.append((m.group(2), m.group(3)))
    if not parsed or not pat.search(parsed[0][0]): continue
    n += 1
    ups = [s for s, d in parsed[1:] if d.endswith("/lpom") and "[unknown]" not in s][:depth]
    hits[" <- ".join(ups) or "(no lpom frame)"] += 1
names = list(hits)
dem = subprocess.run(["/opt/swift/usr/bin/swift-demangle", "--simplified", "--compact"], input="\n".join(names), capture_output=True, text=True).stdout.splitlines()
print(f"{sys.argv[2]}: {100*n/total:.2f}% of {total} samples")
for (k, c), d in sorted(zip(hits.items(), dem), key=lambda x: -x[0][1])[:8]:
    d2 = re.sub(r'(specialized |static |partial apply for |closure #[0-9]+ in )', '', d)[:230]
    print(f"  {100*c/total:6.2f}%  {d2}")
