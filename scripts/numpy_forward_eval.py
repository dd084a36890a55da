#!/usr/bin/env python3
"""Test accuracy of one snapshot of an lpom training history, computed with NumPy alone.

An independent check of lpom's own evaluation: reads the history with h5py, rebuilds the
forward pass from the `model` JSON attribute (HISTORY-FORMAT.md), and classifies IDX images.

Layer types: dense (y = x W^T + b, weight "<name>.weight" [out, in], bias "<name>.bias" [out]),
relu, leaky_relu (alpha), sigmoid, tanh, elu (alpha), softplus, identity, normalize (mean, std).
Images: IDX (raw or gzip), magic 0x00000803, uint8 [N, rows, cols], scaled x/255 and
flattened; labels: magic 0x00000801, uint8 [N].

Usage: python3 scripts/numpy_forward_eval.py HISTORY --images IDX --labels IDX [--snapshot K] [--json]
Prints "accuracy 0.9812" (or a JSON object with --json).
"""
import argparse
import gzip
import json
import sys

import h5py
import numpy as np


def read_idx(path, magic):
    with open(path, "rb") as f:
        head = f.read(2)
    opener = gzip.open if head == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        data = f.read()
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        sys.exit("%s: bad IDX magic 0x%08x (expected 0x%08x)" % (path, found, magic))
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        sys.exit("%s: %d bytes of data for shape %s" % (path, body.size, dims))
    return body.reshape(dims)


def forward(model, theta, x):
    for i, layer in enumerate(model["layers"]):
        kind = layer["type"]
        if kind == "dense":
            w, b = theta[layer["name"] + ".weight"], theta[layer["name"] + ".bias"]
            if w.ndim != 2 or w.shape[1] != x.shape[1] or b.shape != (w.shape[0],):
                sys.exit("layer %d (%s): weight %s, bias %s do not fit input width %d"
                         % (i, layer["name"], w.shape, b.shape, x.shape[1]))
            x = x @ w.T + b
        elif kind == "relu":
            x = np.maximum(x, 0)
        elif kind == "leaky_relu":
            x = np.where(x > 0, x, layer.get("alpha", 0.01) * x)
        elif kind == "sigmoid":
            x = 0.5 * (1 + np.tanh(0.5 * x))
        elif kind == "tanh":
            x = np.tanh(x)
        elif kind == "elu":
            x = np.where(x > 0, x, layer.get("alpha", 1.0) * np.expm1(np.minimum(x, 0)))
        elif kind == "softplus":
            x = np.logaddexp(0, x)
        elif kind == "identity":
            pass
        elif kind == "normalize":
            x = (x - layer["mean"]) / layer["std"]
        else:
            sys.exit("layer %d: type '%s' is not supported by this script" % (i, kind))
    return x


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("history")
    p.add_argument("--images", required=True)
    p.add_argument("--labels", required=True)
    p.add_argument("--snapshot", type=int, default=-1, help="snapshot index (default -1 = final)")
    p.add_argument("--json", action="store_true")
    a = p.parse_args()

    with h5py.File(a.history, "r") as f:
        if f.attrs.get("format") != "lpom-history":
            sys.exit("%s: not an lpom history" % a.history)
        model = json.loads(f.attrs["model"])
        steps = f["snapshot_step"][()]
        t = len(steps)
        k = a.snapshot + t if a.snapshot < 0 else a.snapshot
        if not 0 <= k < t:
            sys.exit("%s: snapshot %d out of range (%d snapshots)" % (a.history, a.snapshot, t))
        theta = {name: f["theta"][name][k].astype(np.float64) for name in f["theta"]}
        step = int(steps[k])

    images = read_idx(a.images, 0x00000803)
    labels = read_idx(a.labels, 0x00000801)
    if len(images) != len(labels):
        sys.exit("%d images but %d labels" % (len(images), len(labels)))
    x = images.reshape(len(images), -1).astype(np.float64) / 255.0
    width = int(np.prod(model.get("input_shape", [x.shape[1]])))
    if width != x.shape[1]:
        sys.exit("%s: the model takes %d inputs, the images have %d pixels" % (a.history, width, x.shape[1]))
    logits = forward(model, theta, x)
    accuracy = float(np.mean(np.argmax(logits, axis=1) == labels))
    if a.json:
        print(json.dumps({"history": a.history, "snapshot": k, "step": step, "examples": len(labels),
                          "accuracy": accuracy}))
    else:
        print("accuracy %.4f" % accuracy)


if __name__ == "__main__":
    main()
