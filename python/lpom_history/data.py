"""MNIST-style IDX files (raw or gzip), as lpom reads them: images uint8 [N, rows, cols], labels uint8 [N]."""
import gzip
import os

import numpy as np


def read_idx(path):
    """The array of one IDX file (magic 0x0000080D: unsigned bytes, D dimensions)."""
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    with (gzip.open if gz else open)(path, "rb") as f:
        raw = f.read()
    if raw[:3] != b"\x00\x00\x08":
        raise ValueError("%s: not an IDX file of unsigned bytes" % path)
    nd = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * nd)
    if body.size != int(np.prod(dims)):
        raise ValueError("%s: %d bytes of data for shape %s" % (path, body.size, dims))
    return body.reshape(dims)


def load_split(data_dir, dataset="mnist", split="test", limit=0):
    """(x, y) of `data_dir/dataset` (`--data-dir` of lpom): x float32 [N, 784] = pixels/255,
    y int64 [N]; split "test" (t10k) or "train"; `limit` > 0 keeps the first N (lpom's --test-limit)."""
    stem = "t10k" if split == "test" else "train"

    def find(kind):
        base = os.path.join(data_dir, dataset, "%s-%s-idx%d-ubyte" % (stem, kind, 3 if kind == "images" else 1))
        for p in (base + ".gz", base):
            if os.path.exists(p):
                return p
        raise FileNotFoundError("%s(.gz) missing (pass lpom's --data-dir)" % base)
    x = read_idx(find("images"))
    y = read_idx(find("labels"))
    if limit:
        x, y = x[:limit], y[:limit]
    return x.reshape(len(x), -1).astype(np.float32) / 255.0, y.astype(np.int64)
