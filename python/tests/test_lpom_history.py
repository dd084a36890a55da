"""The Python companion against lpom itself: tiny histories written by the lpom binary (LPOM_BIN, else
.build/debug/lpom, else .build/release/lpom) on data/fixtures/tiny, read back with lpom_history and
compared with `lpom eval` (same accuracy and loss from the same snapshot) and with `lpom export
--samples` (same G(x) to float rounding). PyTorch parts are skipped without torch; everything is
skipped, with a line, without an lpom binary.

    python -m unittest discover -s python/tests -v
"""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))
import lpom_history as lh  # noqa: E402

try:
    import torch
except ImportError:
    torch = None

DATA = os.path.join(ROOT, "data", "fixtures", "tiny")


def lpom_binary():
    for p in (os.environ.get("LPOM_BIN"), os.path.join(ROOT, ".build", "debug", "lpom"),
              os.path.join(ROOT, ".build", "release", "lpom")):
        if p and os.access(p, os.X_OK):
            return p
    return None


LPOM = lpom_binary()
# Each history: the train arguments and the data set. Small enough that all four take a few seconds.
RUNS = {
    "mlp": ["--method", "sgd", "--dataset", "mnist", "--layers", "16", "--activation", "tanh", "--epochs", "2",
            "--batch-size", "50", "--snapshot-every", "2"],
    "hbnet": ["--method", "sgd", "--dataset", "fashion-mnist", "--arch", "hbnet", "--block", "conv", "--depth", "2",
              "--width", "4", "--epochs", "1", "--batch-size", "50"],
    "agdnet": ["--method", "adam", "--dataset", "mnist", "--arch", "agdnet", "--block", "dense", "--depth", "3",
               "--width", "8", "--learnable-coefficients", "--epochs", "1", "--batch-size", "50"],
    "generator": ["--model", "dcgan", "--generator", "paper", "--latent", "5", "--steps", "1", "--dataset", "mnist",
                  "--batch-size", "8"],
}


