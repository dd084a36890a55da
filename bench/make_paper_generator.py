#!/usr/bin/env python3
"""A random-initialisation history of the surfing paper's generator, for timing `lpom surf`.

FC k->1024, BN, ReLU, FC 1024->7*7*128, BN, ReLU, unflatten [128, 7, 7], convT 4x4 s2 p1 -> 64x14x14,
BN, ReLU, convT 4x4 s2 p1 -> 1x28x28, sigmoid (Chen et al. 2016's InfoGAN generator, as in Song, Fan,
Lafferty 2019). Weights N(0, 0.02^2) (the authors' init), biases 0, BN gamma 1 + N(0, 0.02^2), beta 0,
running statistics drawn near (0, 1); snapshot t adds N(0, (0.002 t)^2) drift, so the T snapshots
differ as a training run's would (for timing only: nothing here is trained).

Writes OUT.h5 (the history format; h5py) and OUT.npz (the same float32 values, for bench/torch_surf.py,
whose venv has no h5py).

Usage: python3 bench/make_paper_generator.py OUT.h5 [k=20] [snapshots=4] [seed=0]
"""
import json
import sys

import h5py
import numpy as np


def main():
    out = sys.argv[1]
    k = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    T = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    rng = np.random.default_rng(int(sys.argv[4]) if len(sys.argv) > 4 else 0)
    layers = [
        {"name": "layers.0", "type": "dense", "in": k, "out": 1024},
        {"name": "layers.1", "type": "batchnorm", "channels": 1024},
        {"type": "relu"},
        {"name": "layers.3", "type": "dense", "in": 1024, "out": 6272},
        {"name": "layers.4", "type": "batchnorm", "channels": 6272},
        {"type": "relu"},
        {"type": "unflatten", "shape": [128, 7, 7]},
        {"name": "layers.7", "type": "conv_transpose2d", "in_channels": 128, "out_channels": 64, "kernel": 4, "stride": 2, "padding": 1},
        {"name": "layers.8", "type": "batchnorm", "channels": 64},
        {"type": "relu"},
        {"name": "layers.10", "type": "conv_transpose2d", "in_channels": 64, "out_channels": 1, "kernel": 4, "stride": 2, "padding": 1},
        {"type": "sigmoid"},
    ]
    model = {"input_shape": [k], "layers": layers}
    shapes = {"layers.0.weight": (1024, k), "layers.0.bias": (1024,), "layers.1.weight": (1024,), "layers.1.bias": (1024,),
              "layers.3.weight": (6272, 1024), "layers.3.bias": (6272,), "layers.4.weight": (6272,), "layers.4.bias": (6272,),
              "layers.7.weight": (128, 64, 4, 4), "layers.7.bias": (64,), "layers.8.weight": (64,), "layers.8.bias": (64,),
              "layers.10.weight": (64, 1, 4, 4), "layers.10.bias": (1,)}
    base = {}
    for name, shape in shapes.items():
        bn = name.split(".")[1] in ("1", "4", "8")
        if name.endswith("weight"):
            base[name] = (1.0 if bn else 0.0) + rng.normal(0, 0.02, size=shape)
        else:
            base[name] = np.zeros(shape)
    bufs = {}
    for i, c, scale in (("1", 1024, 0.02 * np.sqrt(k / 3)), ("4", 6272, 0.02 * np.sqrt(1024 / 2)), ("8", 64, 0.02 * np.sqrt(128 * 4 / 2))):
        bufs["layers.%s.running_mean" % i] = rng.normal(0, 0.1 * scale, size=c)
        bufs["layers.%s.running_var" % i] = scale ** 2 * (0.5 + rng.random(c))
    theta = {n: np.stack([v + (0.002 * t * rng.normal(size=v.shape) if t else 0) for t in range(T)]).astype(np.float32)
             for n, v in base.items()}
    buffers = {n: np.stack([v] * T).astype(np.float32) for n, v in bufs.items()}
    steps = np.arange(T, dtype=np.int64) * 40
    with h5py.File(out, "w", libver=("v110", "v110")) as f:
        f.attrs["format"] = "lpom-history"
        f.attrs["format_version"] = 1
        f.attrs["created_by"] = "bench/make_paper_generator.py (h5py %s)" % h5py.version.version
        f.attrs["model"] = json.dumps(model)
        f.attrs["training"] = json.dumps({"method": "gan", "dataset": "fashion-mnist", "note": "random initialisation, for timing"})
        for group, values in (("theta", theta), ("buffers", buffers)):
            g = f.create_group(group)
            for name, value in values.items():
                g.create_dataset(name, data=value, maxshape=(None,) + value.shape[1:], chunks=(1,) + value.shape[1:])
        f.create_dataset("snapshot_step", data=steps, maxshape=(None,), chunks=(16,))
        m = f.create_group("metrics")
        m.create_dataset("step", data=np.zeros(0, dtype=np.int64), maxshape=(None,), chunks=(16,))
    np.savez(out.rsplit(".", 1)[0] + ".npz", model=json.dumps(model),
             **{"theta/" + n: v for n, v in theta.items()}, **{"buffers/" + n: v for n, v in buffers.items()})


if __name__ == "__main__":
    main()
