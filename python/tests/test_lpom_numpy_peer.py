"""lpom's LPOM trainer and its NumPy peer (bench/lpom_numpy.py, the benchmark's other side) compute
the same iterates: lpom trains a few mini-batches from a fixed seed with a snapshot after every
step; the peer starts from the history's θ_0, draws lpom's sample order (its SplitMix64
permutation) and takes the same steps; every weight and bias must agree to float32 rounding
after every step, with the same number of X-phase sweeps. Two networks: 784-300-100-10 (batch-space
APG on the first two layers, full-space on the last) and 784-40-30-20-10 with batches of 60 (b = 60
exceeds d + 1 = 31 and 21 on the last two layers, so the (d+1) × (d+1) Gram system and the
full-space APG run there). The sample order is checked through the iterates: several batches of a
permutation. Needs numpy and h5py (scipy
optional); skipped, with a line, without them or without an lpom binary.

    python -m unittest discover -s python/tests -v
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

try:
    import h5py
    import numpy as np
    from test_lpom_history import lpom_binary  # the binary those tests use (LPOM_BIN, else .build/…)
except ImportError:
    h5py = None
    lpom_binary = lambda: None  # noqa: E731

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
DATA = os.path.join(ROOT, "data", "fixtures", "tiny")


LPOM = lpom_binary()


@unittest.skipIf(h5py is None, "numpy or h5py missing: the NumPy peer check is skipped")
@unittest.skipIf(LPOM is None, "no lpom binary (swift build first, or set LPOM_BIN)")
class NumPyPeerTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="lpom-peer-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def check(self, layers, samples, batch, seed, tolerance=1e-3, rtol=2e-4, threads=1):
        import lpom_numpy as peer
        path = os.path.join(self.dir, "run-%s.h5" % layers)
        r = subprocess.run([LPOM, "train", "--method", "lpom", "--data-dir", DATA, "--dataset", "mnist", "--layers", layers,
                            "--epochs", "1", "--train-limit", str(samples), "--batch-size", str(batch), "--seed", str(seed),
                            "--threads", str(threads), "--fixed-point-tolerance", str(tolerance), "--no-lpom-diagnostics", "--snapshot-every", "1", "--history", path,
                            "--overwrite", "--quiet"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        W, b, act, out, training = peer.model_from_history(path)
        xs, ys = peer.load_images(os.path.join(DATA, "mnist"), "train", samples)
        m = peer.LPOM(W, b, act, out, "cross-entropy", [5.0], tol=tolerance)
        order = peer.lpom_permutation(samples, seed, 0)
        with h5py.File(path, "r") as f:
            model = json.loads(f.attrs["model"])
            names = [l["name"] for l in model["layers"] if l["type"] == "dense"]
            sweeps = [int(s) for s in f["metrics/fixed_point_iterations"][:]]
            steps = (samples + batch - 1) // batch
            self.assertEqual(list(f["snapshot_step"][:]), list(range(steps + 1)))
            for j in range(steps):
                before = m.sweeps
                idx = order[j * batch:(j + 1) * batch]
                m.step(xs[idx], ys[idx])
                self.assertEqual(m.sweeps - before, sweeps[j], "X-phase sweeps of step %d" % (j + 1))
                for k, name in enumerate(names):
                    for mine, key in ((m.W[k], ".weight"), (m.b[k], ".bias")):
                        ref = f["theta/" + name + key][j + 1]
                        scale = float(np.abs(ref).max())
                        diff = float(np.abs(mine - ref).max())
                        self.assertLessEqual(diff, rtol * scale, "%s%s after step %d: largest difference %.3g (scale %.3g)"
                                             % (name, key, j + 1, diff, scale))
        return m, sweeps

    def test_same_iterates_784_300_100_10(self):
        m, sweeps = self.check("300,100", samples=200, batch=50, seed=1)
        self.assertEqual(m.steps, 4)

    def test_same_iterates_on_two_threads(self):
        # lpom's sweeps split by rows over two workers, its W-updates on two concurrent tasks.
        self.check("300,100", samples=200, batch=50, seed=1, threads=2)

    def test_same_iterates_and_sweeps_when_the_x_phase_stops_early(self):
        # A loose tolerance, so that the stopping rule (not the cap of 20 sweeps) ends X-phases.
        m, sweeps = self.check("300,100", samples=200, batch=50, seed=3, tolerance=0.02)
        self.assertLess(min(sweeps), 20, "no X-phase stopped before the cap: the stopping rule was not exercised")

    def test_same_iterates_feature_gram_system(self):
        # b = 60 > d + 1 on the last two layers: the (d+1) × (d+1) Gram system and full-space APG.
        self.check("40,30,20", samples=180, batch=60, seed=2)


if __name__ == "__main__":
    unittest.main()
