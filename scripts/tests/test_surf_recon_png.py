"""scripts/surf_recon_png.py: targets above reconstructions from `lpom surf --save` files.

    python3 -m unittest discover -s scripts/tests
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "surf_recon_png.py")

try:
    import h5py
    import numpy as np
except ImportError:       # scripts/test.sh installs h5py; without it these tests skip
    h5py = None


def decode(path):
    """(width, height, rows of pixel values) of an 8-bit greyscale PNG, read back independently."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    i, idat, w, h = 8, b"", None, None
    while i < len(data):
        n, = struct.unpack(">I", data[i:i + 4])
        kind, body = data[i + 4:i + 8], data[i + 8:i + 8 + n]
        crc, = struct.unpack(">I", data[i + 8 + n:i + 12 + n])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, kind
        if kind == b"IHDR":
            w, h, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (8, 0)
        elif kind == b"IDAT":
            idat += body
        i += 12 + n
    raw = zlib.decompress(idat)
    rows = []
    for r in range(h):
        line = raw[r * (w + 1):(r + 1) * (w + 1)]
        assert line[0] == 0          # filter "none"
        rows.append(list(line[1:]))
    return w, h, rows


@unittest.skipIf(h5py is None, "needs h5py and numpy")
class ReconPNGTests(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="lpom-recon-test-")
        rng = np.random.default_rng(3)
        self.targets = rng.uniform(0, 1, (12, 16))          # 12 trials of 4×4 images
        self.adam = rng.uniform(-0.2, 1.2, (12, 16))        # outside [0, 1]: clipped for display
        self.surf = rng.uniform(0, 1, (12, 16))
        self.a = self.save("adam.h5", self.targets, self.adam)
        self.s = self.save("surf.h5", self.targets, self.surf)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def save(self, name, targets, generated, rmse=None, skip=()):
        path = os.path.join(self.dir, name)
        with h5py.File(path, "w") as f:
            for k, v in (("targets", targets), ("generated", generated),
                         ("rmse", np.sqrt(((generated - targets) ** 2).mean(1)) if rmse is None else rmse),
                         ("x_hat", np.zeros((len(targets), 2)))):
                if k not in skip:
                    f[k] = v
        return path

    def run_script(self, *args):
        return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True, timeout=60)

    def test_row_one_holds_the_targets_and_each_file_a_row_of_its_reconstructions_in_trial_order(self):
        out = os.path.join(self.dir, "r.png")
        p = self.run_script(out, self.a, self.s, "--columns", "5", "--scale", "2")
        self.assertEqual(p.returncode, 0, p.stderr)
        w, h, px = decode(out)
        gap, cell = 2, 4 * 2
        self.assertEqual((w, h), (5 * cell + 6 * gap, 3 * cell + 4 * gap))
        for r, images in enumerate((self.targets, self.adam, self.surf)):
            for c in range(5):
                for i in range(4):
                    for j in range(4):
                        want = round(255 * min(1, max(0, images[c][i * 4 + j])))
                        for di in range(2):
                            for dj in range(2):
                                y = gap + r * (cell + gap) + i * 2 + di
                                x = gap + c * (cell + gap) + j * 2 + dj
                                self.assertEqual(px[y][x], want, (r, c, i, j))
        # the grey frame between images
        self.assertEqual(set(px[0]), {128})
        self.assertEqual({row[gap + cell] for row in px}, {128})
        # the caption: per file, the shown trials' RMSE and the mean over all
        self.assertIn("0–4", p.stdout)
        rmse = np.sqrt(((self.surf - self.targets) ** 2).mean(1))
        self.assertIn(f"of all 12 trials {rmse.mean():.4f}", p.stdout)
        self.assertIn(", ".join(f"{x:.3f}" for x in rmse[:5]), p.stdout)

    def test_columns_beyond_the_trials_show_every_trial(self):
        out = os.path.join(self.dir, "r.png")
        p = self.run_script(out, self.a, "--columns", "40", "--scale", "1")
        self.assertEqual(p.returncode, 0, p.stderr)
        w, h, _ = decode(out)
        self.assertEqual((w, h), (12 * 4 + 13 * 2, 2 * 4 + 3 * 2))

    def assertOneLineError(self, p, *words):
        self.assertNotEqual(p.returncode, 0)
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        for w in words:
            self.assertIn(w, lines[0])
        self.assertNotIn("Traceback", p.stderr)

    def test_files_of_other_targets_are_refused(self):
        other = self.save("other.h5", self.targets + 1e-3, self.surf)
        out = os.path.join(self.dir, "r.png")
        self.assertOneLineError(self.run_script(out, self.a, other), "other.h5", "not the same targets")
        self.assertFalse(os.path.exists(out))

    def test_bad_files_get_one_line(self):
        out = os.path.join(self.dir, "r.png")
        text = os.path.join(self.dir, "notes.h5")
        open(text, "w").write("not hdf5")
        self.assertOneLineError(self.run_script(out, text), "notes.h5", "not a readable HDF5")
        self.assertOneLineError(self.run_script(out, os.path.join(self.dir, "missing.h5")), "missing.h5")
        self.assertOneLineError(self.run_script(out, self.save("nogen.h5", self.targets, self.adam, skip=("generated",))),
                                "nogen.h5", "'generated'")
        self.assertOneLineError(self.run_script(out, self.save("wide.h5", np.zeros((3, 15)), np.zeros((3, 15)))),
                                "wide.h5", "square")
        self.assertOneLineError(self.run_script(out, self.save("shape.h5", self.targets, self.adam[:, :9], rmse=np.zeros(12))), "shape.h5")
        nan = self.adam.copy(); nan[2, 3] = np.nan
        self.assertOneLineError(self.run_script(out, self.save("nan.h5", self.targets, nan)), "nan.h5", "NaN")
        self.assertOneLineError(self.run_script(os.path.join(self.dir, "r.svg"), self.a), ".png")
        self.assertOneLineError(self.run_script(out, self.a, "--columns", "0"), "--columns")
        self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    unittest.main()