def lpom(*args):
    r = subprocess.run([LPOM, *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError("lpom %s failed: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout


@unittest.skipIf(LPOM is None, "no lpom binary (swift build first, or set LPOM_BIN)")
class CompanionTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="lpom-python-")
        cls.paths = {}
        for name, args in RUNS.items():
            path = os.path.join(cls.dir, name + ".h5")
            lpom("train", *args, "--data-dir", DATA, "--history", path, "--quiet", "--threads", "1")
            cls.paths[name] = path

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    # -- h5py + NumPy only -----------------------------------------------------------------
    def test_history_fields_and_numpy_state_dict(self):
        with lh.open_history(self.paths["hbnet"]) as h:
            self.assertEqual(h.training["arch"], "hbnet")
            self.assertEqual(h.model["layers"][4]["type"], "recurrence")
            self.assertEqual(list(h.steps), [0, 4])
            sd = h.state_dict(-1, torch=False)
            with h5py.File(self.paths["hbnet"], "r", locking=False) as f:
                np.testing.assert_array_equal(sd["layers.4.blocks.1.0.weight"], f["theta/layers.4.blocks.1.0.weight"][1])
                np.testing.assert_array_equal(sd["layers.1.running_var"], f["buffers/layers.1.running_var"][1])
            # One num_batches_tracked per batch-norm layer (stem and one per block), = the step.
            tracked = sorted(k for k in sd if k.endswith("num_batches_tracked"))
            self.assertEqual(tracked, ["layers.1.num_batches_tracked", "layers.4.blocks.0.1.num_batches_tracked",
                                       "layers.4.blocks.1.1.num_batches_tracked"])
            self.assertEqual(int(sd[tracked[0]]), 4)
            with self.assertRaises(IndexError):
                h.state_dict(2)

    def test_metrics_match_lpom_export_csv(self):
        path = self.paths["mlp"]
        out = os.path.join(self.dir, "mlp.csv")
        lpom("export", path, "--metrics", out)
        with open(out) as f:
            rows = list(csv.DictReader(f))
        with lh.open_history(path) as h:
            m = h.metrics(as_frame=False)
        self.assertEqual(len(rows), len(m["step"]))
        self.assertEqual(len(rows), 8)  # 200 images / 50 per batch × 2 epochs
        for name in ("loss", "test_accuracy"):
            csv_values = np.array([float(r[name]) if r[name] else np.nan for r in rows])
            np.testing.assert_array_equal(csv_values, m[name])
        self.assertTrue(np.isfinite(m["test_accuracy"][-1]) and np.isnan(m["test_accuracy"][0]))

    def test_metrics_as_a_pandas_frame(self):
        try:
            import pandas  # noqa: F401
        except ImportError:
            self.skipTest("pandas not installed")
        with lh.open_history(self.paths["mlp"]) as h:
            frame = h.metrics()
            arrays = h.metrics(as_frame=False)
        self.assertEqual(frame.index.name, "step")
        np.testing.assert_array_equal(frame.index.to_numpy(), arrays["step"])
        np.testing.assert_array_equal(frame["loss"].to_numpy(), arrays["loss"])

    def test_reads_a_file_another_process_holds_open_for_writing(self):
        # What a running `lpom train` does: the file is open for writing (HDF5 takes its lock).
        copy = os.path.join(self.dir, "live.h5")
        shutil.copy(self.paths["mlp"], copy)
        holder = subprocess.Popen([sys.executable, "-c", "import h5py, sys; f = h5py.File(sys.argv[1], 'r+'); "
                                   "print('open', flush=True); sys.stdin.read()", copy],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            self.assertEqual(holder.stdout.readline().strip(), "open")
            with self.assertRaises(OSError):  # what users met: "unable to lock file"
                h5py.File(copy, "r").close()
            with lh.open_history(copy) as h:
                self.assertEqual(len(h), 5)
                self.assertEqual(len(h.metrics(as_frame=False)["step"]), 8)
        finally:
            holder.stdin.close()
            holder.wait()
            holder.stdout.close()

    def test_refuses_a_file_that_is_not_a_history(self):
        other = os.path.join(self.dir, "other.h5")
        with h5py.File(other, "w") as f:
            f["x"] = [1]
        with self.assertRaisesRegex(lh.HistoryError, "not an lpom history"):
            lh.open_history(other)

    # -- PyTorch -----------------------------------------------------------------------------
    def check_eval(self, name, snapshot=-1):
        path = self.paths[name]
        ref = json.loads(lpom("eval", path, "--data-dir", DATA, "--snapshot", str(snapshot), "--json"))
        with lh.open_history(path) as h:
            net = lh.build_model(h.model)
            net.load_state_dict(h.state_dict(snapshot))  # strict
            x, y = lh.load_split(DATA, h.training["dataset"], "test")
        acc, loss = lh.evaluate(net, x, y)
        self.assertEqual(acc, ref["test_accuracy"], name)
        self.assertAlmostEqual(loss, ref["test_loss"], delta=1e-5 * max(1, abs(ref["test_loss"])), msg=name)
        return net

    @unittest.skipIf(torch is None, "PyTorch not installed")
    def test_mlp_matches_lpom_eval(self):
        self.check_eval("mlp", 0)
        self.check_eval("mlp", 2)
        net = self.check_eval("mlp", -1)
        # The same weights in a plain nn.Sequential (names 0.weight, …).
        plain = torch.nn.Sequential(*[type(m)(*([m.in_features, m.out_features] if isinstance(m, torch.nn.Linear) else []))
                                      for m in net.layers])
        plain.load_state_dict(lh.state_dict(self.paths["mlp"], -1, strip="layers."))
        x = torch.rand(3, 784)
        torch.testing.assert_close(plain(x), net(x))

    @unittest.skipIf(torch is None, "PyTorch not installed")
    def test_conv_hbnet_matches_lpom_eval(self):
        net = self.check_eval("hbnet")
        self.assertIsInstance(net.layers[1], torch.nn.BatchNorm2d)

    @unittest.skipIf(torch is None, "PyTorch not installed")
    def test_agdnet_with_learnable_coefficients_matches_lpom_eval(self):
        net = self.check_eval("agdnet")
        with lh.open_history(self.paths["agdnet"]) as h:
            coef = h.theta(-1)["layers.4.states.3.coef"]
            # Adam moved the coefficients away from their initial values in the JSON.
            init = [t["coef"] for t in h.model["layers"][4]["states"][2]["terms"] if t.get("learnable")]
        self.assertGreater(np.abs(coef - np.array(init)).max(), 1e-4)
        np.testing.assert_array_equal(net.layers[4].states["3"].coef.detach().numpy(), coef)

    @unittest.skipIf(torch is None, "PyTorch not installed")
    def test_paper_generator_matches_lpom_samples(self):
        path = self.paths["generator"]
        out = os.path.join(self.dir, "samples.safetensors")
        lpom("export", path, "--samples", out, "--sample-count", "6", "--seed", "3")
        s, meta = lh.read_safetensors(out)
        self.assertEqual(meta["prior"], "uniform")
        with lh.open_history(path) as h:
            g = lh.build_model(h.model)
            g.load_state_dict(h.state_dict(-1))
        g.eval()
        with torch.no_grad():
            y = g(torch.from_numpy(s["latent"])).numpy()
        self.assertEqual(y.shape, (6, 1, 28, 28))
        np.testing.assert_allclose(y, s["output"], rtol=0, atol=2e-6)
        self.assertGreater(float(np.std(y)), 1e-4)  # not a constant image (θ after one step is near θ_0)

    @unittest.skipIf(torch is None, "PyTorch not installed")
    def test_every_remaining_layer_type_matches_lpom(self):
        # The layer types the trained histories above lack (normalize, leaky_relu, elu, softplus,
        # identity, avgpool2d with padding, maxpool2d with padding), in a history written with h5py;
        # lpom evaluates it through `export --samples` (uniform inputs in [-1, 1]).
        model = {"input_shape": [1, 6, 6], "layers": [
            {"type": "normalize", "mean": 0.25, "std": 0.5},
            {"name": "layers.1", "type": "conv2d", "in_channels": 1, "out_channels": 2, "kernel": 3, "stride": 1, "padding": 1},
            {"type": "leaky_relu", "alpha": 0.2},
            {"type": "avgpool2d", "kernel": 3, "stride": 2, "padding": 1},
            {"type": "elu", "alpha": 0.5},
            {"type": "maxpool2d", "kernel": 2, "stride": 2, "padding": 1},
            {"type": "softplus"},
            {"type": "flatten"},
            {"name": "layers.8", "type": "dense", "in": 8, "out": 5},
            {"type": "identity"},
            {"type": "tanh"}]}
        rng = np.random.default_rng(17)
        theta = {"layers.1.weight": rng.normal(0, 0.8, (2, 2, 1, 3, 3)), "layers.1.bias": rng.normal(0, 0.3, (2, 2)),
                 "layers.8.weight": rng.normal(0, 0.7, (2, 5, 8)), "layers.8.bias": rng.normal(0, 0.2, (2, 5))}
        path = os.path.join(self.dir, "layers.h5")
        with h5py.File(path, "w") as f:
            f.attrs["format"] = "lpom-history"
            f.attrs["format_version"] = 1
            f.attrs["created_by"] = "test_lpom_history.py"
            f.attrs["model"] = json.dumps(model)
            f.attrs["training"] = json.dumps({"method": "gan"})
            g = f.create_group("theta")
            for name, v in theta.items():
                g.create_dataset(name, data=v.astype(np.float32), maxshape=(None,) + v.shape[1:], chunks=(1,) + v.shape[1:])
            f.create_group("buffers")
            f.create_dataset("snapshot_step", data=np.array([0, 10], dtype=np.int64), maxshape=(None,), chunks=(16,))
            f.create_group("metrics").create_dataset("step", data=np.zeros(0, dtype=np.int64), maxshape=(None,), chunks=(16,))
        out = os.path.join(self.dir, "layers.safetensors")
        lpom("export", path, "--samples", out, "--sample-count", "40", "--seed", "5")
        s, _ = lh.read_safetensors(out)
        net = lh.build_model(model)
        net.load_state_dict(lh.state_dict(path, -1))
        net.eval()
        with torch.no_grad():
            y = net(torch.from_numpy(s["latent"])).numpy()
        np.testing.assert_allclose(y, s["output"], rtol=0, atol=1e-6)
        self.assertGreater(float(np.std(y)), 0.05)

    @unittest.skipIf(torch is None, "PyTorch not installed")
    def test_exported_safetensors_load_strictly(self):
        path = self.paths["agdnet"]
        out = os.path.join(self.dir, "agd.safetensors")
        lpom("export", path, "--snapshot", "0", "--output", out)
        w, meta = lh.read_safetensors(out)
        self.assertEqual(meta["lpom_step"], "0")
        net = lh.build_model(meta["lpom_model"])
        net.load_state_dict({k: torch.from_numpy(v) for k, v in w.items()})
        ref = lh.state_dict(path, 0)
        for k, v in net.state_dict().items():
            torch.testing.assert_close(v, ref[k], rtol=0, atol=0)


if __name__ == "__main__":
    unittest.main()
