#!/usr/bin/env python3
"""Independent float64 NumPy reference of LPOM steps (Li, Fang, Lin, "Lifted Proximal Operator
Machines", AAAI 2019), written from the paper's equations, not from the Swift code.

Regenerate the fixture that Tests/LiftedTrainTests/LPOMGoldenTests.swift checks against with

    python3 scripts/lpom_reference_independent.py > data/fixtures/lpom/reference.json

Layout and notation are the paper's: samples are COLUMNS, level 1 is the input X^1, level n
the output X^n, and layer i maps level i to level i+1 with the augmented weights
W~^i = [W^i, b^i] acting on X~^i = [X^i; 1^T] (the bias as a last input row of ones).

  objective   F = l(X^n) + sum_{i=2..n} mu_i sum B(X^i, W~^{i-1} X~^{i-1})
              B(x, z) = f(x) + g(z) + (x - z)^2/2, the Fenchel-Young gap of g~ = int phi,
              evaluated here as the Bregman integral B(x, z) = int_{phi^-1(x)}^{z} (phi(t) - x) dt
              by composite Gauss-Legendre quadrature (no closed forms of f, g, no constants).
  hidden X    X^i = phi(W~^{i-1} X~^{i-1} - (mu_{i+1}/mu_i) (W^i)^T (phi(W~^i X~^i) - X^{i+1}))
              iterated with relaxation X <- X + theta (C(X) - X), theta = 2/(2 + rho) for
              Gauss-Seidel sweeps, 1/(1 + rho) for Jacobi, rho = (mu_{i+1}/mu_i) beta_i beta_{i+1}
              ||W^i||_2^2 with the EXACT spectral norm (numpy SVD), or a fixed theta.
  output X    the block minimiser of l(X) + mu_n (1^T f(X) 1 + ||X - Z||^2/2), i.e. the fixed point
              X = phi(Z - dl/dX / mu_n), solved exactly: closed form for squared loss with
              identity output, Newton per column for softmax cross-entropy, bisection per entry
              for squared loss with a monotone output activation.
  sweeps      output level first, then the hidden levels downwards (Gauss-Seidel: each uses the
              newest neighbours; Jacobi: all from the previous sweep); stop when the largest
              relative residual ||C(X) - X||_F / ||X||_F of a sweep (for the output: the relative
              move of its exact solve) is <= tol, or after `sweeps` sweeps.
  W           per layer, FISTA (Beck & Teboulle 2009) on min_W 1^T g~(W~ X~) 1 - <X^{i+1}, W~ X~>,
              gradient G = (phi(W~ X~) - X^{i+1}) X~^T, step W~ <- Y - (1/beta) G (X~ X~^T + eps I)^{-1}
              (the paper's regularised pseudo-inverse X~^T (X~ X~^T + eps I)^{-1}), eps = ridge or
              ridge * ||X~||_F^2 / b (relative), gradient restart (O'Donoghue & Candes 2015) when
              <Y - W+, W+ - W> > 0; optionally stop once ||W+ - W||_F <= tau ||W~_start||_F.
  loss        summed over the batch: squared 1/2 ||X - Y||^2 (Y one-hot), or softmax cross-entropy.

Where these are choices the paper leaves open (relaxation, sweep order, stopping, ridge, restart)
they are the documented choices of LPOMConfiguration; the reference implements the same choices
from their definitions. Cases are tiny and float64; weights of the levels whose ||W||_2 enters
theta are given a spectral gap sigma_2/sigma_1 <= 0.7 so that a power iteration converges.
"""
import json
import sys

import numpy as np

# ---------------------------------------------------------------- activations (the paper's Table 1)


def phi(kind, alpha, z):
    if kind == "identity":
        return z.copy()
    if kind == "relu":
        return np.maximum(z, 0.0)
    if kind == "leaky_relu":
        return np.where(z >= 0, z, alpha * z)
    if kind == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * z))          # = 1/(1+e^{-z}), overflow-free
    if kind == "tanh":
        return np.tanh(z)
    if kind == "elu":
        return np.where(z >= 0, z, alpha * np.expm1(np.minimum(z, 0.0)))
    if kind == "softplus":
        return np.logaddexp(0.0, z)
    raise ValueError(kind)


