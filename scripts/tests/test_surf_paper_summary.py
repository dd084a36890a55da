"""Tests of scripts/surf_paper_summary.py (standard library only): McNemar's exact test against
golden values from an independent implementation, the across-seeds table on a faked results
directory, and --update's replacement of the notebook's tables.

Golden p-values: SciPy 1.x, `scipy.stats.binomtest(min(b, c), b + c, 0.5).pvalue` (two-sided),
computed once (SciPy in a virtual environment) on 2026-12-05 and written here."""
import contextlib
import io
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import surf_paper_summary as sps  # noqa: E402

GOLDEN = {  # (surfing only, Adam only): scipy's two-sided binomial p
    (66, 2): 1.5903890617646743e-17,
    (35, 1): 1.076841726899147e-09,
    (5, 63): 7.651062942926057e-14,
    (28, 13): 0.027533155829587486,
    (97, 27): 1.8545612885631615e-10,
    (10, 0): 0.001953125,
    (0, 1): 1.0,
    (3, 3): 1.0,
}


def strings(b, c, both=7, neither=5):
    """Paired success strings with b trials only the first solves, c only the second."""
    return "1" * b + "0" * c + "1" * both + "0" * neither, "0" * b + "1" * c + "1" * both + "0" * neither


def write_run(directory, model, k, g, tag, successes, **extra):
    d = {"successes": successes, "success_rate": successes.count("1") / len(successes),
         "mean_successful_iterations": 100.0, "cpu_seconds": 60.0, "prefinal_budget": 500}
    d.update(extra)
    with open(os.path.join(directory, "%s-k%d-g%s-s1-%s.json" % (model, k, g, tag)), "w") as f:
        json.dump(d, f)


def write_cell(directory, model, k, g, surfing, adam):
    write_run(directory, model, k, g, "surfing", surfing)
    write_run(directory, model, k, g, "adam", adam)


def run_main(directory):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        sps.main(directory)
    return buf.getvalue()


class McNemarTests(unittest.TestCase):
    def test_golden_values(self):
        for (b, c), want in GOLDEN.items():
            p, x, y = sps.mcnemar(*strings(b, c))
            self.assertEqual((x, y), (b, c))
            self.assertAlmostEqual(p / want, 1.0, places=9, msg=(b, c))

    def test_unpaired_or_missing_gives_none(self):
        self.assertEqual(sps.mcnemar("101", "10"), (None, 0, 0))
        self.assertEqual(sps.mcnemar(None, "10"), (None, 0, 0))

    def test_pooled_sums_discordant_trials_over_seeds(self):
        # seeds with (40, 1) and (26, 1) discordant trials pool to (66, 2)
        p, b, c = sps.pooled_mcnemar([strings(40, 1), strings(26, 1, both=3)])
        self.assertEqual((b, c), (66, 2))
        self.assertAlmostEqual(p / GOLDEN[(66, 2)], 1.0, places=9)
        # opposite effects in two seeds cancel
        p, b, c = sps.pooled_mcnemar([strings(20, 0), strings(0, 20)])
        self.assertEqual((p, b, c), (1.0, 20, 20))


