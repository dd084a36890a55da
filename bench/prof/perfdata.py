#!/usr/bin/env python3
"""Shared by the bench/prof scripts: perf script samples and Swift symbol demangling."""
import os
import re
import shutil
import subprocess

_FRAME = re.compile(r"([0-9a-f]+)\s+(.*?)\s+\((.*)\)$")


def demangle(names):
    """Simplified Swift names (swift-demangle from PATH); the names unchanged without it."""
    tool = shutil.which("swift-demangle")
    if not tool or not names:
        return list(names)
    out = subprocess.run([tool, "--simplified", "--compact"], input="\n".join(names),
                         capture_output=True, text=True).stdout.splitlines()
    return out if len(out) == len(names) else list(names)


def samples(data, fields="pid,tid,ip,sym,dso"):
    """Yields (header line, [(symbol, dso basename), …] leaf first) for every sample of `data`."""
    text = subprocess.run(["perf", "script", "-i", data, "-F", fields], capture_output=True, text=True).stdout
    for block in text.split("\n\n"):
        lines = [l.strip() for l in block.strip().splitlines() if l.strip()]
        if not lines:
            continue
        frames = [m for m in (_FRAME.match(f) for f in lines[1:]) if m]
        yield lines[0], [(m.group(2), os.path.basename(m.group(3))) for m in frames]
