#!/usr/bin/env python3
"""A straightforward NumPy implementation of the same LPOM iterations as LiftedTrain's
LPOMTrainer (Sources/LiftedTrain/LPOM*.swift), at identical settings, for a per-epoch speed
comparison. float32, rows are samples, batch-mean losses reported as in lpom.

Per mini-batch: forward pass; then `alternations` times
  X-phase: Gauss-Seidel sweeps from the output down (Z computed at the start of each sweep),
           relaxed steps X <- X + theta (phi(...) - X), theta = 2/(2 + rho),
           rho = (mu_{i+1}/mu_i) beta^2 ||W_i||_2^2 (power iteration, warm-started);
           output: closed form (mu Z + Y)/(1 + mu) for squared loss with identity output,
           otherwise the relaxed fixed point X = phi(Z - grad_l(X)/mu) run to tolerance;
           stop when the largest relative change < tol or after `fp` sweeps;
  W-phase: per layer, P = Xa (Xa^T Xa + eps I)^-1 via the smaller Gram system (Cholesky),
           FISTA with gradient restart: W+ = Y - (1/beta)(phi(Xa Y^T) - X+)^T P.

Usage: OPENBLAS_NUM_THREADS=1 python3 bench/lpom_numpy.py --data /path/with/mnist/idx --layers 300 --mu 5 --epochs 1
(one BLAS thread: the matrices are small, and on a shared machine OpenBLAS's default threads
spin against other processes and make the epoch several times slower — notes/lpom-experiments.md §6.)
"""
import argparse
import gzip
import os
import time

import numpy as np

ACT = {
    "relu": (lambda z: np.maximum(z, 0), 1.0),
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), 0.25),
    "tanh": (np.tanh, 1.0),
    "identity": (lambda z: z, 1.0),
}


