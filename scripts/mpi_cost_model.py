#!/usr/bin/env python3
"""Cost model of lpom's distributed modes (notebooks-md/06-distributed.md).

Per training step (batch b, dense widths n_0 … n_L, P parameters, N ranks), with F_k = 2 b (n_k+1) n_{k+1}
the flops of one product of layer k on the batch, R the flop rate of one core (calibrated on the
1-process run of the same case), α the MPI latency and β the bandwidth of the link:

  allreduce(B bytes) = 2 ceil(log2 N) α + 2 (N−1)/N · B/β           (ring/recursive doubling)
  SGD, data:     T = 3 ΣF / (N R) + allreduce(4P)
  LPOM, data:    T = [ΣF + S·2ΣF + W_full] / (N R) + C_chol / R
                     + allreduce(4 Σ(n_k+1)²) + A · allreduce(4P) + S · allreduce(small)
  LPOM, layers:  T = [ΣF + S · max_r Σ_{k∈r} 2F_k + max_r Σ_{k∈r} W_k] / R + 4P/β (owners broadcast W)
                     + sync only: S · (2α + 2·4 b n_bd/β + 2 ceil(log2 N) α)   (boundary blocks, stopping sums)
                     async: the messages and stopping rounds overlap the sweeps (not charged)
  surf, trials:  T = T_1 / N + gather(8 N_trials (k+7) bytes)

S = X-phase sweeps per step, A = APG steps (10), W_k the W-update flops of layer k in the
batch-space form the one-process run uses (4 b²(n_k+1) + A·4 b² n_{k+1} + 4 b n_{k+1}(n_k+1)),
W_full its full-space form (data-parallel: A·4 b n_{k+1}(n_k+1) + 2 b (n_k+1)²) and C_chol the
(n_k+1)³/3 Cholesky every rank repeats. Layer-parallel needs N ≤ L; its groups are the
balanced contiguous split lpom uses.

Usage: python3 scripts/mpi_cost_model.py RESULTS_DIR   (bench/mpi_bench.sh's OUT: results.tsv,
pingpong-*.txt, the 1-process histories for S). Prints the tables; writes RESULTS_DIR/speedup.svg.
"""
import math
import os
import statistics
import sys

def balance(costs, n):
    L = len(costs); pre = [0.0]
    for c in costs: pre.append(pre[-1] + c)
    best = [[math.inf] * (L + 1) for _ in range(n + 1)]; best[0][0] = 0
    for p in range(1, n + 1):
        for k in range(p, L + 1):
            for j in range(p - 1, k):
                best[p][k] = min(best[p][k], max(best[p - 1][j], pre[k] - pre[j]))
    # the groups themselves, to weigh X- and W-phase costs separately
    bounds, k = [L], L
    for p in range(n, 0, -1):
        for j in range(p - 1, k):
            if max(best[p - 1][j], pre[k] - pre[j]) == best[p][k]: k = j; break
        bounds.insert(0, k)
    return bounds

def net(widths, b=100, A=10):
    F = [2 * b * (widths[k] + 1) * widths[k + 1] for k in range(len(widths) - 1)]
    W = [4 * b * b * (widths[k] + 1) + A * 4 * b * b * widths[k + 1] + 4 * b * widths[k + 1] * (widths[k] + 1) for k in range(len(F))]
    Wfull = [A * 4 * b * widths[k + 1] * (widths[k] + 1) + 2 * b * (widths[k] + 1) ** 2 for k in range(len(F))]
    chol = [(widths[k] + 1) ** 3 / 3 for k in range(len(F))]
    P = sum((widths[k] + 1) * widths[k + 1] for k in range(len(F)))
    return dict(F=F, W=W, Wfull=Wfull, chol=chol, P=P, widths=widths, b=b, A=A)

def allreduce(B, N, a, beta):
    return 0 if N == 1 else 2 * math.ceil(math.log2(N)) * a + 2 * (N - 1) / N * B / beta