class AcrossSeedsTests(unittest.TestCase):
    def test_one_row_per_cell_with_two_seeds_and_none_with_one(self):
        with tempfile.TemporaryDirectory() as d:
            s1, a1 = strings(35, 1, both=200, neither=64)   # 300 trials: surfing 235, Adam 201
            s2, a2 = strings(10, 0, both=150, neither=140)  # 300 trials: surfing 160, Adam 150
            write_cell(d, "wgan", 5, "1", s1, a1)
            write_cell(d, "wgan", 5, "2", s2, a2)
            write_run(d, "dcgan", 5, "1", "surfing", s1)  # one seed: no across-seeds row
            write_run(d, "dcgan", 5, "1", "adam", a1)
            write_run(d, "dcgan", 5, "2", "adam", a2)    # seed 2's surfing not run yet
            out = run_main(d)
        self.assertIn("### Across generator seeds", out)
        rows = [line for line in out.split("\n") if line.startswith("| wgan | 5 | 1, 2 |")]
        self.assertEqual(len(rows), 1, out)
        cells = [c.strip() for c in rows[0].strip("|").split("|")]
        self.assertEqual(cells[3], "%.1f / %.1f" % (100 * 201 / 300, 100 * 150 / 300))
        self.assertEqual(cells[4], "%.1f / %.1f" % (100 * 235 / 300, 100 * 160 / 300))
        self.assertEqual(cells[6], "%.1f" % (100 * 351 / 600))   # pooled Adam
        self.assertEqual(cells[7], "%.1f" % (100 * 395 / 600))   # pooled surfing
        self.assertEqual(cells[8], "48.3 → 86.7")               # the paper's WGAN k = 5
        p = sps.pooled_mcnemar([(s1, a1), (s2, a2)])[0]
        self.assertEqual(cells[9], "%.2g (45/1)" % p)
        self.assertFalse(any(line.startswith("| dcgan | 5 | 1, 2") for line in out.split("\n")))
        # both seeds' rows are in Table 1 too
        self.assertIn("| wgan | 5 | 2 | 50.0 | 53.3 |", out)

    def test_a_third_seed_joins_the_row_and_the_pooled_test(self):
        with tempfile.TemporaryDirectory() as d:
            s1, a1 = strings(35, 1, both=200, neither=64)   # surfing 235, Adam 201
            s2, a2 = strings(10, 0, both=150, neither=140)  # surfing 160, Adam 150
            s3, a3 = strings(4, 6, both=100, neither=190)   # surfing 104, Adam 106
            for g, (s, a) in (("1", (s1, a1)), ("2", (s2, a2)), ("3", (s3, a3))):
                write_cell(d, "dcgan", 5, g, s, a)
            out = run_main(d)
        rows = [line for line in out.split("\n") if line.startswith("| dcgan | 5 | 1, 2, 3 |")]
        self.assertEqual(len(rows), 1, out)
        cells = [c.strip() for c in rows[0].strip("|").split("|")]
        self.assertEqual(cells[3], "%.1f / %.1f / %.1f" % (100 * 201 / 300, 50.0, 100 * 106 / 300))
        self.assertEqual(cells[4], "%.1f / %.1f / %.1f" % (100 * 235 / 300, 100 * 160 / 300, 100 * 104 / 300))
        self.assertEqual(cells[6], "%.1f" % (100 * 457 / 900))   # pooled Adam
        self.assertEqual(cells[7], "%.1f" % (100 * 499 / 900))   # pooled surfing
        # discordant trials summed over the three seeds: (35 + 10 + 4, 1 + 0 + 6) = (49, 7)
        self.assertEqual(cells[9], "%.2g (49/7)" % sps.binomial_p(49, 7))
        self.assertIn("| dcgan | 5 | 3 |", out)                # seed 3 in Table 1 too

    def test_no_table_with_one_seed_each(self):
        with tempfile.TemporaryDirectory() as d:
            s1, a1 = strings(3, 3)
            write_cell(d, "wgan", 5, "1", s1, a1)
            self.assertNotIn("Across generator seeds", run_main(d))


class GeneratorPassesTests(unittest.TestCase):
    def test_a_two_pass_generator_is_compared_with_its_seed_and_kept_out_of_the_seed_tables(self):
        with tempfile.TemporaryDirectory() as d:
            s1, a1 = strings(35, 1, both=200, neither=64)
            write_cell(d, "wgan", 5, "1", s1, a1)
            # two passes: surfing solves 10 more trials than seed 1's surfing and loses none
            s2 = s1[:236] + "1" * 10 + s1[246:]
            self.assertEqual((len(s2), s1[236:246]), (300, "0" * 10))
            write_cell(d, "wgan", 5, "1f2", s2, a1)
            out = run_main(d)
        self.assertIn("### The generator's batch-norm running statistics", out)
        after = out.split("### The generator's batch-norm running statistics")[1]
        passes = [line for line in after.split("\n") if line.startswith("| wgan | 5 | 1 | ")]
        self.assertEqual(len(passes), 1, out)
        cells = [c.strip() for c in passes[0].strip("|").split("|")]
        self.assertEqual(cells[3], "%.1f / %.1f" % (100 * 201 / 300, 100 * 201 / 300))
        self.assertEqual(cells[4], "1 (0/0)")
        self.assertEqual(cells[5], "%.1f / %.1f" % (100 * 235 / 300, 100 * 245 / 300))
        self.assertEqual(cells[6], "%.2g (10/0)" % GOLDEN[(10, 0)])
        self.assertEqual(cells[8], "48.3 → 86.7")
        self.assertNotIn("Across generator seeds", out)       # not a second generator seed
        self.assertFalse(any(line.startswith("| wgan | 5 | 1f2") for line in out.split("\n")))


class CompressedSensingTests(unittest.TestCase):
    def test_rows_in_order_of_m_with_restarts_budgets_and_far_failures(self):
        with tempfile.TemporaryDirectory() as d:
            s, a = strings(10, 0)                  # 22 paired trials: surfing only 10, both 7, neither 5
            n = len(s)
            dist = lambda ok, far: [0.005 if c == "1" else far for c in ok]
            for m, far in ((20, 2.0), (100, 0.05)):
                write_run(d, "dcgan", 20, "1", "cs-m%d-adam" % m, a, mean_iterations=15651.6, distances=dist(a, far))
                write_run(d, "dcgan", 20, "1", "cs-m%d-surfing" % m, s, mean_iterations=306522.3, distances=dist(s, far))
            r = "0" * n                            # restarts solve nothing at m = 100
            write_run(d, "dcgan", 20, "1", "cs-m100-restarts", r, mean_iterations=306530, distances=[3.0] * n,
                      command="lpom surf h --method restarts --restarts 10 --restart-steps 30653, in pieces")
            out = run_main(d)
        rows = [line for line in out.split("\n") if line.startswith("| dcgan g1 | 20 |")]
        self.assertEqual([row.split("|")[3].strip() for row in rows], ["20", "100"])   # not "100" < "20"
        c20 = [c.strip() for c in rows[0].strip("|").split("|")]
        self.assertEqual(c20[3:10], ["31.8", "77.3", "%.2g (10/0)" % GOLDEN[(10, 0)], "—", "—",
                                     "15,652 / 306,522 / —", "15 / 5 / —"])
        c100 = [c.strip() for c in rows[1].strip("|").split("|")]
        self.assertEqual(c100[6:10], ["0.0 (30653)", "%.2g (17/0)" % (2 * 0.5 ** 17),
                                      "15,652 / 306,522 / 306,530", "0 / 0 / 22"])


