#!/usr/bin/env python3
"""The NumPy peer of LiftedTrain's LPOMTrainer (Sources/LiftedTrain/LPOM/): the same iterations
with the same algebra, for a per-epoch speed comparison (bench/lpom_bench.sh) and a seeded check
that both compute the same iterates (python/tests/test_lpom_numpy_peer.py). float32, rows are
samples, every product a NumPy matmul (OpenBLAS).

With --init-from HISTORY it starts from that lpom history's θ_0 (and its model: sizes,
activations) and visits the samples in lpom's order (the SplitMix64 permutation of
`BatchOrder`/`TrainingLoop`, stream e for epoch e, from --seed), so the two programs do the same
work: the same sweeps, the same APG steps. Per mini-batch (every choice below is lpom's default):
  forward pass: X^k = φ(Z^k), Z^k = X^{k−1} W_{k−1}ᵀ + b_{k−1};
  ‖W_k‖₂² of the hidden layers by power iteration (30 steps the first time, then 3, warm start
    from lpom's fixed vector 1, −1/2, 1/3, …);
  X-phase: Gauss–Seidel sweeps from the output down, every Z recomputed at the start of a sweep
    (Z¹ never: X⁰ is fixed; none in the first sweep: the forward pass made them); relaxed steps
    X ← (1 − θ)X + θC with θ = 2/(2 + ρ), ρ = (μ_{i+1}/μ_i) β_i β_{i+1} ‖W_i‖₂²; the output level
    the closed form (μZ + Y)/(1 + μ) for squared loss with identity output, otherwise the relaxed
    fixed point X = φ(Z − ∇ℓ(X)/μ) (θ = 2/(2 + κ), κ = β‖∇²ℓ‖/μ) run to 0.1·tol, at most 5·cap
    steps; a sweep's change is the unrelaxed ‖C − X‖/‖X‖ (the output's: ‖X_new − X‖/‖X‖); stop
    when the largest change ≤ tol or after `cap` sweeps;
  W-phase, per layer: X̃ = [X, 1], ε = ridge·‖X̃‖²_F/b, P = (X̃X̃ᵀ + εI)⁻¹X̃ (b ≤ d+1) or
    Pᵀ = (X̃ᵀX̃ + εI)⁻¹X̃ᵀ, by a Cholesky factorisation and two triangular solves (scipy's
    cho_factor/cho_solve: LAPACK potrf/potrs; without scipy numpy.linalg.cholesky and
    numpy.linalg.solve on the two triangles); FISTA with gradient restart,
    W̃ ← Y − (1/β)(φ(X̃Yᵀ) − X⁺)ᵀP, in the batch space (W̃ = W̃₀ + AᵀP, X̃W̃ᵀ = Z₀ + KA with
    K = X̃Pᵀ, −KR/β formed once per step, restart test ⟨R, Q S⟩ with Q = PPᵀ, and the first
    layer's Z₀ = Z¹ of the X-phase) exactly when lpom takes it (fewer flops,
    `LPOMTrainer.usesBatchSpace`), else in the full space.

The flops of the matrix products (2mnk per product, potrf n³/3, potrs 2n²·nrhs) are counted as
they run; `epoch_flops` in bench/lpom_bench.sh counts lpom's from its recorded sweeps with the
same function.

Usage: OPENBLAS_NUM_THREADS=1 python3 bench/lpom_numpy.py --data DIR --init-from lpom.h5 --seed 1 --json
"""
import argparse
import json
import os
import time

import numpy as np

from splitmix64 import SplitMix64, permutation
from idx import read_idx as load_idx  # noqa: E402  (bench/idx.py: the bench scripts' one IDX reader)

try:
    import scipy.linalg as sla
except ImportError:  # the check test runs without scipy; the benchmark states which solve it used
    sla = None

ACT = {
    "relu": (lambda z: np.maximum(z, 0, out=z), 1.0),
    "sigmoid": (lambda z: np.divide(1, 1 + np.exp(-z), out=z), 0.25),
    "tanh": (lambda z: np.tanh(z, out=z), 1.0),
    "identity": (lambda z: z, 1.0),
}


