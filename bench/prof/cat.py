#!/usr/bin/env python3
# Categorise `perf report --no-children --sort dso,symbol` self-time shares.
import re, subprocess, sys, collections, os
from perfdata import demangle

def cat(dso, sym, d):
    s = sym.lower()
    if "libopenblas" in dso:
        if re.search(r"sgemm_(small_)?kernel", s): return "sgemm kernel"
        if re.search(r"copy_", s) and "sgemm" in s: return "sgemm packing"
        if "sgemm_beta" in s: return "sgemm beta (C scaling)"
        if re.search(r"yield|blas_thread|exec_blas|inner_thread|sync", s) or s.startswith("0x"): return "thread sync"
        return "BLAS level 1/2 (" + (re.sub(r"_k?_?cooperlake$", "", s) if re.search(r"^(saxpy|sscal|sgemv|sger|sdot|snrm|scopy)", s) else "misc") + ")"
    if re.search(r"sched_yield|futex|finish_task_switch|__schedule|schedule\b|pthread_cond|pthread_mutex|spinpool|_raw_spin|try_to_wake|nanosleep|ttwu|pick_next|select_task|update_curr|dequeue|enqueue|switch_to|__lll", s + " " + d.lower()):
        return "thread sync"
    if re.search(r"memmove|memcpy|memset", s): return "memcpy/memset"
    if dso.startswith("[kernel"):
        if re.search(r"page|fault|mm_|clear_|folio|lru|memcg|pte|anon|vma|charge|rmqueue|zone", s): return "page faults (kernel)"
        return "kernel other"
    if re.search(r"sha256|crc32|inflate|adler", s + d.lower()) or "libz" in dso or "ld-linux" in dso or "frombytes" in s or "libhdf5" in dso: return "setup: data load/checksum/HDF5/dyld"
    if re.search(r"malloc|free|swift_(retain|release|alloc|dealloc|bridgeObject|beginAccess|endAccess)|_int_|arrayallocation|swift_isUniquely", s): return "alloc/refcount"
    if re.search(r"im2col|col2im|transposedconvolutionchunk|unfold", s + " " + d.lower()): return "im2col/col2im (incl. inlined col2im of transposedConvolutionChunk)"
    if dso == "lpom": return "lpom own"
    return "other (" + dso + ")"

def main():
    data = sys.argv[1]; extra = sys.argv[2:]
    out = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "dso,symbol", "--stdio", "-g", "none",
                          "--percent-limit", "0"] + extra, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        m = re.match(r"\s+([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(.*?)\s*$", line)
        if m: rows.append((float(m.group(1)), m.group(2), re.sub(r"(\s+-)+\s*$", "", m.group(4))))
    names = [r[2] for r in rows]
    dem = demangle(names)
    tot = collections.Counter(); top = []
    for (p, dso, sym), d in zip(rows, dem):
        c = cat(dso, sym, d); tot[c] += p; top.append((p, dso, d[:110], c))
    print("categories (share of all samples):")
    for c, p in tot.most_common(): print(f"  {p:6.2f}%  {c}")
    print("top symbols:")
    for p, dso, d, c in top[:int(os.environ.get('TOP', 25))]: print(f"  {p:6.2f}%  {dso[:18]:18} {d}")


if __name__ == "__main__":
    main()