def step_time(mode, m, N, R, a, beta, S):
    F, W, P, b = m["F"], m["W"], m["P"], m["b"]
    if mode == "sgd-data":
        return 3 * sum(F) / (N * R) + allreduce(4 * P, N, a, beta)
    if mode == "lpom-data":
        comp = (sum(F) + S * 2 * sum(F) + sum(m["Wfull"])) / (N * R) + sum(m["chol"]) / R
        gram = 4 * sum((w + 1) ** 2 for w in m["widths"][:-1])
        return comp + allreduce(gram, N, a, beta) + m["A"] * allreduce(4 * P, N, a, beta) + S * allreduce(24, N, a, beta)
    if mode.startswith("lpom-layers"):
        if N > len(F): return math.nan
        bounds = balance([(m["widths"][k] + 1) * m["widths"][k + 1] for k in range(len(F))], N)
        groups = [range(bounds[r], bounds[r + 1]) for r in range(N)]
        xs = max(sum(2 * F[k] for k in g) for g in groups)
        ws = max(sum(W[k] for k in g) for g in groups)
        t = (sum(F) + S * xs + ws) / R + (4 * P / beta if N > 1 else 0)
        if mode == "lpom-layers-sync" and N > 1:
            nb = max(m["widths"][bounds[r]] for r in range(1, N))
            t += S * (2 * a + 2 * 4 * b * nb / beta + 2 * math.ceil(math.log2(N)) * a)
        return t
    raise ValueError(mode)

LINKS = {  # α (s), β (bytes/s)
    "one host (shared memory)": (0.4e-6, 13e9),
    "hosts, 10 Gb/s": (10e-6, 1.25e9),
    "hosts, 100 Gb/s": (5e-6, 12.5e9),
}
NETS = {"sgd": [784, 300, 100, 10], "lpom6": [784, 400, 200, 100, 50, 10], "lpom10": [784] + [500] * 10 + [10]}

def main():
    d = sys.argv[1]
    rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(d, "results.tsv")) if l.strip()]
    med = {}
    for name, mode, sec, acc, _ in rows: med.setdefault((name, mode), []).append(float(sec))
    med = {k: statistics.median(v) for k, v in med.items()}
    # The links are the quiet-machine measurements (shared memory: 8-byte one-way 0.4 µs, 1 MB one
    # way 80 µs; TCP over a veth between namespaces 8.6 µs; 10/100 Gb/s are nominal with typical
    # TCP latencies); the bench's own ping-pong on a loaded machine is printed beside them.
    for f in ("pingpong-shm.txt", "pingpong-tcp.txt"):
        try:
            pp = {int(l.split()[1]): (float(l.split()[2]), float(l.split()[3])) for l in open(os.path.join(d, f)) if l.split()[1].isdigit()}
            print(f"bench ping-pong {f[9:12]}: 8 B one-way {pp[8][0] * 1e6:.1f} µs, 1 MB one-way {pp[1048576][0] * 1e6:.0f} µs, "
                  f"1 MB allreduce {pp[1048576][1] * 1e6:.0f} µs")
        except Exception:
            pass
    try:
        import h5py, numpy as np
        S = {c: float(np.mean(h5py.File(os.path.join(d, f"{c}-1.h5"), "r")["metrics/fixed_point_iterations"][()])) for c in ("lpom6", "lpom10")}
    except Exception:
        S = {"lpom6": 20.0, "lpom10": 20.0}
    steps = {"sgd": 200, "lpom6": 30, "lpom10": 30}
    cases = [("sgd", "sgd-data", "data"), ("lpom6", "lpom-layers-sync", "sync"), ("lpom6", "lpom-layers-async", "async"),
             ("lpom6", "lpom-data", "data"), ("lpom10", "lpom-layers-sync", "sync"), ("lpom10", "lpom-layers-async", "async"),
             ("lpom10", "lpom-data", "data")]
    print("Model check (R calibrated on the 1-process run; 2 ranks, shared memory):")
    print("| case | mode | S | R (GFlop/s) | 1 process s | 2 ranks model s | 2 ranks measured s | model speed-up | measured speed-up |")
    print("|---|---|---|---|---|---|---|---|---|")
    Rs = {}
    a, beta = LINKS["one host (shared memory)"]
    for name, mode, tag in cases:
        m = net(NETS[name]); s = S.get(name, 0)
        t1 = med.get((name, "1"))
        if t1 is None: continue
        one = step_time(mode, m, 1, 1.0, a, beta, s)   # flops at R = 1
        R = one * steps[name] / t1; Rs[(name, mode)] = R
        t2 = step_time(mode, m, 2, R, a, beta, s) * steps[name]
        meas = med.get((name, tag), math.nan)
        print(f"| {name} | {mode} | {s:.1f} | {R / 1e9:.2f} | {t1:.2f} | {t2:.2f} | {meas:.2f} | {t1 / t2:.2f} | {t1 / meas:.2f} |")
    t1s = med.get(("surf", "1")); t2s = med.get(("surf", "trials"))
    if t1s:
        print(f"| surf | trials | | | {t1s:.2f} | {t1s / 2:.2f} | {t2s:.2f} | 2.00 | {t1s / t2s:.2f} |")
    print()
    print("Predicted speed-up T(1)/T(N) per step:")
    Ns = [1, 2, 4, 8, 16, 32, 64]
    print("| link | case | mode | " + " | ".join(f"N={n}" for n in Ns) + " |")
    print("|---|---|---|" + "---|" * len(Ns))
    curves = {}
    for link, (a, beta) in LINKS.items():
        for name, mode, tag in cases:
            if (name, mode) not in Rs: continue
            m = net(NETS[name]); R = Rs[(name, mode)]; s = S.get(name, 20)
            t1 = step_time(mode, m, 1, R, a, beta, s)
            sp = [t1 / step_time(mode, m, n, R, a, beta, s) for n in Ns]
            curves[(link, name, mode)] = sp
            print(f"| {link} | {name} | {mode} | " + " | ".join("–" if math.isnan(x) else f"{x:.1f}" for x in sp) + " |")
    svg(os.path.join(d, "speedup.svg"), Ns, curves)

