"""Tests of scripts/surf_eta.py (standard library only): the CPU hours a surf run has left on the
final network, from `lpom inspect --json`'s report and the command's options, worked by hand."""
import json
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import surf_eta  # noqa: E402

# The start of a real fingerprint (lpom inspect --json on a sweep checkpoint, 2026-12-06).
FINGERPRINT = ("lpom 0.1.0; history with final network a9acacddffee5386 (101 snapshots); trials 300 "
               "range 0:300 seed 1 target in-range prior uniform; measurements none matrix default")


def report(chunks, cpu, **extra):
    d = {"fingerprint": FINGERPRINT, "cpu_seconds": cpu,
         "chunks": [{"rows": list(r), "step": s, "not_stopped": n} for r, s, n in chunks]}
    d.update(extra)
    return d


class HoursLeftTests(unittest.TestCase):
    def test_regular_adam_runs_its_rows_not_stopped_to_the_budget(self):
        # 300 rows at step 3,000 in 900 s: 1 ms per row-step with the 60 stopped rows counted as
        # run on, 1.25 ms counted as never run; 240 rows have 7,000 steps left
        low, high = surf_eta.hours_left(report([((0, 300), 3000, 240)], 900), "--method adam --steps 10000")
        self.assertAlmostEqual(low, 240 * 7000 * 1e-3 / 3600)
        self.assertAlmostEqual(high, 240 * 7000 * 1.25e-3 / 3600)

    def test_regular_adam_without_steps_has_the_paper_protocols_budget(self):
        low, high = surf_eta.hours_left(report([((0, 300), 3000, 300)], 900), "--method adam --lr 0.01")
        self.assertAlmostEqual(low, 300 * 57000 * 1e-3 / 3600)
        self.assertAlmostEqual(high, low)

    def test_restarts_count_every_trials_rows_and_the_chunks_not_begun(self):
        # 300 trials × 10 restarts = 3,000 rows; the first 1,024 have run their 2,000 steps
        # (1,000 not stopped), the other 1,976 rows have not begun: 2,000 steps each
        low, high = surf_eta.hours_left(report([((0, 1024), 2000, 1000)], 1024 * 2000 * 2e-3),
                                        "--method restarts --restarts 10 --restart-steps 2000")
        self.assertAlmostEqual(low, 1976 * 2000 * 2e-3 / 3600)
        self.assertAlmostEqual(high, 1976 * 2000 * 2e-3 * 1.024 / 3600)
        # all of the first chunk's rows stopped: the rate counts them as run on
        low, high = surf_eta.hours_left(report([((0, 1024), 2000, 0)], 1024 * 2000 * 2e-3),
                                        "--method restarts --restarts 10 --restart-steps 2000")
        self.assertAlmostEqual(high, low)
        self.assertAlmostEqual(low, 1976 * 2000 * 2e-3 / 3600)

    def test_chunks_of_several_workers_are_summed(self):
        chunks = [((0, 150), 1000, 150), ((150, 300), 1000, 100)]
        low, high = surf_eta.hours_left(report(chunks, 300), "--method adam --steps 2000")
        self.assertAlmostEqual(low, 250 * 1000 * 1e-3 / 3600)
        self.assertAlmostEqual(high, 250 * 1000 * 1.2e-3 / 3600)

    def test_nothing_for_surfing_a_run_without_chunks_or_options_it_needs(self):
        chunks = [((0, 300), 1000, 300)]
        self.assertIsNone(surf_eta.hours_left(report(chunks, 900, phases=100, phase=99), "--method surfing"))
        self.assertIsNone(surf_eta.hours_left(report(chunks, 900), "--method surfing"))
        self.assertIsNone(surf_eta.hours_left(report([], 900), "--method adam"))
        self.assertIsNone(surf_eta.hours_left(report(chunks, 900), "--method restarts --restarts 10"))
        self.assertIsNone(surf_eta.hours_left(report(chunks, 0), "--method adam"))
        self.assertIsNone(surf_eta.hours_left(report(chunks, 900), ""))

    def test_the_script_prints_one_phrase_or_nothing(self):
        def run(stdin, args):
            return subprocess.run([sys.executable, os.path.join(HERE, "..", "surf_eta.py"), args],
                                  input=stdin, capture_output=True, text=True, check=True).stdout
        r = json.dumps(report([((0, 300), 3000, 300)], 900))
        self.assertEqual(run(r, "--method adam --steps 75000"), " (≈ 6.0 CPU h more at this rate if no more trials stop)")
        r = json.dumps(report([((0, 300), 3000, 150)], 900))
        self.assertEqual(run(r, "--method adam --steps 75000"), " (≈ 3.0–6.0 CPU h more at this rate if no more trials stop)")
        self.assertEqual(run(r, "--method surfing"), "")
        self.assertEqual(run("not json", "--method adam"), "")


if __name__ == "__main__":
    unittest.main()
