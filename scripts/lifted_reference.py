#!/usr/bin/env python3
"""Independent float64 NumPy reference of the lifted trainers (Sources/LiftedTrain/Lifted/).

Written from the papers' update equations with samples as COLUMNS (the papers' notation),
np.linalg.solve for every linear system (never a Cholesky or a triangular solve), explicit
[A; 1] augmented matrices, and, for Askari et al.'s non-negative least squares, a long plain
projected-gradient run per block (the Swift code uses a few restarted FISTA steps; the test
gives it enough steps to reach the same unique minimiser).

    python3 scripts/lifted_reference.py > data/fixtures/lifted/reference.json

Methods (see the Swift doc comments for the equations):
  admm     Taylor et al. 2016, Algorithm 1, one-hot squared loss, multiplier on the output only.
  bcd      Zeng, Lau, Lin, Yao 2019, three-splitting BCD, backward order, proximal alpha.
  askari   Askari et al. 2018, lifted ReLU network, NNLS X-blocks then ridge W-blocks.
  penalty  Carreira-Perpinan & Wang 2014, MAC quadratic penalty, one hidden layer (closed-form
           Z-step, backtracked Gauss-Newton-preconditioned W-step).
"""
import json
import numpy as np


def relu(x):
    return np.maximum(x, 0.0)


def aug(a):
    """[a; 1] for a of d x N (columns are samples)."""
    return np.vstack([a, np.ones((1, a.shape[1]))])


def rel_ridge(a, ridge, rho=1.0):
    at = aug(a)
    return ridge * rho * np.trace(at @ at.T) / at.shape[0]


def lsq(target, a, rho=1.0, alpha=0.0, w0=None, ridge=0.0, relative=True):
    """argmin (rho/2)|T - Wt [a;1]|^2 + (alpha/2)|Wt - W0|^2 + (eps/2)|Wt|^2, Wt = [W, b]."""
    at = aug(a)
    eps = rel_ridge(a, ridge, rho) if relative else ridge
    g = rho * at @ at.T + (alpha + eps) * np.eye(at.shape[0])
    rhs = rho * target @ at.T
    if alpha > 0:
        rhs = rhs + alpha * w0
    return np.linalg.solve(g, rhs.T).T, eps   # g symmetric: Wt = rhs g^-1


def affine(wt, a):
    return wt[:, :-1] @ a + wt[:, -1:]


def relu_prox(a, m, gamma, beta):
    """argmin_z gamma (a - relu z)^2 + beta (z - m)^2 per entry, by comparing both branches."""
    zp = np.maximum(0.0, (gamma * a + beta * m) / (gamma + beta))
    zn = np.minimum(0.0, m)
    fp = gamma * (a - zp) ** 2 + beta * (zp - m) ** 2
    fn = gamma * a ** 2 + beta * (zn - m) ** 2
    return np.where(fp <= fn, zp, zn)


def forward(ws, x):
    zs, acts = [None], [x]
    for k, w in enumerate(ws):
        z = affine(w, acts[-1])
        zs.append(z)
        acts.append(relu(z) if k + 1 < len(ws) else z)
    return zs, acts


def admm(ws, x, y, cfg, iters):
    L = len(ws)
    beta, gamma, ridge = cfg["beta"], cfg["gamma"], cfg["ridge"]
    zs, acts = forward(ws, x)
    z = zs[:]                 # z[1..L]
    a = acts[:L]              # a[0..L-1]
    lam = np.zeros_like(y)
    ws = [w.copy() for w in ws]
    objs = []
    for it in range(iters):
        for l in range(1, L):
            ws[l - 1], _ = lsq(z[l], a[l - 1], ridge=ridge)
            wn = ws[l]
            W, b = wn[:, :-1], wn[:, -1:]
            a[l] = np.linalg.solve(beta * W.T @ W + gamma * np.eye(W.shape[1]),
                                   beta * W.T @ (z[l + 1] - b) + gamma * relu(z[l]))
            z[l] = relu_prox(a[l], affine(ws[l - 1], a[l - 1]), gamma, beta)
        ws[L - 1], _ = lsq(z[L], a[L - 1], ridge=ridge)
        m = affine(ws[L - 1], a[L - 1])
        z[L] = (y - lam + 2 * beta * m) / (1 + 2 * beta)
        if it >= cfg["warm_start"]:
            lam = lam + beta * (z[L] - m)
        j = 0.5 * np.sum((z[L] - y) ** 2) + np.sum(z[L] * lam)
        for l in range(1, L + 1):
            j += beta * np.sum((z[l] - affine(ws[l - 1], a[l - 1])) ** 2)
            if l < L:
                j += gamma * np.sum((a[l] - relu(z[l])) ** 2)
        objs.append(j / x.shape[1])
    return ws, objs


