#!/usr/bin/env python3
"""Writes the seed histories of fuzz/corpus/history/ (h5py; run from the repository root).

Tiny files in the history format (docs/HISTORY-FORMAT.md), small so that most mutated bytes
land in HDF5 metadata: a two-layer MLP and a recurrence network (ResNet block, batch norm with
buffers, a learnable coefficient), written in the oldest file format h5py can write, in the
1.10 object formats (extensible-array chunk indexes, compact groups), and with the paged
aggregation that lpom's own writer uses. The committed fixture data/fixtures/h5py-generator.h5 is
copied next to them. lpom-mlp.h5 is lpom's own writer's output: `lpom train --task regression
--teacher-width 2 --input-dim 3 --samples 8 --test-samples 4 --layers 2 --epochs 1
--batch-size 4 --method sgd --threads 1 --history lpom-mlp.h5`.
"""
import json
import os
import shutil

import h5py
import numpy as np

OUT = "fuzz/corpus/history"
MLP = {"input_shape": [3], "layers": [
    {"in": 3, "name": "layers.0", "out": 2, "type": "dense"}, {"type": "relu"},
    {"in": 2, "name": "layers.2", "out": 1, "type": "dense"}]}
RESNET = {"input_shape": [3], "layers": [
    {"type": "flatten"}, {"in": 3, "name": "layers.1", "out": 2, "type": "dense"},
    {"channels": 2, "eps": 1e-05, "momentum": 0.1, "name": "layers.2", "type": "batchnorm"}, {"type": "relu"},
    {"blocks": [[{"in": 2, "name": "layers.4.blocks.0.0", "out": 2, "type": "dense"}]], "name": "layers.4",
     "recurrence": "heavy_ball", "type": "recurrence",
     "states": [{"terms": [{"block": 0, "coef": 1, "from": 0}, {"coef": 1, "from": 0, "learnable": True}]}]},
    {"in": 2, "name": "layers.5", "out": 1, "type": "dense"}]}
TRAINING = {"task": "regression", "dataset": "teacher-student", "loss": "mse", "method": "sgd",
            "teacher_student": {"input_dim": 3, "teacher_width": 2, "samples": 4, "test_samples": 2, "data_seed": 0},
            "argv": ["--task", "regression", "--teacher-width", "2", "--input-dim", "3", "--samples", "4", "--layers", "2"]}
SHAPES = {
    "mlp": ({"layers.0.weight": [2, 3], "layers.0.bias": [2], "layers.2.weight": [1, 2], "layers.2.bias": [1]}, {}),
    "resnet": ({"layers.1.weight": [2, 3], "layers.1.bias": [2], "layers.2.weight": [2], "layers.2.bias": [2],
                "layers.4.blocks.0.0.weight": [2, 2], "layers.4.blocks.0.0.bias": [2], "layers.4.states.1.coef": [1],
                "layers.5.weight": [1, 2], "layers.5.bias": [1]},
               {"layers.2.running_mean": [2], "layers.2.running_var": [2]}),
}


FORMATS = {"earliest": {}, "v110": dict(libver=("v110", "v110")),
           "paged": dict(libver=("earliest", "v110"), fs_strategy="page", fs_page_size=4096)}


def write(name, model, kind, fmt):
    theta, buffers = SHAPES[kind]
    options = FORMATS[fmt]
    with h5py.File(os.path.join(OUT, name), "w", **options) as f:
        f.attrs["format"] = "lpom-history"
        f.attrs["format_version"] = np.int64(1)
        f.attrs["created_by"] = "make_history_corpus.py"
        f.attrs["model"] = json.dumps(model)
        f.attrs["training"] = json.dumps(TRAINING)
        f.create_dataset("snapshot_step", data=np.array([0, 2], dtype=np.int64), maxshape=(None,), chunks=(4,))
        rng = np.random.default_rng(0)
        for group, arrays in (("theta", theta), ("buffers", buffers)):
            g = f.create_group(group)
            for key, shape in arrays.items():
                values = rng.standard_normal([2] + shape).astype(np.float32)
                g.create_dataset(key, data=np.abs(values) if group == "buffers" else values,
                                 maxshape=[None] + shape, chunks=tuple([1] + shape))
        m = f.create_group("metrics")
        m.create_dataset("step", data=np.array([1, 2], dtype=np.int64), maxshape=(None,), chunks=(4,))
        m.create_dataset("loss", data=np.array([0.5, 0.25]), maxshape=(None,), chunks=(4,))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    write("mlp.h5", MLP, "mlp", "earliest")
    write("mlp-paged.h5", MLP, "mlp", "paged")
    write("resnet-v110.h5", RESNET, "resnet", "v110")
    shutil.copy("data/fixtures/h5py-generator.h5", os.path.join(OUT, "h5py-generator.h5"))