def lpom_permutation(n, seed, epoch):
    """The sample order of lpom's epoch `epoch` (`TrainingLoop`: the permutation of stream e)."""
    return np.array(permutation(n, SplitMix64.stream(seed, epoch)), dtype=np.int64)


def find(d, stem):
    for name in (stem, stem + ".gz"):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    raise FileNotFoundError(os.path.join(d, stem))


def load_images(d, split, limit=None):
    x = load_idx(find(d, split + "-images-idx3-ubyte"))[:limit]
    y = load_idx(find(d, split + "-labels-idx1-ubyte"))[:limit].astype(np.int64)
    # lpom scales by multiplying with Float(1/255) (Kernels.fromBytes), not by dividing.
    return x.reshape(len(x), -1).astype(np.float32) * np.float32(1 / 255), y


def cholesky_solve(a, b, flops):
    """a⁻¹ b for a symmetric positive definite a (a is overwritten)."""
    n = a.shape[0]
    flops[0] += n ** 3 // 3 + 2 * n * n * b.shape[1]
    if sla is not None:
        return sla.cho_solve(sla.cho_factor(a, lower=True, overwrite_a=True, check_finite=False), b,
                             overwrite_b=False, check_finite=False)
    low = np.linalg.cholesky(a)
    return np.linalg.solve(low.T, np.linalg.solve(low, b))


def uses_batch_space(b, m, n, apg, valid=False):
    """`LPOMTrainer.usesBatchSpace`: the batch-space APG when it takes fewer flops."""
    full = apg * 2 * b * m * n
    reduced = 2 * b * m * n + (0 if valid else 2 * b * b * n) + apg * 2 * b * b * m
    return reduced < full


def power_start(n):
    return np.array([(1.0 if i % 2 == 0 else -1.0) / (1 + i % 7) for i in range(n)], dtype=np.float32)


