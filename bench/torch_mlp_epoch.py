#!/usr/bin/env python3
"""PyTorch peer: seconds per MNIST epoch of a 784-300-100-10 ReLU MLP trained with SGD.

Same task as lpom's gradient trainer, to compare against: MNIST from data/mnist (IDX .gz,
read with numpy), pixels / 255 as float32, softmax cross-entropy (mean over the batch),
SGD with lr 0.1 and heavy-ball momentum 0.9 (PyTorch's form: v <- 0.9 v + g, w <- w - 0.1 v),
batch 100, 600 steps per epoch over a shuffled order fixed by --seed. PyTorch's default
initialisation, seeded the same way for every thread count.

For each thread count T in --threads, after a warm-up of --warmup steps on a throw-away
model, times --epochs epochs with torch.set_num_threads(T) and prints one JSON line:
  {"peer": "pytorch", "threads": T, "epoch_seconds": ..., "steps": 600, ...}
epoch_seconds is the median over the epochs; with --epochs given, the line also holds
the test accuracy after the last epoch.

Usage (from the repository root; install: see bench/README.md):
  $LPOM_TORCH_PYTHON bench/torch_mlp_epoch.py --threads 1,2 [--epochs N]
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from idx import read_idx  # noqa: E402  (bench/idx.py: the bench scripts' one IDX reader)

BATCH = 100
LR = 0.1
MOMENTUM = 0.9


def load_split(folder, prefix):
    def find(stem):
        for name in (stem + ".gz", stem):
            path = os.path.join(folder, name)
            if os.path.exists(path):
                return path
        sys.exit(f"torch_mlp_epoch: {os.path.join(folder, stem)}.gz missing; run bash data/setup.sh")
    x = read_idx(find(f"{prefix}-images-idx3-ubyte"))
    y = read_idx(find(f"{prefix}-labels-idx1-ubyte"))
    x = torch.from_numpy(x.reshape(len(x), -1).astype(np.float32) / np.float32(255.0))
    y = torch.from_numpy(y.astype(np.int64))
    return x, y


def make_model(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(784, 300), nn.ReLU(),
                         nn.Linear(300, 100), nn.ReLU(),
                         nn.Linear(100, 10))


def step(model, opt, xb, yb):
    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(xb), yb)
    loss.backward()
    opt.step()
    return loss


def run_epoch(model, opt, x, y):
    """600 steps over x, y already in the epoch's shuffled order."""
    for i in range(0, len(x), BATCH):
        step(model, opt, x[i:i + BATCH], y[i:i + BATCH])


@torch.no_grad()
def accuracy(model, x, y):
    return (model(x).argmax(dim=1) == y).float().mean().item()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="data/mnist", help="folder with the MNIST IDX files")
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--epochs", type=int, default=None,
                    help="epochs to train per thread count (default 1, no accuracy)")
    ap.add_argument("--warmup", type=int, default=5, help="warm-up steps before timing")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    try:
        threads = [int(t) for t in args.threads.split(",") if t]
    except ValueError:
        ap.error(f"--threads must be comma-separated integers, got {args.threads!r}")
    if not threads or min(threads) < 1:
        ap.error("--threads needs at least one count >= 1")
    epochs = args.epochs if args.epochs is not None else 1
    if epochs < 1:
        ap.error("--epochs must be >= 1")

    x_train, y_train = load_split(args.data, "train")
    x_test, y_test = load_split(args.data, "t10k")
    if len(x_train) % BATCH:
        sys.exit(f"torch_mlp_epoch: {len(x_train)} training images is not a multiple of {BATCH}")
    rng = np.random.default_rng(args.seed)
    orders = [torch.from_numpy(rng.permutation(len(x_train))) for _ in range(epochs)]

    for t in threads:
        torch.set_num_threads(t)
        warm = make_model(args.seed)
        warm_opt = torch.optim.SGD(warm.parameters(), lr=LR, momentum=MOMENTUM)
        for i in range(args.warmup):
            step(warm, warm_opt, x_train[i * BATCH:(i + 1) * BATCH], y_train[i * BATCH:(i + 1) * BATCH])

        model = make_model(args.seed)
        opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
        seconds, cpu = [], []
        for order in orders:
            x, y = x_train[order], y_train[order]  # shuffling is outside the timed region
            start, cpu_start = time.perf_counter(), time.process_time()
            run_epoch(model, opt, x, y)
            seconds.append(time.perf_counter() - start)
            cpu.append(time.process_time() - cpu_start)
        result = {"peer": "pytorch", "threads": t, "epoch_seconds": round(statistics.median(seconds), 4),
                  "epoch_cpu_seconds": round(statistics.median(cpu), 4),
                  "steps": len(x_train) // BATCH}
        if args.epochs is not None:
            result["epochs"] = epochs
            result["epoch_seconds_all"] = [round(s, 4) for s in seconds]
            result["test_accuracy"] = round(accuracy(model, x_test, y_test), 4)
        result["torch"] = torch.__version__
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
