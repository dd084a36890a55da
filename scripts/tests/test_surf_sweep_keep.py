"""`bash scripts/surf_sweep.sh save` / `restore`: the runs under way are copied to a folder in git
and back onto a new machine, so a run of hours continues where it stopped instead of starting over
(the checkpoint's own refusal of another generator is tested in SurfCLITests).

    python3 -m unittest discover -s scripts/tests
"""
import os
import shutil
import subprocess
import tempfile
import unittest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.environ.get("SWEEP_CONTROL", os.path.join(REPO, "scripts", "surf_sweep.sh"))


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def read(path):
    with open(path) as f:
        return f.read()


class KeepTests(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="lpom-keep-test-")
        self.root, self.res = os.path.join(self.dir, "runs"), os.path.join(self.dir, "res")
        self.keep = os.path.join(self.res, "in-progress")
        surf = os.path.join(self.root, "surf")
        # finished unit: its small JSON is in RES; nothing of it is kept
        write(os.path.join(self.res, "a-k5-g1-s1-adam.json"), "{}")
        write(os.path.join(surf, "a-k5-g1-s1-adam.pieces", "0-300.json"), "done a")
        # a unit under way: a finished piece, a checkpointed one, and files that are not state
        u = os.path.join(surf, "b-k20-g1-s1-cs-m100-surfing.pieces")
        write(os.path.join(u, "0-50.json"), "piece 0-50")
        write(os.path.join(u, "50-100.ckpt", "phases.json"), "phase 40")
        write(os.path.join(u, "50-100.ckpt", "split.json"), '{"workers": 1}')
        write(os.path.join(u, "50-100.json.tmp"), "partial output")
        write(os.path.join(u, "50-100.err"), "log")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def sweep(self, command):
        env = dict(os.environ, ROOT=self.root, RES=self.res, KEEP=self.keep)
        p = subprocess.run(["bash", SCRIPT, command], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p.stdout

    def kept(self):
        out = set()
        for d, _, files in os.walk(self.keep):
            out |= {os.path.relpath(os.path.join(d, f), self.keep) for f in files}
        return out

    def test_save_keeps_the_state_of_unfinished_units_only(self):
        self.assertIn("saved 2 piece(s)", self.sweep("save"))
        u = "b-k20-g1-s1-cs-m100-surfing.pieces/"
        self.assertEqual(self.kept(), {u + "0-50.json", u + "50-100.ckpt/phases.json", u + "50-100.ckpt/split.json"})
        # saved again later: the unit has finished, so nothing is kept
        write(os.path.join(self.res, "b-k20-g1-s1-cs-m100-surfing.json"), "{}")
        self.sweep("save")
        self.assertFalse(os.path.exists(self.keep))

    def test_a_new_machine_gets_the_saved_state_back_and_a_newer_one_is_kept(self):
        self.sweep("save")
        shutil.rmtree(self.root)                              # a new machine
        self.assertIn("continuing 2 saved", self.sweep("restore"))
        u = os.path.join(self.root, "surf", "b-k20-g1-s1-cs-m100-surfing.pieces")
        self.assertEqual(read(os.path.join(u, "50-100.ckpt", "phases.json")), "phase 40")
        self.assertEqual(read(os.path.join(u, "0-50.json")), "piece 0-50")
        # the run went on here: a later checkpoint is not overwritten by the saved one
        write(os.path.join(u, "50-100.ckpt", "phases.json"), "phase 80")
        self.sweep("restore")
        self.assertEqual(read(os.path.join(u, "50-100.ckpt", "phases.json")), "phase 80")
        self.assertEqual(sorted(os.listdir(os.path.join(u, "50-100.ckpt"))), ["phases.json", "split.json"])
        # a piece finished here takes no checkpoint back
        shutil.rmtree(os.path.join(u, "50-100.ckpt"))
        write(os.path.join(u, "50-100.json"), "piece 50-100")
        self.sweep("restore")
        self.assertFalse(os.path.exists(os.path.join(u, "50-100.ckpt")))


if __name__ == "__main__":
    unittest.main()