class LPOM:
    def __init__(self, W, b, act, out, loss, mu, fp=20, tol=1e-3, apg=10, ridge=1.0, relative=True,
                 alternations=1, restart=True, batch_space=True):
        self.L = len(W)
        self.W = [np.ascontiguousarray(w, dtype=np.float32) for w in W]
        self.b = [np.ascontiguousarray(v, dtype=np.float32) for v in b]
        self.sizes = [self.W[0].shape[1]] + [w.shape[0] for w in self.W]
        self.phi = [None] + [ACT[act][0]] * (self.L - 1) + [ACT[out][0]]
        self.beta = [1.0] + [ACT[act][1]] * (self.L - 1) + [ACT[out][1]]
        self.out, self.loss = out, loss
        self.mu = [None] + (list(mu) * self.L if len(mu) == 1 else list(mu))
        self.fp, self.tol, self.apg, self.ridge, self.relative = fp, tol, apg, ridge, relative
        self.alt, self.restart, self.batch_space = alternations, restart, batch_space
        self.power = [power_start(self.sizes[k]) for k in range(self.L)]
        self.power_steps = [0] * self.L
        self.norm2 = [0.0] * self.L
        self.flops = [0]
        self.sweeps = 0
        self.steps = 0

    def mm(self, a, b):
        self.flops[0] += 2 * a.shape[0] * a.shape[1] * b.shape[1]
        return a @ b

    def affine(self, x, k):
        return np.add(self.mm(x, self.W[k].T), self.b[k], out=None)

    def forward(self, x):
        for k in range(self.L):
            x = self.phi[k + 1](x @ self.W[k].T + self.b[k])
        return x

    def estimate_norms(self):
        for k in range(1, self.L):
            v, W = self.power[k], self.W[k]
            steps = 30 if self.power_steps[k] == 0 else 3
            lam = 0.0
            for _ in range(steps):
                vv = float(np.dot(v, v))
                if not (vv > 0 and np.isfinite(vv)):
                    break
                u = W @ v
                lam = float(np.dot(u, u)) / vv
                v = W.T @ u
                n = float(np.sqrt(float(np.dot(v, v))))
                if not (n > 0 and np.isfinite(n)):
                    break
                v *= np.float32(1 / n)
            self.flops[0] += steps * 4 * W.size
            self.power[k], self.power_steps[k], self.norm2[k] = v, self.power_steps[k] + steps, lam

    def grad_loss(self, x, onehot):
        if self.loss == "squared-error":
            return x - onehot
        e = np.exp(x - x.max(axis=1, keepdims=True))
        e /= e.sum(axis=1, keepdims=True)
        e -= onehot
        return e

    @staticmethod
    def relax(x, c, theta):
        """(1 − θ)x + θc and the unrelaxed residual ‖c − x‖²/‖x‖² (lpom's `relax`)."""
        d = c - x
        dc, xx = float(np.vdot(d, d)), float(np.vdot(x, x))
        out = np.float32(1 - theta) * x
        out += np.float32(theta) * c
        return out, np.sqrt(dc / max(xx, 1e-24 * x.size))

    def x_phase(self, X, Z, onehot, current):
        L, mu = self.L, self.mu
        for sweep in range(1, self.fp + 1):
            if not (sweep == 1 and current):
                for k in range(1 if sweep == 1 else 2, L + 1):
                    Z[k] = self.affine(X[k - 1], k - 1)
            worst = 0.0
            # The output level.
            if self.loss == "squared-error" and self.out == "identity":
                new = (Z[L] * np.float32(mu[L]) + onehot) * np.float32(1 / (1 + mu[L]))
            else:
                kappa = self.beta[L] * (1.0 if self.loss == "squared-error" else 0.5) / mu[L]
                th = 2 / (2 + kappa)
                new = X[L].copy()
                for _ in range(self.fp * 5):
                    c = self.phi[L](Z[L] + np.float32(-1 / mu[L]) * self.grad_loss(new, onehot))
                    new, ch = self.relax(new, c, th)
                    if not ch > self.tol * 0.1:
                        break
            d = new - X[L]
            worst = max(worst, np.sqrt(float(np.vdot(d, d)) / max(float(np.vdot(X[L], X[L])), 1e-24 * d.size)))
            X[L] = new
            # Hidden levels, output side first: C = φ(Z^i − r (φ(Z^{i+1}) − X^{i+1}) W_i).
            for i in range(L - 1, 0, -1):
                r = mu[i + 1] / mu[i]
                rho = r * self.beta[i] * self.beta[i + 1] * self.norm2[i]
                th = 2 / (2 + rho)
                R = self.phi[i + 1](Z[i + 1].copy())
                R -= X[i + 1]
                U = self.mm(R, self.W[i])
                U *= np.float32(-r)
                U += Z[i]
                X[i], ch = self.relax(X[i], self.phi[i](U), th)
                worst = max(worst, ch)
            if not np.isfinite(worst):
                raise FloatingPointError("LPOM (NumPy) diverged")
            if worst <= self.tol:
                return sweep
        return self.fp

    def w_phase(self, X, Z1):
        for k in range(self.L):
            self.update_weights(k, X[k], X[k + 1], Z1 if k == 0 else None)

    def update_weights(self, k, x, target, z=None):
        """One layer's APG W-update; `z`, when given, is X̃W̃ᵀ already (the first layer's Z¹)."""
        b, d = x.shape
        n, m = d + 1, self.W[k].shape[0]
        beta = self.beta[k + 1]
        phi = self.phi[k + 1]
        aug = np.empty((b, n), np.float32)
        aug[:, :d] = x
        aug[:, d] = 1
        eps = self.ridge * (float(np.vdot(aug, aug)) / b if self.relative else 1.0)
        if b <= n:
            G = self.mm(aug, aug.T)
            G[np.diag_indices(b)] += np.float32(eps)
            P = cholesky_solve(G, aug, self.flops)          # [b, n]
            Pt = None
        else:
            G = self.mm(aug.T, aug)
            G[np.diag_indices(n)] += np.float32(eps)
            Pt = cholesky_solve(G, aug.T, self.flops)       # [n, b]
            P = None
        if P is not None and self.batch_space and uses_batch_space(b, m, n, self.apg):
            K = self.mm(aug, P.T)
            Q = self.mm(P, P.T)
            Z = z.copy() if z is not None else self.affine(x, k)
            A = np.zeros((b, m), np.float32)
            S = np.zeros((b, m), np.float32)
            SZ = np.zeros((b, m), np.float32)
            t, mom = 1.0, 0.0
            for it in range(self.apg):
                if mom != 0:
                    A += np.float32(mom) * S
                    Z += np.float32(mom) * SZ
                R = phi(Z.copy())
                R -= target
                KR = self.mm(K, R)
                KR *= np.float32(-1 / beta)
                S *= np.float32(mom)
                S += np.float32(-1 / beta) * R
                SZ *= np.float32(mom)
                SZ += KR
                A += np.float32(-1 / beta) * R
                Z += KR
                tn = (1 + np.sqrt(1 + 4 * t * t)) / 2
                mom = (t - 1) / tn
                if self.restart and it > 0 and float(np.vdot(R, self.mm(Q, S))) > 0:
                    mom, tn = 0.0, 1.0
                t = tn
            Wt = np.hstack([self.W[k], self.b[k][:, None]])
            Wt += self.mm(A.T, P)
        else:
            Wt = np.hstack([self.W[k], self.b[k][:, None]])
            step = np.zeros_like(Wt)
            t, mom = 1.0, 0.0
            for it in range(self.apg):
                Y = Wt + np.float32(mom) * step if mom != 0 else Wt
                R = phi(self.mm(aug, Y.T))
                R -= target
                D = self.mm(R.T, P) if P is not None else self.mm(R.T, Pt.T)
                nxt = Y - np.float32(1 / beta) * D
                step = nxt - Wt
                along = float(np.vdot(D, step))
                Wt = nxt
                tn = (1 + np.sqrt(1 + 4 * t * t)) / 2
                mom = (t - 1) / tn
                if self.restart and it > 0 and along > 0:
                    mom, tn = 0.0, 1.0
                t = tn
        if not np.all(np.isfinite(Wt)):
            raise FloatingPointError("LPOM (NumPy): the W-update of layer %d is not finite" % k)
        self.W[k] = np.ascontiguousarray(Wt[:, :-1])
        self.b[k] = np.ascontiguousarray(Wt[:, -1])

    def step(self, x, labels):
        onehot = np.zeros((len(labels), self.sizes[-1]), np.float32)
        onehot[np.arange(len(labels)), labels] = 1
        X, Z = [x], [None]
        for k in range(self.L):
            Z.append(self.affine(X[k], k))
            X.append(self.phi[k + 1](Z[k + 1].copy()))
        for a in range(self.alt):
            self.estimate_norms()
            self.sweeps += self.x_phase(X, Z, onehot, current=(a == 0))
            self.w_phase(X, Z[1])
        self.steps += 1