def load_idx(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find(d, stem):
    for name in (stem, stem + ".gz"):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    raise FileNotFoundError(os.path.join(d, stem))


def cho_solve(a, b):
    # NumPy alone has no Cholesky solve (that is scipy.linalg.cho_solve); a general solve of the
    # small SPD system costs about the same here (b = 100).
    return np.linalg.solve(a, b)


class LPOM:
    def __init__(self, sizes, act, out, loss, mu, fp, tol, apg, eps, relative, alternations, rng):
        self.L = len(sizes) - 1
        self.W, self.b = [], []
        for k in range(self.L):
            std = np.sqrt(2.0 / sizes[k]) if act == "relu" else np.sqrt(2.0 / (sizes[k] + sizes[k + 1]))
            self.W.append((rng.standard_normal((sizes[k + 1], sizes[k])) * std).astype(np.float32))
            self.b.append(np.zeros(sizes[k + 1], np.float32))
        self.phi = [None] + [ACT[act][0]] * (self.L - 1) + [ACT[out][0]]
        self.beta = [None] + [ACT[act][1]] * (self.L - 1) + [ACT[out][1]]
        self.out, self.loss = out, loss
        self.mu = [None] + (mu * self.L if len(mu) == 1 else mu)
        self.fp, self.tol, self.apg, self.eps, self.relative, self.alt = fp, tol, apg, eps, relative, alternations
        self.power = [np.ones(sizes[k], np.float32) for k in range(self.L)]
        self.norm2 = [0.0] * self.L
        self.first = True

    def forward(self, x):
        for k in range(self.L):
            x = self.phi[k + 1](x @ self.W[k].T + self.b[k])
        return x

    def estimate_norms(self):
        for k in range(1, self.L):
            v = self.power[k]
            lam = 0.0
            for _ in range(30 if self.first else 3):
                u = self.W[k] @ v
                lam = float(u @ u) / float(v @ v)
                v = self.W[k].T @ u
                v /= np.linalg.norm(v)
            self.power[k], self.norm2[k] = v, lam
        self.first = False

    def grad_loss(self, x, y):
        if self.loss == "squared-error":
            return x - y
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True) - y

    def x_phase(self, X, Y):
        L, mu = self.L, self.mu
        Z = [None] * (L + 1)
        for sweep in range(self.fp):
            for k in range(1 if sweep == 0 else 2, L + 1):
                Z[k] = X[k - 1] @ self.W[k - 1].T + self.b[k - 1]
            worst = 0.0
            # output
            if self.loss == "squared-error" and self.out == "identity":
                new = (mu[L] * Z[L] + Y) / (1 + mu[L])
            else:
                kappa = self.beta[L] * (1.0 if self.loss == "squared-error" else 0.5) / mu[L]
                th = 2 / (2 + kappa)
                new = X[L]
                for _ in range(self.fp * 5):
                    nxt = new + th * (self.phi[L](Z[L] - self.grad_loss(new, Y) / mu[L]) - new)
                    ch = np.linalg.norm(nxt - new) / max(np.linalg.norm(new), 1e-12)
                    new = nxt
                    if ch <= self.tol * 0.1:
                        break
            worst = max(worst, np.linalg.norm(new - X[L]) / max(np.linalg.norm(X[L]), 1e-12))
            X[L] = new
            for i in range(L - 1, 0, -1):
                r = mu[i + 1] / mu[i]
                rho = r * self.beta[i] * self.beta[i + 1] * self.norm2[i]
                th = 2 / (2 + rho)
                R = self.phi[i + 1](Z[i + 1]) - X[i + 1]
                C = self.phi[i](Z[i] - r * (R @ self.W[i]))
                step = th * (C - X[i])
                worst = max(worst, np.linalg.norm(step) / max(np.linalg.norm(X[i]), 1e-12))
                X[i] = X[i] + step
            if worst <= self.tol:
                break

    def w_phase(self, X):
        for k in range(self.L):
            b = X[k].shape[0]
            Xa = np.hstack([X[k], np.ones((b, 1), np.float32)])
            n = Xa.shape[1]
            eps = self.eps * (float(np.sum(Xa * Xa)) / b if self.relative else 1.0)
            if b <= n:
                P = cho_solve(Xa @ Xa.T + eps * np.eye(b, dtype=np.float32), Xa)
            else:
                P = cho_solve(Xa.T @ Xa + eps * np.eye(n, dtype=np.float32), Xa.T).T
            Wt = np.hstack([self.W[k], self.b[k][:, None]])
            prev, Yk, t = Wt, Wt, 1.0
            for it in range(self.apg):
                D = (self.phi[k + 1](Xa @ Yk.T) - X[k + 1]).T @ P
                nxt = Yk - D / self.beta[k + 1]
                tn = (1 + np.sqrt(1 + 4 * t * t)) / 2
                m = (t - 1) / tn
                step = nxt - prev
                if it > 0 and float(np.sum(D * step)) > 0:
                    m, tn = 0.0, 1.0
                Yk = nxt + m * step
                prev, t = nxt, tn
            self.W[k] = np.ascontiguousarray(prev[:, :-1])
            self.b[k] = prev[:, -1].copy()

    def step(self, x, labels):
        Y = np.eye(10, dtype=np.float32)[labels]
        X = [x]
        for k in range(self.L):
            X.append(self.phi[k + 1](X[k] @ self.W[k].T + self.b[k]))
        for _ in range(self.alt):
            self.estimate_norms()
            self.x_phase(X, Y)
            self.w_phase(X)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--layers", default="300")
    ap.add_argument("--activation", default="relu")
    ap.add_argument("--output-activation", default="identity")
    ap.add_argument("--loss", default="cross-entropy")
    ap.add_argument("--mu", default="5")
    ap.add_argument("--fixed-point-iterations", type=int, default=20)
    ap.add_argument("--fixed-point-tolerance", type=float, default=1e-3)
    ap.add_argument("--apg-iterations", type=int, default=10)  # lpom's default (chosen on validation)
    ap.add_argument("--ridge", type=float, default=1.0)
    ap.add_argument("--no-relative-ridge", action="store_true")
    ap.add_argument("--alternations", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--train-limit", type=int, default=60000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    xs = load_idx(find(a.data, "train-images-idx3-ubyte"))[: a.train_limit].reshape(-1, 784).astype(np.float32) / 255
    ys = load_idx(find(a.data, "train-labels-idx1-ubyte"))[: a.train_limit].astype(np.int64)
    xt = load_idx(find(a.data, "t10k-images-idx3-ubyte")).reshape(-1, 784).astype(np.float32) / 255
    yt = load_idx(find(a.data, "t10k-labels-idx1-ubyte")).astype(np.int64)
    rng = np.random.default_rng(a.seed)
    hidden = [int(s) for s in a.layers.split(",") if s]
    m = LPOM([784] + hidden + [10], a.activation, a.output_activation, a.loss, [float(v) for v in a.mu.split(",")],
             a.fixed_point_iterations, a.fixed_point_tolerance, a.apg_iterations, a.ridge, not a.no_relative_ridge, a.alternations, rng)
    for epoch in range(a.epochs):
        order = rng.permutation(len(ys))
        t0 = time.perf_counter()
        for s in range(0, len(ys), a.batch_size):
            idx = order[s:s + a.batch_size]
            m.step(xs[idx], ys[idx])
        dt = time.perf_counter() - t0
        acc = float(np.mean(np.argmax(m.forward(xt), axis=1) == yt))
        print(f"epoch {epoch + 1}  {dt:.2f} s  test accuracy {100 * acc:.2f}%", flush=True)


if __name__ == "__main__":
    main()
