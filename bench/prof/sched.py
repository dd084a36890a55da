import subprocess, sys, re, collections
for n in sys.argv[1:]:
    p = subprocess.run(["perf", "script", "-i", f"/tmp/prof/{n}.data", "-F", "tid,ip,sym"], capture_output=True, text=True).stdout
    tot = 0; c = collections.Counter()
    for b in p.split("\n\n"):
        L = [l.strip() for l in b.strip().splitlines() if l.strip()]
        if len(L) < 2: continue
        tot += 1
        leaf = L[1]; tid = L[0]
        if re.search(r"__schedule|finish_task_switch|do_sched_yield|__sched_yield|do_syscall_64|entry_SYSCALL|syscall_exit|_raw_spin", leaf):
            ch = " ".join(L[1:])
            c[("sched_yield" if "sched_yield" in ch else "futex" if "futex" in ch else "other") + " tid " + tid] += 1
    print(n, {k: f"{100*v/tot:.1f}%" for k, v in c.items()})