def svg(path, Ns, curves):
    Wd, Ht, L, T, Rm, B = 760, 420, 60, 30, 250, 50
    xs = lambda n: L + (math.log2(n) / math.log2(Ns[-1])) * (Wd - L - Rm)
    ymax = 64
    ys = lambda v: T + (1 - math.log2(max(v, 0.5)) / math.log2(ymax)) * (Ht - T - B) if v == v else None
    colors = {"sgd-data": "#1f77b4", "lpom-data": "#2ca02c", "lpom-layers-sync": "#ff7f0e", "lpom-layers-async": "#d62728"}
    dash = {"one host (shared memory)": "", "hosts, 100 Gb/s": "6,3", "hosts, 10 Gb/s": "2,3"}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{Wd}" height="{Ht}" font-family="sans-serif" font-size="11">',
           f'<text x="{L}" y="18" font-size="13">Predicted speed-up per step (cost model; LPOM on 10 x 500, SGD on 784-300-100-10)</text>']
    for v in [1, 2, 4, 8, 16, 32, 64]:
        y = ys(v); out.append(f'<line x1="{L}" x2="{Wd - Rm}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/><text x="{L - 8}" y="{y + 4:.1f}" text-anchor="end">{v}</text>')
    for n in Ns:
        x = xs(n); out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{T}" y2="{Ht - B}" stroke="#eee"/><text x="{x:.1f}" y="{Ht - B + 16}" text-anchor="middle">{n}</text>')
    out.append(f'<text x="{(L + Wd - Rm) / 2}" y="{Ht - 12}" text-anchor="middle">ranks N</text>')
    x0, y0 = xs(1), ys(1); x1, y1 = xs(64), ys(64)
    out.append(f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y1}" stroke="#999" stroke-dasharray="1,2"/>')
    ly = T + 10
    for (link, name, mode), sp in curves.items():
        if name not in ("lpom10", "sgd"): continue
        pts = " ".join(f"{xs(n):.1f},{ys(v):.1f}" for n, v in zip(Ns, sp) if v == v)
        out.append(f'<polyline fill="none" stroke="{colors[mode]}" stroke-width="1.6" stroke-dasharray="{dash[link]}" points="{pts}"/>')
    for mode, c in colors.items():
        out.append(f'<line x1="{Wd - Rm + 15}" x2="{Wd - Rm + 40}" y1="{ly}" y2="{ly}" stroke="{c}" stroke-width="2"/><text x="{Wd - Rm + 45}" y="{ly + 4}">{mode}</text>'); ly += 16
    for link, da in dash.items():
        out.append(f'<line x1="{Wd - Rm + 15}" x2="{Wd - Rm + 40}" y1="{ly}" y2="{ly}" stroke="#333" stroke-dasharray="{da}"/><text x="{Wd - Rm + 45}" y="{ly + 4}">{link}</text>'); ly += 16
    out.append("</svg>")
    open(path, "w").write("\n".join(out))

if __name__ == "__main__":
    main()