def lipschitz(kind, alpha):
    return {"identity": 1.0, "relu": 1.0, "leaky_relu": max(1.0, alpha), "sigmoid": 0.25,
            "tanh": 1.0, "elu": max(1.0, alpha), "softplus": 1.0}[kind]


def phi_inverse(kind, alpha, x, z):
    """A point u with phi(u) = x (for relu at x = 0 the one nearest z in (-inf, 0]); None outside the range."""
    if kind == "identity":
        return x
    if kind == "relu":
        return x if x > 0 else (min(z, 0.0) if x == 0 else None)
    if kind == "leaky_relu":
        return x if x >= 0 else x / alpha
    if kind == "sigmoid":
        return np.log(x / (1 - x)) if 0 < x < 1 else None
    if kind == "tanh":
        return np.arctanh(x) if -1 < x < 1 else None
    if kind == "elu":
        return x if x >= 0 else (np.log1p(x / alpha) if x > -alpha else None)
    if kind == "softplus":
        return np.log(np.expm1(x)) if x > 0 else None
    raise ValueError(kind)


NODES, WEIGHTS = np.polynomial.legendre.leggauss(24)


def integral(fn, a, b):
    """int_a^b fn by 24-point Gauss-Legendre on pieces of length <= 0.25, split at 0 (the kinks)."""
    if a == b:
        return 0.0
    sign = 1.0
    if a > b:
        a, b, sign = b, a, -1.0
    cuts = [a] + ([0.0] if a < 0 < b else []) + [b]
    total = 0.0
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        pieces = max(1, int(np.ceil((hi - lo) / 0.25)))
        edges = np.linspace(lo, hi, pieces + 1)
        for p, q in zip(edges[:-1], edges[1:]):
            t = 0.5 * (q - p) * NODES + 0.5 * (q + p)
            total += 0.5 * (q - p) * np.dot(WEIGHTS, fn(t))
    return sign * total


def gap(kind, alpha, x, z):
    """B(x, z) = int_{phi^-1(x)}^{z} (phi(t) - x) dt summed over the entries."""
    s = 0.0
    for xv, zv in zip(x.ravel(), z.ravel()):
        u = phi_inverse(kind, alpha, xv, zv)
        if u is None:
            return float("inf")
        s += integral(lambda t: phi(kind, alpha, t) - xv, u, zv)
    return s

# ---------------------------------------------------------------- losses (summed over the batch)


def one_hot(labels, c):
    Y = np.zeros((c, len(labels)))
    Y[labels, np.arange(len(labels))] = 1.0
    return Y


