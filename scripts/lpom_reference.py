#!/usr/bin/env python3
"""Independent NumPy reference of one LPOM step (Li, Fang, Lin, AAAI 2019) on a tiny network.

Pins Tests/LiftedTrainTests/LPOMTests.swift (testGoldenValuesFromNumPyReference): the test
hard-codes the numbers this script prints. Written from the equations, not from the Swift code:

  rows are samples; level 0 = input, level k = output of dense layer k-1, Z^k = X^{k-1} W_{k-1}^T + b_{k-1}
  forward pass initialises X
  X-phase: `sweeps` Gauss-Seidel sweeps from the output down; Z^k computed at the start of a sweep
    output:  iterate X <- X + theta (phi(Z^L - grad_l(X)/mu_L) - X)   (inner iterations)
             grad_l = softmax(X) - onehot (cross-entropy summed over the batch)
    hidden:  X^i <- X^i + theta (phi(Z^i - (mu_{i+1}/mu_i) (phi(Z^{i+1}) - X^{i+1}) W_i) - X^i)
  W-phase: per layer, Xa = [X^k, 1], P = Xa (Xa^T Xa + eps I)^{-1};
    FISTA: W+ = Y - (1/beta) (phi(Xa Y^T) - X^{k+1})^T P, t+ = (1 + sqrt(1 + 4 t^2))/2,
    momentum (t - 1)/t+, restarted (0, t+ = 1) when <Y - W+, W+ - W> > 0 after the first step
  objective per sample: sum CE + sum_k mu_k sum B(X^k, Z^k), B = f(x) + g(z) + (x - z)^2/2, tanh:
    f(x) = ((1+x)log(1+x) + (1-x)log(1-x))/2 - x^2/2,  g(z) = log cosh z - z^2/2
"""
import numpy as np

np.set_printoptions(precision=17)

B, SIZES = 5, [3, 4, 3, 2]
MU = [1.5, 2.0, 3.0]
THETA, SWEEPS, INNER, APG, EPS = 0.7, 3, 15, 4, 0.5
LABELS = np.array([0, 1, 1, 0, 1])


def weights(k, rows, cols):
    i, j = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    return 0.6 * np.sin(1.3 * i + 0.7 * j + k + 1.0)


def bias(k, rows):
    return 0.1 * np.cos(np.arange(rows) + 2.0 * k)


X0 = np.array([[np.cos(0.9 * r + 0.4 * c) for c in range(SIZES[0])] for r in range(B)])
W = [weights(k, SIZES[k + 1], SIZES[k]) for k in range(3)]
b = [bias(k, SIZES[k + 1]) for k in range(3)]
L = 3
phi = [None, np.tanh, np.tanh, lambda z: z]
beta = [None, 1.0, 1.0, 1.0]
mu = [None] + MU
Y = np.eye(2)[LABELS]


def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def pre(X, k):
    return X[k - 1] @ W[k - 1].T + b[k - 1]


X = [X0]
for k in range(1, L + 1):
    X.append(phi[k](pre(X, k)))

for s in range(SWEEPS):
    Z = [None] + [pre(X, k) for k in range(1, L + 1)]
    cur = X[L].copy()
    for _ in range(INNER):
        cur = cur + THETA * (phi[L](Z[L] - (softmax(cur) - Y) / mu[L]) - cur)
    X[L] = cur
    for i in range(L - 1, 0, -1):
        R = phi[i + 1](Z[i + 1]) - X[i + 1]
        C = phi[i](Z[i] - mu[i + 1] / mu[i] * R @ W[i])
        X[i] = X[i] + THETA * (C - X[i])

newW, newb = [], []
for k in range(L):
    Xa = np.hstack([X[k], np.ones((B, 1))])
    P = Xa @ np.linalg.inv(Xa.T @ Xa + EPS * np.eye(Xa.shape[1]))
    Wt = np.hstack([W[k], b[k][:, None]])
    prev, Yk, t = Wt.copy(), Wt.copy(), 1.0
    for it in range(APG):
        R = phi[k + 1](Xa @ Yk.T) - X[k + 1]
        D = R.T @ P
        nxt = Yk - D / beta[k + 1]
        tn = (1 + np.sqrt(1 + 4 * t * t)) / 2
        m = (t - 1) / tn
        step = nxt - prev
        if it > 0 and np.sum(D * step) > 0:
            m, tn = 0.0, 1.0
        Yk = nxt + m * step
        prev, t = nxt, tn
    newW.append(prev[:, :-1])
    newb.append(prev[:, -1])
W, b = newW, newb


def f_tanh(x):
    return 0.5 * ((1 + x) * np.log1p(x) + (1 - x) * np.log1p(-x)) - x * x / 2


def g_tanh(z):
    return np.log(np.cosh(z)) - z * z / 2


Z = [None] + [pre(X, k) for k in range(1, L + 1)]
lse = np.log(np.exp(X[L]).sum(axis=1))
obj = np.sum(lse - X[L][np.arange(B), LABELS])
for k in range(1, L):
    obj += mu[k] * np.sum(f_tanh(X[k]) + g_tanh(Z[k]) + 0.5 * (X[k] - Z[k]) ** 2)
obj += mu[L] * np.sum(0.5 * (X[L] - Z[L]) ** 2)

print("X1 =", repr(X[1].ravel().tolist()))
print("X3 =", repr(X[3].ravel().tolist()))
for k in range(L):
    print(f"W{k} =", repr(W[k].ravel().tolist()))
    print(f"b{k} =", repr(b[k].tolist()))
print("objective =", repr(obj / B))
