#!/usr/bin/env python3
# sched.py DATA…: per thread, the share of samples spent yielding (sched_yield) or waiting (futex).
import re, sys, collections
from perfdata import samples

for data in sys.argv[1:]:
    tot = 0; c = collections.Counter()
    for header, fr in samples(data):
        if not fr: continue
        tot += 1
        if re.search(r"__schedule|finish_task_switch|do_sched_yield|__sched_yield|do_syscall_64|entry_SYSCALL|syscall_exit|_raw_spin", fr[0][0]):
            ch = " ".join(s for s, _ in fr)
            c[("sched_yield" if "sched_yield" in ch else "futex" if "futex" in ch else "other") + " tid " + header] += 1
    print(data, {k: f"{100*v/tot:.1f}%" for k, v in c.items()})