def bcd(ws, x, y, cfg, iters):
    N = len(ws)
    gamma, rho, alpha = cfg["gamma"], cfg["rho"], cfg["alpha"]
    us, vs = forward(ws, x)
    u, v = us[:], vs[:]
    ws = [w.copy() for w in ws]
    objs = []
    for _ in range(iters):
        v[N] = (y + gamma * u[N] + alpha * v[N]) / (1 + gamma + alpha)
        u[N] = (gamma * v[N] + rho * affine(ws[N - 1], v[N - 1])) / (gamma + rho)
        ws[N - 1], _ = lsq(u[N], v[N - 1], rho=rho, alpha=alpha, w0=ws[N - 1])
        for i in range(N - 1, 0, -1):
            W, b = ws[i][:, :-1], ws[i][:, -1:]
            v[i] = np.linalg.solve(rho * W.T @ W + gamma * np.eye(W.shape[1]),
                                   rho * W.T @ (u[i + 1] - b) + gamma * relu(u[i]))
            m = (rho * affine(ws[i - 1], v[i - 1]) + alpha * u[i]) / (rho + alpha)
            u[i] = relu_prox(v[i], m, gamma, rho + alpha)
            ws[i - 1], _ = lsq(u[i], v[i - 1], rho=rho, alpha=alpha, w0=ws[i - 1])
        f = 0.5 * np.sum((v[N] - y) ** 2)
        for i in range(1, N + 1):
            s = relu(u[i]) if i < N else u[i]
            f += gamma / 2 * np.sum((v[i] - s) ** 2) + rho / 2 * np.sum((u[i] - affine(ws[i - 1], v[i - 1])) ** 2)
        objs.append(f / x.shape[1])
    return ws, objs


def nnls_block(h, c, x0, steps=20000):
    """argmin_{X >= 0} 1/2 tr(X^T H X) - <C, X> (columns are samples) by plain projected gradient."""
    step = 1.0 / np.linalg.eigvalsh(h)[-1]
    xk = x0.copy()
    for _ in range(steps):
        xk = np.maximum(0.0, xk - step * (h @ xk - c))
    return xk


def askari(ws, x, y, cfg, iters):
    L = len(ws)
    lam, ridge = cfg["lambda"], cfg["weight_ridge"]
    _, acts = forward(ws, x)
    xs = acts[:L]
    ws = [w.copy() for w in ws]

    def target(k):
        return (xs[k + 1], lam) if k + 1 < L else (y, 1.0)

    objs = []
    for _ in range(iters):
        for l in range(1, L):
            t, c = target(l)
            W, b = ws[l][:, :-1], ws[l][:, -1:]
            h = c * W.T @ W + lam * np.eye(W.shape[1])
            cc = lam * affine(ws[l - 1], xs[l - 1]) + c * W.T @ (t - b)
            xs[l] = nnls_block(h, cc, xs[l])
        eps = []
        for k in range(L):
            t, c = target(k)
            ws[k], e = lsq(t, xs[k], rho=c, ridge=ridge)
            eps.append(e)
        g = 0.0
        for k in range(L):
            t, c = target(k)
            g += c / 2 * np.sum((t - affine(ws[k], xs[k])) ** 2) + eps[k] / 2 * np.sum(ws[k] ** 2)
        objs.append(g / x.shape[1])
    return ws, objs


