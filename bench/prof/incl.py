#!/usr/bin/env python3
# incl.py DATA REGEX [SAMPLING_HZ]: samples whose chain has a frame matching REGEX (mangled), by leaf symbol.
import re, sys, collections
from perfdata import demangle, samples

data, pat = sys.argv[1], re.compile(sys.argv[2])
total = 0; n = 0; leaf = collections.Counter()
for _, fr in samples(data):
    total += 1
    if any(pat.search(s) for s, _ in fr):
        n += 1; leaf[re.sub(r"\+0x[0-9a-f]+$", "", fr[0][0])] += 1
keys = list(leaf)
dem = demangle(keys)
print(f"{sys.argv[2]}: {n} of {total} samples = {100*n/total:.2f}%  ({n/ float(sys.argv[3]) * 1000 if len(sys.argv)>3 else 0:.1f} ms at the sampling rate)")
for k, d in sorted(zip(keys, dem), key=lambda x: -leaf[x[0]])[:10]:
    print(f"   {leaf[k]:5d}  {re.sub('(specialized |static )', '', d)[:110]}")