class RateDistortionTests(unittest.TestCase):
    def test_a_row_per_m_with_rmse_and_the_paired_sign_test(self):
        with tempfile.TemporaryDirectory() as d:
            n = 22                                 # surfing lower on 10 images, Adam on 0, 12 ties
            adam = [0.2] * 10 + [0.1] * 12
            surf = [0.05] * 10 + [0.1] * 12
            for m in (400, 100):
                write_run(d, "dcgan", 20, "1", "cs-real-m%d-adam" % m, "0" * n, success_rate=None, rmses=adam,
                          mean_rmse=sum(adam) / n, median_rmse=0.1, mean_iterations=20000, trials=n)
                write_run(d, "dcgan", 20, "1", "cs-real-m%d-surfing" % m, "0" * n, success_rate=None, rmses=surf,
                          mean_rmse=sum(surf) / n, median_rmse=0.1, mean_iterations=312000, trials=n, cpu_seconds=600.0)
            out = run_main(d)
        self.assertIn("held-out test images", out)
        rows = [line for line in out.split("\n") if line.startswith("| dcgan g1 | 20 |")]
        self.assertEqual([row.split("|")[3].strip() for row in rows], ["100", "400"])
        c = [x.strip() for x in rows[0].strip("|").split("|")]
        self.assertEqual(c[3:11], ["22", "0.1455 / 0.1000", "0.0773 / 0.1000", "—", "10 / 0 (%.2g)" % GOLDEN[(10, 0)],
                                   "—", "20,000 / 312,000 / —", "1 / 10 / —"])
        # in-range tables are not fed by these runs
        self.assertNotIn("in-range targets)", out)

    def test_the_restarts_column_pairs_them_with_surfing(self):
        with tempfile.TemporaryDirectory() as d:
            n = 20                                 # restarts lower on 4 images, surfing on 15, 1 tie
            surf = [0.1] * 20
            restarts = [0.05] * 4 + [0.3] * 15 + [0.1]
            write_run(d, "dcgan", 20, "1", "cs-real-m100-surfing", "0" * n, success_rate=None, rmses=surf,
                      mean_rmse=0.1, median_rmse=0.1, mean_iterations=312000, trials=n, cpu_seconds=600.0)
            write_run(d, "dcgan", 20, "1", "cs-real-m100-restarts", "0" * n, success_rate=None, rmses=restarts,
                      mean_rmse=sum(restarts) / n, median_rmse=0.3, mean_iterations=312000, trials=n, cpu_seconds=300.0)
            out = run_main(d)
        row = next(line for line in out.split("\n") if line.startswith("| dcgan g1 | 20 |"))
        c = [x.strip() for x in row.strip("|").split("|")]
        self.assertEqual(c[3:11], ["20", "—", "0.1000 / 0.1000", "%.4f / 0.3000" % (sum(restarts) / n), "—",
                                   "15 / 4 (%.2g)" % sps.binomial_p(15, 4), "— / 312,000 / 312,000", "— / 10 / 5"])

    def test_the_sign_test_is_mcnemars_binomial_on_who_is_lower(self):
        for (b, c), p in GOLDEN.items():
            a = [0.0] * b + [1.0] * c + [0.5] * 3
            s = [1.0] * b + [0.0] * c + [0.5] * 3
            self.assertAlmostEqual(sps.sign_test(a, s)[0] / p, 1.0, places=9)
            self.assertEqual(sps.sign_test(a, s)[1:], (b, c))


class UpdateTests(unittest.TestCase):
    def test_update_replaces_tables_and_keeps_prose(self):
        with tempfile.TemporaryDirectory() as d:
            s1, a1 = strings(35, 1, both=200, neither=64)
            write_cell(d, "wgan", 5, "1", s1, a1)
            fresh = run_main(d).split("\n")
            header = next(line for line in fresh if line.startswith("| model | k | gen seed |"))
            nb = os.path.join(d, "nb.md")
            with open(nb, "w") as f:
                f.write("# prose before\n\n%s\n|---|\n| stale | row |\n\nprose after\n"
                        "0 of the 12 cells finished (generator seed 1); inversion so far: 0.0 CPU hours.\n" % header)
            with contextlib.redirect_stdout(io.StringIO()):
                sps.update(d, nb)
            with open(nb) as f:
                text = f.read()
        self.assertNotIn("| stale | row |", text)
        self.assertIn("| wgan | 5 | 1 | 67.0 | 78.3 |", text)
        self.assertTrue(text.startswith("# prose before\n"))
        self.assertIn("\nprose after\n", text)
        self.assertIn("1 of the 12 cells finished (generator seed 1)", text)


if __name__ == "__main__":
    unittest.main()
