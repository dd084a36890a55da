#!/usr/bin/env python3
# callers.py DATA LEAF_REGEX [DEPTH]: for samples whose leaf symbol matches, the nearest lpom frames above it.
import re, sys, collections
from perfdata import demangle, samples

data, pat = sys.argv[1], re.compile(sys.argv[2]); depth = int(sys.argv[3]) if len(sys.argv) > 3 else 2
total = 0; hits = collections.Counter(); n = 0
for _, fr in samples(data):
    total += 1
    if not fr or not pat.search(fr[0][0]): continue
    n += 1
    ups = [s for s, d in fr[1:] if d == "lpom" and "[unknown]" not in s][:depth]
    hits[" <- ".join(ups) or "(no lpom frame)"] += 1
names = list(hits)
dem = demangle(names)
print(f"{sys.argv[2]}: {100*n/total:.2f}% of {total} samples")
for (k, c), d in sorted(zip(hits.items(), dem), key=lambda x: -x[0][1])[:8]:
    d2 = re.sub(r'(specialized |static |partial apply for |closure #[0-9]+ in )', '', d)[:230]
    print(f"  {100*c/total:6.2f}%  {d2}")
