"""Tests of scripts/surf_cs_svg.py (the compressed-sensing success rate against m): the Wilson
interval against golden values from an independent implementation, and what the figure draws.

Golden intervals: SciPy 1.x, `scipy.stats.binomtest(k, n).proportion_ci(method="wilson")`,
computed once (SciPy in a virtual environment) on 2026-12-07 and written here."""
import json
import os
import re
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import surf_cs_svg  # noqa: E402

GOLDEN = {
    (32, 100): (0.23669147324999093, 0.41662618610452384),
    (0, 100): (0.0, 0.03699349820698568),
    (95, 100): (0.8882495307680809, 0.978456320845632),
    (83, 100): (0.7445199523239887, 0.8910643388594006),
    (1, 7): (0.02567962434474358, 0.5131278292743189),
}


def write(directory, m, method, k, n=100):
    with open(os.path.join(directory, "dcgan-k20-g1-s1-cs-m%d-%s.json" % (m, method)), "w") as f:
        json.dump({"successes": "1" * k + "0" * (n - k)}, f)


class WilsonTests(unittest.TestCase):
    def test_golden_values(self):
        for (k, n), (a, b) in GOLDEN.items():
            lo, hi = surf_cs_svg.wilson(k, n)
            self.assertAlmostEqual(lo, a, places=12, msg=(k, n))
            self.assertAlmostEqual(hi, b, places=12, msg=(k, n))


class FigureTests(unittest.TestCase):
    def draw(self, runs):
        with tempfile.TemporaryDirectory() as d:
            for r in runs:
                write(d, *r)
            write(d, 100, "surfing-linear", 5)                     # other tags are not read
            return surf_cs_svg.svg(surf_cs_svg.load(d, "dcgan-k20-g1-s1"))

    def test_a_point_per_run_and_lines_only_between_neighbouring_m(self):
        out = self.draw([(20, "adam", 0), (50, "adam", 32), (100, "adam", 60),
                         (20, "surfing", 0), (100, "surfing", 83), (100, "restarts", 95)])
        points = re.findall(r"<title>(.*?)</title>", out)
        self.assertEqual(sorted(points), sorted([
            "regular Adam, m = 20: 0 of 100", "regular Adam, m = 50: 32 of 100", "regular Adam, m = 100: 60 of 100",
            "surfing, m = 20: 0 of 100", "surfing, m = 100: 83 of 100",
            "10 random restarts (surfing's budget), m = 100: 95 of 100"]))
        # Adam: 20–50 and 50–100; surfing has no m = 50, so no line; restarts one point
        self.assertEqual(len(re.findall(r'stroke="#1f77b4" stroke-width="2"', out)), 2)
        self.assertEqual(len(re.findall(r'stroke="#d62728" stroke-width="2"', out)), 0)
        self.assertEqual(len(re.findall(r'stroke="#2ca02c" stroke-width="2"', out)), 0)
        self.assertEqual(re.findall(r">(\d+)</text>", out)[:3], ["20", "50", "100"])   # m ticks, then p ticks

    def test_a_higher_rate_is_drawn_higher(self):
        out = self.draw([(100, "adam", 60), (100, "surfing", 83)])
        y = {t: float(cy) for cy, t in re.findall(r'cy="([\d.]+)"[^>]*><title>(\w[^,]*),', out)}
        self.assertLess(y["surfing"], y["regular Adam"])   # SVG y grows downwards

    def test_no_runs_is_one_clear_error(self):
        with tempfile.TemporaryDirectory() as d:
            with self.assertRaises(SystemExit) as e:
                surf_cs_svg.main([os.path.join(d, "x.svg"), d])
            self.assertIn("no dcgan-k20-g1-s1-cs-m<M>-<method>.json", str(e.exception))


if __name__ == "__main__":
    unittest.main()
