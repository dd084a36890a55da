#!/usr/bin/env python3
"""PyTorch peer: seconds for one training epoch of the small convolutional HB-Net that
`lpom train --arch hbnet --block conv` builds, on the same data and with the same optimizer.

Model (ArchFromOpt.Architecture.model, convolutional): conv3x3(1->C, pad 1) + BatchNorm2d + ReLU +
MaxPool2d(2) -> heavy-ball recurrence of depth K, x_{k+1} = T_k(x_k) + b_k x_k - b_k x_{k-1}
(x_{-1} = x_0, b_k = k/(k+2)) with T_k = conv3x3(C->C, pad 1) + BatchNorm2d + ReLU ->
global average pool -> Linear(C, 10). Softmax cross-entropy, SGD lr 0.1 momentum 0.9, batch 100,
pixels / 255, a shuffled order fixed by --seed. Prints one JSON line with epoch_seconds and the
test accuracy after the epoch.

Usage (repository root):
  $LPOM_TORCH_PYTHON bench/torch_hbnet_epoch.py --data-dir data \
      --dataset fashion-mnist --depth 3 --width 16 --threads 1
"""
import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from idx import read_idx  # noqa: E402  (bench/idx.py: the bench scripts' one IDX reader)


def load(folder, prefix):
    def find(stem):
        for name in (stem + ".gz", stem):
            if os.path.exists(os.path.join(folder, name)):
                return os.path.join(folder, name)
        raise SystemExit(f"{os.path.join(folder, stem)} missing")
    x = read_idx(find(f"{prefix}-images-idx3-ubyte")).astype(np.float32) / 255
    y = read_idx(find(f"{prefix}-labels-idx1-ubyte")).astype(np.int64)
    return torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y)


def block(c):
    return nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU())


class HBNet(nn.Module):
    def __init__(self, depth, width):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2))
        self.blocks = nn.ModuleList(block(width) for _ in range(depth))
        self.head = nn.Linear(width, 10)

    def forward(self, x):
        x = self.stem(x)
        prev = x
        for k, t in enumerate(self.blocks):
            b = k / (k + 2)
            x, prev = t(x) + b * x - b * prev, x
        return self.head(x.mean(dim=(2, 3)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data-dir", default="data")
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--depth", type=int, default=3)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-limit", type=int, default=0, help="use only the first N training images (0 = all), as lpom's --train-limit")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    folder = os.path.join(a.data_dir, a.dataset)
    xtr, ytr = load(folder, "train")
    if a.train_limit > 0:
        xtr, ytr = xtr[:a.train_limit], ytr[:a.train_limit]
    xte, yte = load(folder, "t10k")
    model = HBNet(a.depth, a.width)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    order = torch.randperm(len(ytr), generator=torch.Generator().manual_seed(a.seed))
    model.train()
    t0 = time.perf_counter()
    for i in range(0, len(ytr), 100):
        idx = order[i:i + 100]
        loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - t0
    model.eval()
    with torch.no_grad():
        correct = sum((model(xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum().item() for i in range(0, len(yte), 1000))
    print(json.dumps({"peer": "pytorch", "torch": torch.__version__, "threads": a.threads, "dataset": a.dataset,
                      "depth": a.depth, "width": a.width, "epoch_seconds": round(seconds, 2),
                      "test_accuracy": correct / len(yte)}))


if __name__ == "__main__":
    main()