def model_from_history(path):
    """θ_0, hidden and output activations and the seed of an lpom history (h5py)."""
    import h5py
    with h5py.File(path, "r") as f:
        model = json.loads(f.attrs["model"])
        training = json.loads(f.attrs["training"])
        W, b = [], []
        act, out = None, "identity"
        for layer in model["layers"]:
            if layer["type"] == "dense":
                W.append(np.array(f["theta/" + layer["name"] + ".weight"][0], np.float32))
                b.append(np.array(f["theta/" + layer["name"] + ".bias"][0], np.float32))
            elif len(W) < len([s for s in model["layers"] if s["type"] == "dense"]):
                act = layer["type"]
            else:
                out = layer["type"]
    return W, b, act or "relu", out, training


def epoch_flops(sizes, batches, sweeps, apg=10, alternations=1, restart=True, batch_space=True):
    """Flops of the matrix products of one epoch of batches `batches` (sizes of the mini-batches)
    with `sweeps[j]` X-phase sweeps in batch j, as `LPOM` above (and lpom) computes them."""
    assert alternations == 1, "epoch_flops counts one alternation per batch"
    L = len(sizes) - 1
    total = 0
    first = True
    for b, s in zip(batches, sweeps):
        f = sum(2 * b * sizes[k] * sizes[k + 1] for k in range(L))                    # forward pass
        f += sum((30 if first else 3) * 4 * sizes[k] * sizes[k + 1] for k in range(1, L))  # power iteration
        first = False
        hidden = sum(2 * b * sizes[k] * sizes[k + 1] for k in range(1, L))
        f += s * hidden                                                          # R W_i of every hidden level
        f += (s - 1) * hidden                                                    # Z² … Z^L of sweeps 2 …
        for k in range(L):
            d, m = sizes[k], sizes[k + 1]
            n = d + 1
            if b <= n:
                f += 2 * b * b * n + b ** 3 // 3 + 2 * b * b * n                   # Gram, potrf, potrs
                if batch_space and uses_batch_space(b, m, n, apg):
                    f += 2 * 2 * b * b * n + (2 * b * m * d if k > 0 else 0) + 2 * m * b * n   # K, Q, Z₀ (Z¹ for k = 0), AᵀP
                    f += apg * 2 * b * b * m + (apg - 1) * (2 * b * b * m if restart else 0)
                    continue
            else:
                f += 2 * n * n * b + n ** 3 // 3 + 2 * n * n * b
            f += apg * 4 * b * m * n
        total += f
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--init-from", help="start from this lpom history's θ_0 and model, in lpom's sample order")
    ap.add_argument("--layers", default="300,100")
    ap.add_argument("--activation", default="relu")
    ap.add_argument("--output-activation", default="identity")
    ap.add_argument("--loss", default="cross-entropy")
    ap.add_argument("--mu", default="5")
    ap.add_argument("--fixed-point-iterations", type=int, default=20)
    ap.add_argument("--fixed-point-tolerance", type=float, default=1e-3)
    ap.add_argument("--apg-iterations", type=int, default=10)
    ap.add_argument("--ridge", type=float, default=1.0)
    ap.add_argument("--no-relative-ridge", action="store_true")
    ap.add_argument("--no-batch-space-apg", action="store_true")
    ap.add_argument("--alternations", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--train-limit", type=int, default=60000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="one JSON line per epoch")
    a = ap.parse_args()
    xs, ys = load_images(a.data, "train", a.train_limit)
    xt, yt = load_images(a.data, "t10k")
    if a.init_from:
        W, b, act, out, _ = model_from_history(a.init_from)
    else:  # He-normal from NumPy's generator (no lpom history to start from)
        rng = np.random.default_rng(a.seed)
        sizes = [784] + [int(s) for s in a.layers.split(",") if s] + [10]
        W = [(rng.standard_normal((sizes[k + 1], sizes[k])) * np.sqrt(2.0 / sizes[k])).astype(np.float32)
             for k in range(len(sizes) - 1)]
        b = [np.zeros(sizes[k + 1], np.float32) for k in range(len(sizes) - 1)]
        act, out = a.activation, a.output_activation
    m = LPOM(W, b, act, out, a.loss, [float(v) for v in a.mu.split(",")], a.fixed_point_iterations,
             a.fixed_point_tolerance, a.apg_iterations, a.ridge, not a.no_relative_ridge, a.alternations,
             batch_space=not a.no_batch_space_apg)
    for epoch in range(a.epochs):
        order = lpom_permutation(len(ys), a.seed, epoch)
        f0, s0 = m.flops[0], m.sweeps
        t0, c0 = time.perf_counter(), time.process_time()
        for s in range(0, len(ys), a.batch_size):
            idx = order[s:s + a.batch_size]
            m.step(xs[idx], ys[idx])
        # lpom's epoch time includes its test evaluation; so does this one.
        acc = float(np.mean(np.argmax(m.forward(xt), axis=1) == yt))
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        r = {"epoch": epoch + 1, "seconds": dt, "cpu_seconds": cpu, "test_accuracy": acc,
             "flops": m.flops[0] - f0, "sweeps": m.sweeps - s0, "solver": "scipy" if sla is not None else "numpy"}
        print(json.dumps(r) if a.json else
              "epoch %d  %.2f s  cpu %.2f s  test accuracy %.2f%%  sweeps %d  %.1f GFLOP (%s Cholesky)"
              % (epoch + 1, dt, cpu, 100 * acc, r["sweeps"], r["flops"] / 1e9, r["solver"]), flush=True)


if __name__ == "__main__":
    main()
