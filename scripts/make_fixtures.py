#!/usr/bin/env python3
"""Rebuild the test fixtures data/fixtures/tiny/{mnist,fashion-mnist}/ from the full sets.

Takes the first 200 training and the first 100 test examples of data/mnist and
data/fashion-mnist (run `bash data/setup.sh` first) and writes them under the standard four
IDX file names, gzip'd with no file name and mtime 0 so reruns give identical bytes.
numpy only. Run from the repository root: python3 scripts/make_fixtures.py
"""
import gzip
import os
import struct
import sys

import numpy as np

N_TRAIN, N_TEST = 200, 100


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    nd = raw[3]
    if raw[:3] != b"\x00\x00\x08":
        sys.exit(f"make_fixtures: {path}: not a ubyte IDX file")
    dims = struct.unpack(">" + "I" * nd, raw[4:4 + 4 * nd])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


def write_idx(path, array):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(">" + "I" * array.ndim, *array.shape)
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
            gz.write(header + np.ascontiguousarray(array).tobytes())


def main():
    for name in ("mnist", "fashion-mnist"):
        src = os.path.join("data", name)
        dst = os.path.join("data", "fixtures", "tiny", name)
        os.makedirs(dst, exist_ok=True)
        for split, n in (("train", N_TRAIN), ("t10k", N_TEST)):
            for kind in ("images-idx3", "labels-idx1"):
                fname = f"{split}-{kind}-ubyte.gz"
                src_path = os.path.join(src, fname)
                if not os.path.exists(src_path):
                    sys.exit(f"make_fixtures: {src_path} missing; run bash data/setup.sh first")
                a = read_idx(src_path)[:n]
                write_idx(os.path.join(dst, fname), a)
                if kind == "labels-idx1":
                    print(f"{dst}/{fname}: {len(a)} labels, first {a[:10].tolist()}")


if __name__ == "__main__":
    main()
