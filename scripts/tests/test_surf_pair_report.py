"""scripts/surf_pair_report.py: the numbers notebook 03 writes about two paired runs.

    python3 -m unittest discover -s scripts/tests
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "surf_pair_report.py")


def run(*args):
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True)


class PairReportTests(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir)

    def write(self, name, **d):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            json.dump(d, f)
        return path

    def pair(self):
        # Six trials. Surfing: budget 100 + 20; solves trials 0-3; fails at 0.1 (exactly: the
        # [0.1, 1) bin) after its whole budget, and at 1.0 (the ≥ 1 bin) after 50 steps.
        s = self.write("s.json", command="surf", prefinal_budget=100, final_steps=20, cpu_seconds=120,
                       iterations=[10, 20, 30, 40, 120, 50], successes="111100",
                       distances=[0.001, 0.002, 0.003, 0.004, 0.1, 1.0], rmses=[0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
        # Adam: budget 60; solves trials 0 and 5; fails at 0.0999 (< 0.1) and beyond.
        a = self.write("a.json", command="adam", final_steps=60, cpu_seconds=30,
                       iterations=[5, 60, 60, 60, 60, 5], successes="100001",
                       distances=[0.005, 0.0999, 2.0, 3.0, 4.0, 0.006], rmses=[0.2, 0.1, 0.4, 0.5, 0.6, 0.05])
        return s, a

    def test_numbers_of_a_constructed_pair(self):
        s, a = self.pair()
        r = run(s, a)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout
        self.assertIn("mean steps per trial 45, CPU 2.0 min", out)
        self.assertIn("solved 4 of 6; median ‖x̂ − x*‖ 0.0035", out)
        self.assertIn("failures 2: < 0.1 0, [0.1, 1) 1, ≥ 1 1; nearest 0.1, farthest 1; 1 used the whole budget of 120 steps", out)
        self.assertIn("solved 2 of 6", out)
        self.assertIn("failures 4: < 0.1 1, [0.1, 1) 0, ≥ 1 3; nearest 0.0999, farthest 4; 4 used the whole budget of 60 steps", out)
        self.assertIn("A / B mean steps per trial: 1.1", out)   # 45 / 41.67
        # surfing only: trials 1, 2, 3; Adam only: trial 5 → p = 2 (1 + 4) / 16 = 0.625
        self.assertIn("solved by A only 3, by B only 1; McNemar p 0.62", out)
        # nearer: A in trials 0, 1, 2, 3, 4; B in 5 → p = 2 · 7 / 64
        self.assertIn("ends nearer to x* in A 5, in B 1 (ties dropped); sign test p 0.22", out)
        # RMSE lower: A in 0, 2, 3, 4 ; B in 1, 5
        self.assertIn("RMSE lower in A 4, in B 2 (ties dropped); sign test p 0.69", out)

    def test_held_out_images_have_no_success_test(self):
        r1 = self.write("r1.json", command="a", final_steps=10, iterations=[10, 10], successes="00",
                        distances=[None, None], rmses=[0.2, 0.4])
        r2 = self.write("r2.json", command="s", final_steps=10, iterations=[10, 10], successes="00",
                        distances=[None, None], rmses=[0.1, 0.3])
        r = run(r1, r2)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("no x* (held-out images): no success test", r.stdout)
        self.assertIn("per-pixel RMSE mean 0.3000, median 0.3000, range 0.2000 to 0.4000", r.stdout)
        self.assertNotIn("McNemar", r.stdout)
        self.assertIn("RMSE lower in A 0, in B 2", r.stdout)

    def test_bad_input_is_one_line_and_exit_2(self):
        s, a = self.pair()
        short = self.write("short.json", iterations=[1, 2], successes="11", distances=[0, 0])
        other = self.write("other.json", k=[2, 3])
        text = os.path.join(self.dir, "x.json")
        with open(text, "w") as f:
            f.write("not json")
        for args, words in [((s,), "usage"), ((s, short), "not paired"), ((s, other), "not an `lpom surf --json` result"),
                            ((s, text), "x.json"), ((s, os.path.join(self.dir, "missing.json")), "missing.json")]:
            r = run(*args)
            self.assertEqual(r.returncode, 2, args)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
            self.assertIn(words, r.stderr)
            self.assertNotIn("Traceback", r.stderr)


if __name__ == "__main__":
    unittest.main()