def softmax_columns(X):
    E = np.exp(X - X.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def loss_value(loss, X, Y):
    if loss == "squared":
        return 0.5 * np.sum((X - Y) ** 2)
    m = X.max(axis=0)
    return float(np.sum(m + np.log(np.exp(X - m).sum(axis=0)) - np.sum(X * Y, axis=0)))


def output_block(loss, kind, alpha, mu, Z, Y):
    """The exact minimiser of l(X) + mu (1^T f(X) 1 + ||X - Z||^2 / 2)."""
    if loss == "squared" and kind == "identity":
        return (mu * Z + Y) / (1 + mu)
    if loss == "squared":
        # X = phi(U), U solves q(U) = mu (U - Z) + phi(U) - Y = 0 entry by entry; q increases with
        # slope >= mu, so the root lies between Z and Z - q(Z)/mu.
        q0 = phi(kind, alpha, Z) - Y
        lo, hi = np.minimum(Z, Z - q0 / mu), np.maximum(Z, Z - q0 / mu)
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            pos = mu * (mid - Z) + phi(kind, alpha, mid) - Y > 0
            hi, lo = np.where(pos, mid, hi), np.where(pos, lo, mid)
        return phi(kind, alpha, 0.5 * (lo + hi))
    assert kind == "identity", "cross-entropy output blocks are solved for identity outputs only"
    X = Z.copy()
    for j in range(Z.shape[1]):
        x = Z[:, j].copy()
        for _ in range(50):           # Newton on x - z + (softmax(x) - y)/mu = 0
            p = softmax_columns(x[:, None])[:, 0]
            F = x - Z[:, j] + (p - Y[:, j]) / mu
            if np.max(np.abs(F)) < 1e-16:
                break
            J = np.eye(len(x)) + (np.diag(p) - np.outer(p, p)) / mu
            x = x - np.linalg.solve(J, F)
        X[:, j] = x
    return X

# ---------------------------------------------------------------- one LPOM step


class Net:
    def __init__(self, case, weights, biases):
        self.kinds = [None, "identity"] + [case["activation"]] * (len(case["sizes"]) - 2) + [case["output"]]
        self.alpha = case["alpha"]
        self.W = [None] + [np.hstack([w, b[:, None]]) for w, b in zip(weights, biases)]   # W~^1 .. W~^{n-1}
        self.n = len(case["sizes"])
        mu = case["config"]["mu"]
        self.mu = [None, None] + [mu[0] if len(mu) == 1 else mu[i] for i in range(self.n - 1)]  # mu_2 .. mu_n
        self.beta = [None] + [lipschitz(k, self.alpha) if k else 1.0 for k in self.kinds[1:]]

    def aug(self, X):
        return np.vstack([X, np.ones((1, X.shape[1]))])

    def pre(self, X, i):
        """Z^i = W~^{i-1} X~^{i-1}."""
        return self.W[i - 1] @ self.aug(X[i - 1])

    def act(self, i, Z):
        return phi(self.kinds[i], self.alpha, Z)


def rel(d, x):
    return float(np.linalg.norm(d) / max(np.linalg.norm(x), 1e-300))


def x_phase(net, X, Y, c):
    """Fixed-point sweeps over levels n, n-1, ..., 2. Returns the sweeps used and the last sweep's
    largest relative residual."""
    n, cfg = net.n, c["config"]
    theta = {}
    for i in range(2, n):
        rho = net.mu[i + 1] / net.mu[i] * net.beta[i] * net.beta[i + 1] * np.linalg.norm(net.W[i][:, :-1], 2) ** 2
        auto = 1 / (1 + rho) if cfg["sweep"] == "jacobi" else 2 / (2 + rho)
        theta[i] = cfg["relaxation"] if cfg["relaxation"] > 0 else auto
    for sweep in range(1, cfg["fixed_point_iterations"] + 1):
        old = [x.copy() if x is not None else None for x in X]
        src = old if cfg["sweep"] == "jacobi" else X     # Jacobi reads the previous sweep only
        changes = []
        new = output_block(c["loss"], net.kinds[n], net.alpha, net.mu[n], net.pre(src, n), Y)
        changes.append(rel(new - src[n], src[n]))
        X[n] = new
        for i in range(n - 1, 1, -1):
            src = old if cfg["sweep"] == "jacobi" else X
            R = net.act(i + 1, net.pre(src, i + 1)) - src[i + 1]
            C = net.act(i, net.pre(src, i) - net.mu[i + 1] / net.mu[i] * net.W[i][:, :-1].T @ R)
            changes.append(rel(C - src[i], src[i]))
            X[i] = src[i] + theta[i] * (C - src[i])
        if max(changes) <= cfg["fixed_point_tolerance"]:
            return sweep, max(changes)
    return cfg["fixed_point_iterations"], max(changes)


def w_update(net, X, i, cfg):
    """FISTA on layer i's W-subproblem; returns the APG steps taken."""
    Xa, T = net.aug(X[i]), X[i + 1]
    b = Xa.shape[1]
    eps = cfg["ridge"] * (np.sum(Xa * Xa) / b if cfg["relative_ridge"] else 1.0)
    M = Xa @ Xa.T + eps * np.eye(Xa.shape[0])
    beta = net.beta[i + 1]
    start = net.W[i].copy()
    W, Yk, t = start.copy(), start.copy(), 1.0
    steps = 0
    for k in range(cfg["apg_iterations"]):
        G = (net.act(i + 1, Yk @ Xa) - T) @ Xa.T
        Wn = Yk - np.linalg.solve(M, G.T).T / beta
        steps += 1
        if cfg["apg_restart"] and k > 0 and np.sum((Yk - Wn) * (Wn - W)) > 0:
            t_next, momentum = 1.0, 0.0
        else:
            t_next = (1 + np.sqrt(1 + 4 * t * t)) / 2
            momentum = (t - 1) / t_next
        done = cfg["apg_tolerance"] > 0 and np.linalg.norm(Wn - W) <= cfg["apg_tolerance"] * np.linalg.norm(start)
        Yk = Wn + momentum * (Wn - W)
        W, t = Wn, t_next
        if done:
            break
    net.W[i] = W
    return steps


def lpom_step(case, weights, biases, X1, labels):
    net = Net(case, weights, biases)
    n, cfg = net.n, case["config"]
    Y = one_hot(labels, case["sizes"][-1])
    X = [None, X1]
    for i in range(2, n + 1):
        X.append(net.act(i, net.pre(X, i)))
    loss0 = loss_value(case["loss"], X[n], Y) / len(labels)
    accuracy0 = float(np.mean(np.argmax(X[n], axis=0) == labels))
    # ||W||_2^2 of the layers that read a hidden level (index = layer, 0-based; layer 0 has none)
    norms = [None] + [float(np.linalg.norm(net.W[i][:, :-1], 2) ** 2) for i in range(2, n)]
    sweeps, apg = 0, []
    for _ in range(cfg["alternations"]):
        used, change = x_phase(net, X, Y, case)
        sweeps += used
        apg.append([w_update(net, X, i, cfg) for i in range(1, n)])
    Z = [None, None] + [net.pre(X, i) for i in range(2, n + 1)]
    objective = loss_value(case["loss"], X[n], Y)
    for i in range(2, n + 1):
        objective += net.mu[i] * gap(net.kinds[i], net.alpha, X[i], Z[i])
    b = len(labels)
    residuals = [float(np.linalg.norm((net.act(i + 1, Z[i + 1]) - X[i + 1]) @ net.aug(X[i]).T) / b) for i in range(1, n)]
    rows = lambda A: A.T.ravel().tolist()      # samples as rows, as LiftedTrain stores them
    return {
        "loss": loss0, "accuracy": accuracy0, "norm_squared": norms,
        "levels": [rows(X[i]) for i in range(2, n + 1)],
        "weights": [net.W[i][:, :-1].ravel().tolist() for i in range(1, n)],
        "biases": [net.W[i][:, -1].tolist() for i in range(1, n)],
        "objective": objective / b, "residuals": residuals,
        "fixed_point_iterations": sweeps, "fixed_point_change": change, "apg_steps": apg,
    }

# ---------------------------------------------------------------- the cases


def make_inputs(case):
    rng = np.random.default_rng(case["seed"])
    sizes, b = case["sizes"], case["batch"]
    weights, biases = [], []
    for k in range(len(sizes) - 1):
        W = rng.normal(0, case["weight_scale"] / np.sqrt(sizes[k]), (sizes[k + 1], sizes[k]))
        if k > 0:   # a spectral gap, so that the power-iteration estimate of ||W||_2 converges
            U, s, Vt = np.linalg.svd(W, full_matrices=False)
            s[0] = max(s[0], s[1] / 0.7)
            W = U @ np.diag(s) @ Vt
        weights.append(W)
        biases.append(rng.normal(0, 0.2, sizes[k + 1]))
    X1 = rng.normal(0, 1, (sizes[0], b))
    labels = rng.integers(0, sizes[-1], b)
    return weights, biases, X1, labels


BASE = {"mu": [2.0], "sweep": "gauss-seidel", "fixed_point_iterations": 8, "fixed_point_tolerance": 0.0,
        "relaxation": 0.0, "apg_iterations": 5, "apg_restart": True, "apg_tolerance": 0.0, "ridge": 0.3,
        "relative_ridge": True, "alternations": 1}


def case(name, activation, sizes, batch, loss="cross-entropy", output="identity", alpha=0.0, seed=1,
         weight_scale=1.0, **config):
    return {"name": name, "activation": activation, "alpha": alpha, "output": output, "loss": loss,
            "sizes": sizes, "batch": batch, "seed": seed, "weight_scale": weight_scale,
            "config": {**BASE, **config}}


CASES = [
    # ReLU, cross-entropy, automatic theta, relative ridge; b > d+1: the feature Gram system
    case("relu-ce", "relu", [4, 6, 5, 3], 7, mu=[1.5, 2.0, 3.0], seed=11, weight_scale=1.5),
    # leaky ReLU, squared loss; b = 4 < d+1 = 10: batch Gram system and batch-space APG
    case("leaky-squared-batchspace", "leaky_relu", [9, 7, 5, 3], 4, loss="squared", alpha=0.2, seed=12,
         apg_iterations=6, ridge=0.5, weight_scale=1.3),
    # sigmoid (beta = 1/4) hidden and output, squared loss, absolute ridge
    case("sigmoid-squared-sigmoid-out", "sigmoid", [3, 5, 4, 2], 6, loss="squared", output="sigmoid",
         mu=[2.0, 1.0, 4.0], seed=13, apg_iterations=7, ridge=0.2, relative_ridge=False, weight_scale=3.0),
    # tanh, Jacobi sweeps (theta = 1/(1 + rho)), no restart
    case("tanh-jacobi", "tanh", [3, 4, 4, 3], 5, sweep="jacobi", fixed_point_iterations=12, apg_iterations=4,
         apg_restart=False, ridge=0.4, seed=14, weight_scale=2.0),
    # ELU with alpha = 1.5 (beta = 1.5), cross-entropy, batch-space APG on both hidden-input layers
    case("elu-ce-batchspace", "elu", [8, 6, 5, 4], 5, alpha=1.5, apg_iterations=8, ridge=0.1, seed=15,
         mu=[3.0, 2.0, 2.5], weight_scale=1.5),
    # softplus hidden, ReLU output, squared loss
    case("softplus-squared-relu-out", "softplus", [3, 5, 4, 3], 6, loss="squared", output="relu", seed=16,
         apg_iterations=5, ridge=0.2, weight_scale=1.5),
    # the X-phase stopping rule: tolerance 1e-3 on the unrelaxed residual, large rho (small theta)
    case("relu-squared-tolerance", "relu", [4, 8, 6, 3], 6, loss="squared", mu=[1.0], seed=17, weight_scale=2.0,
         fixed_point_iterations=200, fixed_point_tolerance=1e-3, apg_iterations=3),
    # fixed theta, two X/W alternations, APG stopped by the relative-step tolerance
    case("tanh-ce-apg-tolerance", "tanh", [3, 4, 3, 2], 5, relaxation=0.7, alternations=2, seed=18,
         apg_iterations=300, apg_tolerance=1e-6, ridge=0.01, mu=[1.5, 2.0, 3.0], weight_scale=1.2),
    # the APG step tolerance in the batch space (b = 4 < d+1 on every layer)
    case("relu-ce-batchspace-apg-tolerance", "relu", [9, 6, 5, 3], 4, apg_iterations=300, apg_tolerance=1e-5,
         ridge=0.01, seed=19, weight_scale=1.3),
]


def main():
    out = []
    for c in CASES:
        weights, biases, X1, labels = make_inputs(c)
        expected = lpom_step(c, weights, biases, X1, labels)
        out.append({**{k: v for k, v in c.items() if k not in ("seed", "weight_scale")},
                    "inputs": {"x": X1.T.ravel().tolist(), "labels": labels.tolist(),
                               "weights": [w.ravel().tolist() for w in weights], "biases": [b.tolist() for b in biases]},
                    "expected": expected})
    # One case per line: diffs of a regenerated file stay readable.
    sys.stdout.write('{"generator": "scripts/lpom_reference_independent.py", "cases": [\n')
    sys.stdout.write(",\n".join(json.dumps(c) for c in out))
    sys.stdout.write("\n]}\n")


if __name__ == "__main__":
    main()
