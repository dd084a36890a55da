#!/usr/bin/env python3
"""A straightforward NumPy implementation of the same ADMM iterations as LiftedTrain's
ADMMTrainer (Sources/LiftedTrain/Lifted/ADMM.swift; Taylor et al. 2016, Algorithm 1), at
identical settings, for a per-iteration speed comparison. float32, rows are samples, full batch.

Per iteration, for l = 1 .. L-1:
  W_l = least squares of z_l on [a_{l-1}, 1] with a relative ridge (np.linalg.solve of the
        (d+1) x (d+1) normal equations; the data's system is factored once, as lpom does);
  a_l = (beta (z_{l+1} - b) W_{l+1} + gamma relu(z_l)) (beta W^T W + gamma I)^-1;
  z_l = per-entry argmin gamma (a - relu z)^2 + beta (z - m)^2 (both branches compared);
then W_L, z_L = (Y - lambda + 2 beta m)/(1 + 2 beta), lambda += beta (z_L - m); the timed
iteration also evaluates the network on the training set and the test set, as an lpom epoch does.
z, a start from a forward pass of a He-initialised network, lambda = 0.

Usage: OPENBLAS_NUM_THREADS=1 python3 bench/admm_numpy.py --data data/mnist --layers 300 --iterations 3
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lpom_numpy import find, load_idx  # noqa: E402  (the IDX reader of the LPOM peer)


def relu(x):
    return np.maximum(x, 0)


def aug(a):
    return np.hstack([a, np.ones((a.shape[0], 1), a.dtype)])


def normal_matrix(a, ridge):
    at = aug(a)
    g = at.T @ at
    g[np.diag_indices_from(g)] += ridge * np.trace(g) / g.shape[0]
    return at, g


def least_squares(z, a, ridge, cached=None):
    at, g = cached if cached is not None else normal_matrix(a, ridge)
    return np.linalg.solve(g, at.T @ z).T          # W~ = [W, b], (m, d+1)


def affine(w, a):
    return a @ w[:, :-1].T + w[:, -1]


def forward(ws, h):
    for k, w in enumerate(ws):
        h = affine(w, h)
        if k + 1 < len(ws):
            h = relu(h)
    return h


def relu_prox(a, m, gamma, beta):
    zp = np.maximum(0, (gamma * a + beta * m) / (gamma + beta))
    zn = np.minimum(0, m)
    fp = gamma * (a - zp) ** 2 + beta * (zp - m) ** 2
    fn = gamma * a ** 2 + beta * (zn - m) ** 2
    return np.where(fp <= fn, zp, zn)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--layers", default="300")
    ap.add_argument("--iterations", type=int, default=3)
    ap.add_argument("--train-limit", type=int, default=50000)
    ap.add_argument("--beta", type=float, default=1.0)
    ap.add_argument("--gamma", type=float, default=10.0)
    ap.add_argument("--ridge", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=0)
    o = ap.parse_args()
    x = load_idx(find(o.data, "train-images-idx3-ubyte"))[: o.train_limit].reshape(-1, 784).astype(np.float32) / 255
    y = load_idx(find(o.data, "train-labels-idx1-ubyte"))[: o.train_limit].astype(np.int64)
    xt = load_idx(find(o.data, "t10k-images-idx3-ubyte")).reshape(-1, 784).astype(np.float32) / 255
    yt = load_idx(find(o.data, "t10k-labels-idx1-ubyte")).astype(np.int64)
    Y = np.eye(10, dtype=np.float32)[y]
    rng = np.random.default_rng(o.seed)
    sizes = [784] + [int(s) for s in o.layers.split(",") if s] + [10]
    L = len(sizes) - 1
    ws = [np.hstack([rng.normal(0, np.sqrt(2 / sizes[k]), (sizes[k + 1], sizes[k])),
                     np.zeros((sizes[k + 1], 1))]).astype(np.float32) for k in range(L)]
    beta, gamma = np.float32(o.beta), np.float32(o.gamma)
    z, a = [None], [x]
    for k in range(L):
        z.append(affine(ws[k], a[-1]))
        a.append(relu(z[-1]))
    a = a[:L]
    lam = np.zeros_like(Y)
    data_system = normal_matrix(x, o.ridge)
    for it in range(o.iterations):
        t0 = time.perf_counter()
        for l in range(1, L):
            ws[l - 1] = least_squares(z[l], a[l - 1], o.ridge, data_system if l == 1 else None)
            W, b = ws[l][:, :-1], ws[l][:, -1]
            h = beta * W.T @ W + gamma * np.eye(W.shape[1], dtype=np.float32)
            a[l] = np.linalg.solve(h, (beta * (z[l + 1] - b) @ W + gamma * relu(z[l])).T).T
            z[l] = relu_prox(a[l], affine(ws[l - 1], a[l - 1]), gamma, beta)
        ws[L - 1] = least_squares(z[L], a[L - 1], o.ridge, data_system if L == 1 else None)
        m = affine(ws[L - 1], a[L - 1])
        z[L] = (Y - lam + 2 * beta * m) / (1 + 2 * beta)
        lam = lam + beta * (z[L] - m)
        # What an lpom epoch also does: the network's loss and accuracy on the training set (the
        # step's report) and the test set's evaluation.
        train_out = forward(ws, x)
        train_loss = 0.5 * np.sum((train_out - Y) ** 2) / len(y)
        test_acc = np.mean(np.argmax(forward(ws, xt), 1) == yt)
        dt = time.perf_counter() - t0
        print(f"iteration {it + 1}  {dt:.2f} s  train loss {train_loss:.4f}  test accuracy {100 * test_acc:.2f}%", flush=True)


if __name__ == "__main__":
    main()
