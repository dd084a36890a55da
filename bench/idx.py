"""The IDX reader of the bench scripts (MNIST-style files, raw or gzip): the array of one file of
unsigned bytes, its size checked against its header; a bad file stops the script with one line.
(The same checks as python/lpom_history/data.py, which is a package of its own for users.)"""
import gzip
import sys

import numpy as np


def read_idx(path):
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    with (gzip.open if gz else open)(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[:3] != b"\x00\x00\x08":
        sys.exit(f"{path}: not an IDX file of unsigned bytes")
    nd = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * nd)
    if body.size != int(np.prod(dims)):
        sys.exit(f"{path}: {body.size} bytes of data for shape {dims}")
    return body.reshape(dims)
