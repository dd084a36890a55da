#!/usr/bin/env python3
"""Write a small *generator* training history with h5py, independently of lpom's Swift writer.

Follows docs/HISTORY-FORMAT.md (format_version 1): a generator
3 -> dense 12 -> batchnorm -> relu -> dense 36 -> sigmoid (6x6 images), 3 snapshots
(steps 0, 40, 80) of deterministic values (numpy seed 2024) with batch-norm running statistics
as /buffers, and training method "gan" (so `lpom surf` draws latents from U[-1, 1]^3).

Also writes <output>.json with what a reader must find (float64 sums and first values of every
parameter and buffer at every snapshot); Tests/lpomTests/SurfCLITests.swift checks HistoryReader
against it, writes the same values again through lpom's HistoryWriter and checks that `lpom surf`
gives the same numbers on both files.

Usage: python3 scripts/make_generator_history_h5py.py [data/fixtures/h5py-generator.h5]
"""
import json
import sys

import h5py
import numpy as np

K, HIDDEN, OUT = 3, 12, 36
STEPS = [0, 40, 80]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "data/fixtures/h5py-generator.h5"
    rng = np.random.default_rng(2024)
    model = {"input_shape": [K], "layers": [
        {"name": "layers.0", "type": "dense", "in": K, "out": HIDDEN},
        {"name": "layers.1", "type": "batchnorm", "channels": HIDDEN, "eps": 1e-5, "momentum": 0.1},
        {"type": "relu"},
        {"name": "layers.3", "type": "dense", "in": HIDDEN, "out": OUT},
        {"type": "sigmoid"}]}
    training = {"method": "gan", "dataset": "synthetic", "seed": 2024, "snapshot_every": 40}

    base = {
        "layers.0.weight": rng.normal(0, 0.5, size=(HIDDEN, K)),
        "layers.0.bias": rng.normal(0, 0.1, size=HIDDEN),
        "layers.1.weight": 1 + rng.normal(0, 0.1, size=HIDDEN),
        "layers.1.bias": rng.normal(0, 0.1, size=HIDDEN),
        "layers.3.weight": rng.normal(0, 0.4, size=(OUT, HIDDEN)),
        "layers.3.bias": rng.normal(0, 0.1, size=OUT),
    }
    theta = {k: np.stack([v + 0.05 * t * rng.normal(size=v.shape) for t in range(len(STEPS))]).astype(np.float32)
             for k, v in base.items()}
    buffers = {
        "layers.1.running_mean": np.stack([0.05 * t * rng.normal(size=HIDDEN) for t in range(len(STEPS))]),
        "layers.1.running_var": np.stack([1 + 0.1 * t * rng.random(HIDDEN) for t in range(len(STEPS))]),
    }
    buffers = {k: v.astype(np.float32) for k, v in buffers.items()}

    with h5py.File(out, "w", libver=("v110", "v110")) as f:
        f.attrs["format"] = "lpom-history"
        f.attrs["format_version"] = 1
        f.attrs["created_by"] = "make_generator_history_h5py.py (h5py %s)" % h5py.version.version
        f.attrs["model"] = json.dumps(model)
        f.attrs["training"] = json.dumps(training)
        for group, values in (("theta", theta), ("buffers", buffers)):
            g = f.create_group(group)
            for name, value in values.items():
                g.create_dataset(name, data=value, maxshape=(None,) + value.shape[1:], chunks=(1,) + value.shape[1:])
        f.create_dataset("snapshot_step", data=np.array(STEPS, dtype=np.int64), maxshape=(None,), chunks=(16,))
        m = f.create_group("metrics")
        m.create_dataset("step", data=np.array(STEPS, dtype=np.int64), maxshape=(None,), chunks=(16,))
        m.create_dataset("loss", data=np.array([1.0, 0.5, 0.25]), maxshape=(None,), chunks=(16,))

    expected = {
        "snapshot_steps": STEPS, "model": model, "training": training,
        "sums": {k: [float(v[t].astype(np.float64).sum()) for t in range(len(STEPS))]
                 for k, v in list(theta.items()) + list(buffers.items())},
        "first_values": {k: [float(x) for x in v[-1].reshape(-1)[:3]] for k, v in list(theta.items()) + list(buffers.items())},
    }
    with open(out.rsplit(".", 1)[0] + ".json", "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