def penalty(ws, x, y, cfg, iters):
    """One hidden layer: E = 1/2|Y - W1~ [z;1]|^2 + mu/2 |z - relu(W0~ [x;1])|^2."""
    assert len(ws) == 2
    mu, growth, steps, ridge = cfg["mu"], cfg["growth"], cfg["steps"], cfg["ridge"]
    _, acts = forward(ws, x)
    z = acts[1]
    ws = [w.copy() for w in ws]
    at = aug(x)
    eps0 = rel_ridge(x, ridge)
    g0 = at @ at.T + eps0 * np.eye(at.shape[0])
    objs = []

    def hidden_penalty(w):
        return 0.5 * np.sum((z - relu(affine(w, x))) ** 2)

    for _ in range(iters):
        # W-step, hidden layer: W~ <- W~ - s D [x;1]^T (G + eps I)^-1, s = 1 halved until decrease.
        for _ in range(steps):
            start = hidden_penalty(ws[0])
            p = affine(ws[0], x)
            d = (relu(p) - z) * (p > 0)
            direction = np.linalg.solve(g0, (d @ at.T).T).T
            s, accepted = 1.0, False
            for _ in range(20):
                trial = ws[0] - s * direction
                if hidden_penalty(trial) <= start:
                    ws[0], accepted = trial, True
                    break
                s /= 2
            if not accepted:
                break
        ws[1], _ = lsq(y, z, ridge=ridge)
        # Z-step, the last hidden level in closed form.
        s_below = relu(affine(ws[0], x))
        W, b = ws[1][:, :-1], ws[1][:, -1:]
        z = np.linalg.solve(mu * np.eye(W.shape[1]) + W.T @ W, mu * s_below + W.T @ (y - b))
        e = 0.5 * np.sum((y - affine(ws[1], z)) ** 2) + mu / 2 * np.sum((z - relu(affine(ws[0], x))) ** 2)
        objs.append(e / x.shape[1])
        mu *= growth
    return ws, objs


def case(name, method, sizes, cfg, iters, seed, n=24):
    rng = np.random.default_rng(seed)
    ws = []
    for k in range(len(sizes) - 1):
        w = rng.normal(0, 1 / np.sqrt(sizes[k]), (sizes[k + 1], sizes[k]))
        b = rng.normal(0, 0.1, (sizes[k + 1], 1))
        ws.append(np.hstack([w, b]))
    x = rng.normal(0, 1, (sizes[0], n))
    labels = np.arange(n) % sizes[-1]
    y = np.eye(sizes[-1])[:, labels]
    fn = {"admm": admm, "bcd": bcd, "askari": askari, "penalty": penalty}[method]
    out, objs = fn(ws, x, y, cfg, iters)
    return {
        "name": name, "method": method, "sizes": sizes, "samples": n, "iterations": iters, "config": cfg,
        "x": x.T.flatten().tolist(), "labels": labels.tolist(),
        "weights": [w[:, :-1].flatten().tolist() for w in ws], "biases": [w[:, -1].tolist() for w in ws],
        "expected_weights": [w[:, :-1].flatten().tolist() for w in out],
        "expected_biases": [w[:, -1].tolist() for w in out],
        "objectives": objs,
    }


def main():
    cases = [
        case("admm-2hidden", "admm", [4, 6, 5, 3], {"beta": 1.0, "gamma": 10.0, "warm_start": 1, "ridge": 1e-3}, 3, 1),
        case("admm-1hidden", "admm", [5, 7, 3], {"beta": 2.0, "gamma": 3.0, "warm_start": 0, "ridge": 1e-6}, 4, 2),
        case("bcd-2hidden", "bcd", [4, 6, 5, 3], {"gamma": 1.0, "rho": 1.0, "alpha": 5.0}, 3, 3),
        case("bcd-1hidden", "bcd", [5, 7, 3], {"gamma": 2.0, "rho": 0.5, "alpha": 1.0}, 4, 4),
        case("askari-2hidden", "askari", [4, 6, 5, 3], {"lambda": 1.0, "weight_ridge": 1e-2}, 2, 5),
        case("askari-1hidden", "askari", [5, 7, 3], {"lambda": 3.0, "weight_ridge": 1e-3}, 3, 6),
        case("penalty-1hidden", "penalty", [5, 7, 3], {"mu": 1.0, "growth": 1.5, "steps": 3, "ridge": 1e-4}, 3, 7),
    ]
    print(json.dumps({"generator": "scripts/lifted_reference.py", "cases": cases}, indent=1))


if __name__ == "__main__":
    main()
