#!/usr/bin/env python3
"""LPOM against its NumPy peer (bench/lpom_numpy.py), measured fairly; driven by bench/lpom_bench.sh.

For each benchmark network (784-300-100-10 and 784-400-200-100-50-10, every LPOM option at its
default, batch 100, one MNIST epoch) and each of ROUNDS interleaved rounds it runs, in this order:
  lpom  --threads 1   (OpenBLAS on one thread, per-layer tasks serial: one core)
  NumPy OPENBLAS_NUM_THREADS=1
  lpom  --threads 2   (per-layer tasks on two workers with one BLAS thread each, else 2 BLAS threads)
  NumPy OPENBLAS_NUM_THREADS=2
The peer starts from the θ_0 of the round's lpom run and visits the samples in lpom's order, so
both do the same iterations (same sweeps, same APG steps; the test accuracies agree). Epoch times
are wall seconds of the training epoch plus its test evaluation (both sides), with the process's
CPU seconds (user + system, all threads) over the same span beside them. The flops of the epoch's
matrix products are counted from lpom's recorded sweeps (`lpom_numpy.epoch_flops`); the NumPy peer
counts its own as it runs.

Prints per round and then the medians: seconds, CPU seconds, the ratios NumPy / lpom (wall and
CPU, one and two threads), lpom's GFLOP/s and its fraction of the sgemm rate measured at the
start (the system OpenBLAS lpom links, n = 1024, one and two threads), and lpom's two-thread
speed-up. Targets (issue 16): NumPy / lpom ≥ 3 on both networks; ≥ 70% of the sgemm rate; ≥ 1.8×
from two threads.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lpom_numpy as peer  # noqa: E402

NETWORKS = ["300,100", "400,200,100,50"]


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def run(cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), r.stderr.strip()))
    return r.stdout


def lpom_epoch(lpom, data, layers, threads, limit, seed, history):
    out = run([lpom, "train", "--method", "lpom", "--data-dir", data, "--dataset", "mnist", "--layers", layers,
               "--epochs", "1", "--train-limit", str(limit), "--seed", str(seed), "--threads", str(threads),
               "--no-lpom-diagnostics", "--snapshot-every", "0", "--history", history, "--overwrite", "--quiet", "--json"])
    d = json.loads(out)
    c = d["curve"][0]
    import h5py
    with h5py.File(history, "r") as f:
        sweeps = [int(s) for s in f["metrics/fixed_point_iterations"][:]]
    sizes = [784] + [int(s) for s in layers.split(",")] + [10]
    batches = [min(100, limit - s) for s in range(0, limit, 100)]
    flops = peer.epoch_flops(sizes, batches, sweeps)
    return {"seconds": c["seconds"], "cpu": c["cpu_seconds"], "acc": d["test_accuracy"], "flops": flops,
            "sweeps": sum(sweeps)}


def numpy_epoch(py, data, history, threads, limit, seed):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads))
    out = run([py, os.path.join(HERE, "lpom_numpy.py"), "--data", os.path.join(data, "mnist"), "--init-from", history,
               "--train-limit", str(limit), "--seed", str(seed), "--json"], env=env)
    d = json.loads(out.strip().splitlines()[-1])
    return {"seconds": d["seconds"], "cpu": d["cpu_seconds"], "acc": d["test_accuracy"], "flops": d["flops"],
            "sweeps": d["sweeps"], "solver": d["solver"]}


def sgemm(binary, threads):
    line = run([binary, "1024", str(threads), "1.5"]).split()
    return float(line[line.index("gflops") + 1]), line[line.index("core") + 1]


def main():
    lpom, sgemm_bin, data, py = sys.argv[1:5]
    limit = int(os.environ.get("N", "60000"))
    rounds = int(os.environ.get("ROUNDS", "3"))
    seed = int(os.environ.get("SEED", "1"))
    print("lpom LPOM vs the NumPy peer — %s, %d cores, load %s" % (time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
                                                                 os.cpu_count(), load()))
    rate1, core = sgemm(sgemm_bin, 1)
    rate2, _ = sgemm(sgemm_bin, 2)
    np_rate = run([py, "-c", "import numpy as np, time\n"
                   "a = np.ones((1024, 1024), np.float32); a @ a; best = 0\n"
                   "for _ in range(3):\n"
                   "    t = time.perf_counter(); k = 0\n"
                   "    while time.perf_counter() - t < 0.5: a @ a; k += 1\n"
                   "    best = max(best, 2 * 1024 ** 3 * k / (time.perf_counter() - t) / 1e9)\n"
                   "print('%.1f' % best)"], env=dict(os.environ, OPENBLAS_NUM_THREADS="1")).strip()
    print("sgemm n = 1024 (lpom's OpenBLAS, %s kernels): %.1f GFLOP/s on 1 thread, %.1f on 2; NumPy's OpenBLAS: %s on 1"
          % (core, rate1, rate2, np_rate))
    print("epoch = %d MNIST images, batch 100, seed %d, LPOM defaults, no diagnostics; %d interleaved rounds" % (limit, seed, rounds))
    tmp = tempfile.mkdtemp(prefix="lpom-bench-")
    summary = []
    for layers in NETWORKS:
        print("\n784-%s-10" % layers.replace(",", "-"))
        print("%-6s %-22s %-22s %-22s %-22s %7s %7s %7s %7s %8s %6s %7s"
              % ("round", "lpom 1t s (cpu) acc", "numpy 1t s (cpu) acc", "lpom 2t s (cpu)", "numpy 2t s (cpu)",
                 "np/lp 1", "cpu 1", "np/lp 2", "cpu 2", "GFLOP/s", "%sgemm", "2t/1t"))
        rows = []
        h5 = os.path.join(tmp, "lpom.h5")
        for r in range(rounds):
            a = lpom_epoch(lpom, data, layers, 1, limit, seed, h5)
            b = numpy_epoch(py, data, h5, 1, limit, seed)
            c = lpom_epoch(lpom, data, layers, 2, limit, seed, h5)
            print("  (round %d: lpom 1t %.2f s, NumPy 1t %.2f s, lpom 2t %.2f s; NumPy 2t running)"
                  % (r + 1, a["seconds"], b["seconds"], c["seconds"]), file=sys.stderr, flush=True)
            d = numpy_epoch(py, data, h5, 2, limit, seed)
            row = {"lpom1": a["seconds"], "lpom1_cpu": a["cpu"], "numpy1": b["seconds"], "numpy1_cpu": b["cpu"],
                   "lpom2": c["seconds"], "lpom2_cpu": c["cpu"], "numpy2": d["seconds"], "numpy2_cpu": d["cpu"],
                   "ratio1": b["seconds"] / a["seconds"], "ratio1_cpu": b["cpu"] / a["cpu"],
                   "ratio2": d["seconds"] / c["seconds"], "ratio2_cpu": d["cpu"] / c["cpu"],
                   "gflops1": a["flops"] / a["seconds"] / 1e9, "gflops2": c["flops"] / c["seconds"] / 1e9,
                   "gflops1_cpu": a["flops"] / a["cpu"] / 1e9,
                   "speedup": a["seconds"] / c["seconds"], "lpom_acc": a["acc"], "numpy_acc": b["acc"],
                   "flops": a["flops"], "numpy_flops": b["flops"], "sweeps": a["sweeps"], "numpy_sweeps": b["sweeps"],
                   "cpu_per_wall1": a["cpu"] / a["seconds"], "load": load(), "solver": b["solver"]}
            rows.append(row)
            print("%-6d %6.2f (%5.2f) %6.2f%% %6.2f (%5.2f) %6.2f%% %6.2f (%5.2f)         %6.2f (%5.2f)         "
                  "%7.2f %7.2f %7.2f %7.2f %8.1f %5.0f%% %7.2f   load %s"
                  % (r + 1, a["seconds"], a["cpu"], 100 * a["acc"], b["seconds"], b["cpu"], 100 * b["acc"],
                     c["seconds"], c["cpu"], d["seconds"], d["cpu"], row["ratio1"], row["ratio1_cpu"], row["ratio2"],
                     row["ratio2_cpu"], row["gflops1"], 100 * row["gflops1"] / rate1, row["speedup"], row["load"]), flush=True)
        med = {k: statistics.median(r[k] for r in rows) for k in rows[0] if isinstance(rows[0][k], float)}
        print("median %6.2f (%5.2f)         %6.2f (%5.2f)         %6.2f (%5.2f)         %6.2f (%5.2f)         "
              "%7.2f %7.2f %7.2f %7.2f %8.1f %5.0f%% %7.2f"
              % (med["lpom1"], med["lpom1_cpu"], med["numpy1"], med["numpy1_cpu"], med["lpom2"], med["lpom2_cpu"],
                 med["numpy2"], med["numpy2_cpu"], med["ratio1"], med["ratio1_cpu"], med["ratio2"], med["ratio2_cpu"],
                 med["gflops1"], 100 * med["gflops1"] / rate1, med["speedup"]))
        print("flops of the epoch: lpom %.1f GFLOP (%d sweeps), NumPy %.1f GFLOP (%d sweeps); NumPy's Cholesky via %s; "
              "lpom --threads 1 used %.2f CPU s per wall s (%.1f GFLOP per CPU second = %.0f%% of the sgemm rate); "
              "two threads: %.1f GFLOP/s = %.0f%% of the 2-thread sgemm rate"
              % (rows[0]["flops"] / 1e9, rows[0]["sweeps"], rows[0]["numpy_flops"] / 1e9, rows[0]["numpy_sweeps"],
                 rows[0]["solver"], med["cpu_per_wall1"], med["gflops1_cpu"], 100 * med["gflops1_cpu"] / rate1,
                 med["gflops2"], 100 * med["gflops2"] / rate2))
        # At the full sgemm rate lpom's epoch would take flops / rate: the largest ratio any
        # implementation could reach against this peer.
        print("bound: lpom at 100%% of the sgemm rate would take %.2f s (1 thread), %.2f s (2 threads): "
              "NumPy / lpom ≤ %.2f× and ≤ %.2f×"
              % (rows[0]["flops"] / rate1 / 1e9, rows[0]["flops"] / rate2 / 1e9,
                 med["numpy1"] * rate1 * 1e9 / rows[0]["flops"], med["numpy2"] * rate2 * 1e9 / rows[0]["flops"]))
        summary.append((layers, med, rows))
    print("\nverdict (medians; per-round minimum in brackets):")
    for layers, med, rows in summary:
        lo = min(min(r["ratio1"], r["ratio1_cpu"], r["ratio2"]) for r in rows)
        print("  784-%s-10: NumPy / lpom %.2f× (1 thread), %.2f× (CPU s), %.2f× (2 threads) [%.2f]; %.0f%% of sgemm; "
              "2-thread speed-up %.2f× [%.2f]"
              % (layers.replace(",", "-"), med["ratio1"], med["ratio1_cpu"], med["ratio2"], lo, 100 * med["gflops1"] / rate1,
                 med["speedup"], min(r["speedup"] for r in rows)))
    print("targets: ≥ 3× over NumPy, ≥ 70%% of the sgemm rate, ≥ 1.8× from two threads; load at the end %s" % load())


if __name__ == "__main__":
    main()
