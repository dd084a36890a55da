"""Tests of scripts/surf_cdf_svg.py: the empirical CDF drawn as steps (no line from the axis's
left end straight to the first trial), distances or, with --rmse, per-pixel RMSE, and one clear
error for a run without the values asked for."""
import contextlib
import io
import json
import os
import re
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import surf_cdf_svg  # noqa: E402


def points(svg):
    """Each polyline's points as [(x, y)]."""
    return [[tuple(map(float, p.split(","))) for p in m.split()] for m in re.findall(r'<polyline[^>]*points="([^"]*)"', svg)]


class CDFTests(unittest.TestCase):
    def draw(self, runs, rmse=False):
        with tempfile.TemporaryDirectory() as d:
            args = []
            for i, run in enumerate(runs):
                path = os.path.join(d, "r%d.json" % i)
                with open(path, "w") as f:
                    json.dump(run, f)
                args.append("method %d, m = 100=%s" % (i, path))    # a label may hold "="
            out = os.path.join(d, "x.svg")
            surf_cdf_svg.main((["--rmse"] if rmse else []) + [out] + args)
            with open(out) as f:
                return f.read()

    def test_steps_of_one_over_n_at_each_trials_value(self):
        svg = self.draw([{"distances": [1.0, 0.001, 0.1, None], "tolerance": 0.01}])
        (pts,) = points(svg)
        xs = sorted({x for x, _ in pts[1:-1]})
        self.assertEqual(len(xs), 3)                    # three trials with a distance (None left out)
        y0 = pts[0][1]
        self.assertEqual(pts[1], (pts[1][0], y0))       # flat at 0 up to the smallest value …
        self.assertGreater(pts[1][0], pts[0][0] + 100)  # … which is far right of the axis's end
        rises = [(a, b) for a, b in zip(pts, pts[1:]) if a[0] == b[0] and a[1] != b[1]]
        self.assertEqual(len(rises), 3)
        heights = [a[1] - b[1] for a, b in rises]
        self.assertLess(max(heights) - min(heights), 0.2)   # equal steps of 1/n (to the 0.1 px written)
        self.assertAlmostEqual(sum(heights), pts[0][1] - pts[-1][1], delta=0.2)   # from 0 to 1
        self.assertIn("method 0, m = 100 (n = 3)", svg)
        self.assertIn("dashed: success threshold", svg)

    def test_rmse_reads_per_trial_rmse_of_small_and_full_outputs(self):
        small = {"rmses": [0.1, 0.2], "distances": [None, None]}
        full = {"results": [{"rmse": 0.05}, {"rmse": 0.3}, {"rmse": 0.01}]}
        svg = self.draw([small, full], rmse=True)
        self.assertEqual([len({x for x, _ in p[1:-1]}) for p in points(svg)], [2, 3])
        self.assertIn("per-pixel RMSE", svg)
        self.assertNotIn("stroke-dasharray", svg)       # no success threshold without x*

    def test_rmse_axis_spans_the_decades_of_the_values(self):
        labels = lambda svg: [t for t in re.findall(r'text-anchor="middle">([^<]*)</text>', svg) if re.fullmatch(r"[0-9.e-]+", t)]
        svg = self.draw([{"rmses": [0.048, 0.2, 0.557]}], rmse=True)
        self.assertEqual(labels(svg), ["0.01", "0.02", "0.05", "0.1", "0.2", "0.5", "1"])
        (pts,) = points(svg)
        self.assertLess(pts[0][0], pts[1][0] - 100)    # the curve starts well inside the axis
        svg = self.draw([{"rmses": [0.2, 0.3]}, {"rmses": [2e-5, 0.1]}], rmse=True)
        self.assertEqual(labels(svg), ["1e-05", "0.0001", "0.001", "0.01", "0.1", "1"])   # decades only
        self.assertEqual(labels(self.draw([{"rmses": [0.1, 0.1]}], rmse=True)), ["0.1", "0.2", "0.5", "1"])

    def test_rmse_legend_goes_where_no_curve_runs(self):
        legend = lambda svg: re.findall(r'<text x="([0-9.]+)" y="([0-9.]+)"( text-anchor="end")? fill="#', svg)
        # RMSEs at the left of their decades: the curves are up by the right half → bottom right
        early = [{"rmses": [1.1e-5, 1.2e-5, 1.3e-5, 0.9]}, {"rmses": [1.5e-5, 2e-5]}]
        rows = legend(self.draw(early, rmse=True))
        self.assertEqual(len(rows), 2)
        self.assertTrue(all(end for _, _, end in rows))
        self.assertGreater(min(float(y) for _, y, _ in rows), 250)    # near the x axis (y = 295)
        # RMSEs at the top of their decade: the curves cross the bottom right → top left
        late = [{"rmses": [0.8, 0.9, 0.95]}, {"rmses": [0.7, 0.85, 0.99]}]
        rows = legend(self.draw(late, rmse=True))
        self.assertTrue(not any(end for _, _, end in rows))
        self.assertLess(max(float(y) for _, y, _ in rows), 90)        # near the top (y = 30)

    def test_a_legend_that_fits_in_neither_corner_is_said(self):
        # one curve up by the legend's right edge at the top left, one still at 0 under it at the bottom right
        crossing = [{"rmses": [0.03, 0.03, 0.03]}, {"rmses": [0.3, 0.3, 0.3]}]
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            self.draw(crossing, rmse=True)
        self.assertIn("the legend crosses a curve in either corner", err.getvalue())
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            self.draw([{"rmses": [0.8, 0.9, 0.95]}], rmse=True)   # fits at the top left: nothing said
        self.assertEqual(err.getvalue(), "")

    def test_a_run_without_the_values_is_one_clear_error(self):
        with self.assertRaises(SystemExit) as e:
            self.draw([{"distances": [None, None]}])
        self.assertIn("holds no per-trial distance", str(e.exception))
        with self.assertRaises(SystemExit) as e:
            self.draw([{"distances": [0.1]}], rmse=True)
        self.assertIn("holds no per-trial RMSE", str(e.exception))


if __name__ == "__main__":
    unittest.main()
