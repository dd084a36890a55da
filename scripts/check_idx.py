#!/usr/bin/env python3
"""Verify a folder of the four IDX .gz files of MNIST or Fashion-MNIST.

Checks, for each file: a complete gzip stream, the IDX header (magic 0x00000801 for labels,
0x00000803 for images, 28x28), a payload of exactly the product of the dims, images and
labels agreeing in count, labels in 0..9, and the MD5 and SHA-256 of the *decompressed*
file equal to the pinned values below. The MD5s are the published checksums of the
original uncompressed releases (MNIST: LeCun, Cortes & Burges; Fashion-MNIST: Xiao, Rasul
& Vollgraf 2017), so a pass means the files are byte-identical to those releases.

Prints, per file, the SHA-256 of the .gz file as stored, then the counts and first labels.
Exit status 0 when everything holds, 1 otherwise (with one line naming file and problem).

Usage: check_idx.py DIR {mnist,fashion-mnist} [--no-pin]
"""
import gzip
import hashlib
import os
import struct
import sys
import zlib

import numpy as np

# (md5, sha256) of the decompressed IDX files.
PINNED = {
    "mnist": {
        "train-images-idx3-ubyte": ("6bbc9ace898e44ae57da46a324031adb",
                                    "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
        "train-labels-idx1-ubyte": ("a25bea736e30d166cdddb491f175f624",
                                    "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
        "t10k-images-idx3-ubyte": ("2646ac647ad5339dbf082846283269ea",
                                   "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
        "t10k-labels-idx1-ubyte": ("27ae3e4e09519cfbb04c329615203637",
                                   "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte": ("f4a8712d7a061bf5bd6d2ca38dc4d50a",
                                    "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
        "train-labels-idx1-ubyte": ("9018921c3c673c538a1fc5bad174d6f9",
                                    "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
        "t10k-images-idx3-ubyte": ("8181f5470baa50b63fa0f6fddb340f0a",
                                   "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
        "t10k-labels-idx1-ubyte": ("15d484375f8d13e6eb1aabb0c3f46965",
                                   "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
    },
}
EXPECTED_COUNT = {"train": 60000, "t10k": 10000}


class CheckError(Exception):
    pass


def read_idx(path, ndims):
    """Return (dims, payload bytes, decompressed file bytes) of one IDX .gz file."""
    try:
        with open(path, "rb") as f:
            raw = gzip.decompress(f.read())
    except FileNotFoundError:
        raise CheckError(f"{path}: missing")
    except (OSError, EOFError, zlib.error) as e:
        raise CheckError(f"{path}: bad gzip stream ({e})")
    if len(raw) < 4 + 4 * ndims:
        raise CheckError(f"{path}: truncated header")
    zero, code, nd = struct.unpack(">HBB", raw[:4])
    if zero != 0 or code != 0x08 or nd != ndims:
        raise CheckError(f"{path}: bad magic {raw[:4].hex()} (want 000008{ndims:02x})")
    dims = struct.unpack(">" + "I" * ndims, raw[4:4 + 4 * ndims])
    payload = raw[4 + 4 * ndims:]
    if len(payload) != int(np.prod(dims, dtype=np.int64)):
        raise CheckError(f"{path}: payload {len(payload)} bytes, dims {dims} need {np.prod(dims)}")
    return dims, payload, raw


def check(folder, name, pin):
    lines = []
    for split in ("train", "t10k"):
        files = {}
        for kind, nd in (("images-idx3", 3), ("labels-idx1", 1)):
            stem = f"{split}-{kind}-ubyte"
            path = os.path.join(folder, stem + ".gz")
            dims, payload, raw = read_idx(path, nd)
            if pin:
                md5, sha = PINNED[name][stem]
                got_md5 = hashlib.md5(raw).hexdigest()
                got_sha = hashlib.sha256(raw).hexdigest()
                if (got_md5, got_sha) != (md5, sha):
                    raise CheckError(f"{path}: decompressed content differs from the reference "
                                     f"(md5 {got_md5}, want {md5})")
            with open(path, "rb") as f:
                gz_sha = hashlib.sha256(f.read()).hexdigest()
            files[kind] = (path, dims, payload, gz_sha)
        ipath, idims, _, isha = files["images-idx3"]
        lpath, ldims, labels, lsha = files["labels-idx1"]
        if idims[1:] != (28, 28):
            raise CheckError(f"{ipath}: images are {idims[1]}x{idims[2]}, want 28x28")
        if idims[0] != ldims[0]:
            raise CheckError(f"{lpath}: {ldims[0]} labels but {idims[0]} images in {ipath}")
        if pin and idims[0] != EXPECTED_COUNT[split]:
            raise CheckError(f"{ipath}: {idims[0]} images, want {EXPECTED_COUNT[split]}")
        y = np.frombuffer(labels, dtype=np.uint8)
        if y.size and y.max() > 9:
            raise CheckError(f"{lpath}: label {int(y.max())} >= 10")
        lines.append(f"{isha}  {ipath}  ({idims[0]} images {idims[1]}x{idims[2]})")
        lines.append(f"{lsha}  {lpath}  ({ldims[0]} labels, first {y[:10].tolist()}, "
                     f"per class {np.bincount(y, minlength=10).tolist()})")
    return lines


def main():
    args = [a for a in sys.argv[1:] if a != "--no-pin"]
    pin = "--no-pin" not in sys.argv[1:]
    if len(args) != 2 or args[1] not in PINNED:
        print("usage: check_idx.py DIR {mnist,fashion-mnist} [--no-pin]", file=sys.stderr)
        return 2
    try:
        lines = check(args[0], args[1], pin)
    except CheckError as e:
        print(f"check_idx: error: {e}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    if pin:
        print(f"check_idx: {args[0]}: OK, byte-identical to the reference {args[1]} release")
    return 0


if __name__ == "__main__":
    sys.exit(main())
