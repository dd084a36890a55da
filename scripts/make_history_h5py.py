#!/usr/bin/env python3
"""Write a small training history with h5py, independently of lpom's Swift writer.

Follows docs/HISTORY-FORMAT.md (format_version 1): a generator-shaped dense
network 10 -> 16 relu -> 784 sigmoid, 3 snapshots (steps 0, 40, 80) of deterministic values
(numpy seed 1234), no buffers, and a `loss` metric at steps 0, 10, ..., 80.

Also writes <output>.json with what a reader must find (steps, shapes, first values,
float64 sums of every parameter at every snapshot, the metric), which
Tests/HistoryStoreTests/HistoryTests.swift compares against HistoryReader.

Usage: python3 scripts/make_history_h5py.py [data/fixtures/h5py-history.h5]
"""
import json
import sys

import h5py
import numpy as np

LAYERS = [("layers.0", 10, 16), ("layers.2", 16, 784)]
STEPS = [0, 40, 80]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "data/fixtures/h5py-history.h5"
    rng = np.random.default_rng(1234)
    model = {"input_shape": [10], "layers": [
        {"name": "layers.0", "type": "dense", "in": 10, "out": 16}, {"type": "relu"},
        {"name": "layers.2", "type": "dense", "in": 16, "out": 784}, {"type": "sigmoid"}]}
    training = {"method": "sgd", "dataset": "synthetic", "seed": 1234, "lr": 0.1, "snapshot_every": 40}

    # theta[name] has shape [T, *shape]; later snapshots drift from the first.
    theta = {}
    for name, n_in, n_out in LAYERS:
        w0 = rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_out, n_in))
        b0 = np.zeros(n_out)
        theta[name + ".weight"] = np.stack([w0 + 0.01 * k * rng.normal(size=w0.shape) for k in range(len(STEPS))])
        theta[name + ".bias"] = np.stack([b0 + 0.01 * k * rng.normal(size=b0.shape) for k in range(len(STEPS))])
    theta = {k: v.astype(np.float32) for k, v in theta.items()}
    metric_steps = np.arange(0, STEPS[-1] + 1, 10, dtype=np.int64)
    loss = 1.0 / (1.0 + metric_steps / 20.0)

    with h5py.File(out, "w", libver=("earliest", "v110")) as f:
        f.attrs["format"] = "lpom-history"
        f.attrs["format_version"] = 1
        f.attrs["created_by"] = "make_history_h5py.py (h5py %s)" % h5py.version.version
        f.attrs["model"] = json.dumps(model)
        f.attrs["training"] = json.dumps(training)
        g = f.create_group("theta")
        for name, value in theta.items():
            g.create_dataset(name, data=value, maxshape=(None,) + value.shape[1:], chunks=(1,) + value.shape[1:])
        f.create_group("buffers")
        f.create_dataset("snapshot_step", data=np.array(STEPS, dtype=np.int64), maxshape=(None,), chunks=(256,))
        m = f.create_group("metrics")
        m.create_dataset("step", data=metric_steps, maxshape=(None,), chunks=(1024,))
        m.create_dataset("loss", data=loss.astype(np.float64), maxshape=(None,), chunks=(1024,))

    expected = {
        "snapshot_steps": STEPS,
        "model": model,
        "shapes": {k: list(v.shape[1:]) for k, v in theta.items()},
        "first_values": {k: [float(x) for x in v[0].reshape(-1)[:3]] for k, v in theta.items()},
        "last_values": {k: [float(x) for x in v[-1].reshape(-1)[-3:]] for k, v in theta.items()},
        "sums": {k: [float(v[t].astype(np.float64).sum()) for t in range(len(STEPS))] for k, v in theta.items()},
        "metric_steps": metric_steps.tolist(),
        "loss": loss.tolist(),
    }
    with open(out.rsplit(".", 1)[0] + ".json", "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
