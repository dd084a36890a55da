"""The Table-1 sweep (scripts/surf_paper_table.sh) run end to end on a stub lpom
(scripts/tests/stub_lpom.py): what it runs, in which order, with which budgets, what it skips when
started again, what it does with a failure, a checkpoint and a machine that lost its generators.
Each test runs the whole walk in a temporary directory in a few seconds.

    python3 -m unittest discover -s scripts/tests
    SWEEP_SCRIPT=/tmp/mutated.sh python3 -m unittest discover -s scripts/tests   # a mutant

A real run of the sweep is hours of compute; these tests check the bash that decides what runs.
"""
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from contextlib import contextmanager

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPTS = os.path.join(REPO, "scripts")
SWEEP = os.environ.get("SWEEP_SCRIPT", os.path.join(SCRIPTS, "surf_paper_table.sh"))
STUB = os.path.join(SCRIPTS, "tests", "stub_lpom.py")
sys.path.insert(0, os.path.dirname(STUB))
import stub_lpom  # noqa: E402  (its option parser reads the logged calls)

GANS = ("dcgan", "wgan-gp", "wgan")
MODELS = GANS + ("vae",)
# Generators first trained on two threads (train_threads_of in the sweep); the rest on TRAIN_THREADS.
TWO_THREADS = {"wgan-gp-k5-g1", "wgan-k5-g1", "wgan-k5-g1f2"}


def expected_results():
    """Every small JSON a finished sweep leaves in its results directory."""
    names = set()
    for k in (5, 10, 20):
        for m in MODELS:
            names |= {f"{m}-k{k}-g1-s1-{t}.json" for t in ("adam-long", "adam", "surfing")}
    for m in GANS:
        for g in (2, 3):                           # more generator seeds at k = 5
            names |= {f"{m}-k5-g{g}-s1-{t}.json" for t in ("adam-long", "adam", "surfing")}
        for k in (5, 10, 20):
            names |= {f"{m}-k{k}-g1-s1-{t}.json" for t in ("restarts", "adam-total")}
        names |= {f"{m}-k5-g1-s1-{t}.json" for t in ("linear", "snapshots10")}
    for m in GANS:
        for k in (5, 10, 20):
            names.add(f"{m}-k{k}-g1-s1-restarts-tuned.json")
            names |= {f"{m}-k{k}-g1-s1-val1001-restarts{r}.json" for r in (1, 2, 5, 10)}
    for mm in (20, 50, 100, 200, 400):
        names |= {f"dcgan-k20-g1-s1-cs-m{mm}-{t}.json" for t in ("adam", "surfing")}
    names.add("dcgan-k20-g1-s1-cs-m100-restarts.json")  # Bora et al.'s peer with surfing's budget
    names |= {f"dcgan-k20-g1-s1-cs-real-m100-{t}.json" for t in ("adam", "surfing", "restarts")}   # the paper's Fig. 4, its fair peer
    names.add("dcgan-k20-g1-s1-adam-lr0.01.json")      # the step-size question at k = 20
    names |= {f"wgan-k5-g1f2-s1-{t}.json" for t in ("adam-long", "adam", "surfing")}   # two generator passes
    return names


def skip_without_h5py(test):
    """The stub writes no --save file without h5py, so the sweep has no picture to draw."""
    try:
        import h5py  # noqa: F401
    except ImportError:
        test.skipTest("needs h5py (the stub writes no --save file without it)")


def opt(argv, name):
    """The value of --name in argv (None when absent), read as the stub reads it."""
    return stub_lpom.opts(argv).get(name)


class Sweep:
    """A sweep in a temporary directory: ROOT (generators, full runs), RES (small JSONs), the stub's log."""

    def __init__(self, base=None):
        self.dir = tempfile.mkdtemp(prefix="lpom-sweep-test-")
        self.root, self.res = os.path.join(self.dir, "runs"), os.path.join(self.dir, "res")
        if base is not None:                       # continue from another sweep's state
            shutil.copytree(base.root, self.root, symlinks=True)
            shutil.copytree(base.res, self.res)
        self.log = os.path.join(self.dir, "stub.jsonl")
        self.lpom = os.path.join(self.dir, "lpom")
        with open(self.lpom, "w") as f:
            f.write(f'#!/bin/sh\nexec "{sys.executable}" "{STUB}" "$@"\n')
        os.chmod(self.lpom, 0o755)

    def env(self, **env):
        """The sweep's environment here (stream 1, one worker), with ENV on top."""
        e = dict(os.environ, REPO=REPO, ROOT=self.root, RES=self.res, LPOM=self.lpom, PY=sys.executable,
                 MERGE=os.path.join(SCRIPTS, "surf_merge_pieces.py"), CAP=os.path.join(SCRIPTS, "surf_cap.py"),
                 CHECK=os.path.join(SCRIPTS, "surf_retrain_check.py"), RECON=os.path.join(SCRIPTS, "surf_recon_png.py"),
                 STUB_LOG=self.log, STREAM="1",
                 SURF_THREADS="1")
        for k in ("STUB_FAIL", "STUB_SALT", "TRAIN_THREADS", "PIECE", "SURF_PIECE"):
            e.pop(k, None)
        e.update(env)
        return e

    def run(self, **env):
        p = subprocess.run(["bash", SWEEP], env=self.env(**env), capture_output=True, text=True, timeout=600)
        self.output = p.stdout + p.stderr
        return p.returncode

    def calls(self):
        if not os.path.exists(self.log):
            return []
        return [json.loads(x) for x in open(self.log)]

    def small(self, name):
        return json.load(open(os.path.join(self.res, name)))

    def results(self):
        return {f for f in os.listdir(self.res) if f.endswith(".json")}

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def sweep_from(base=None):
    """A Sweep (a copy of BASE's state, or empty), removed afterwards."""
    s = Sweep(base)
    try:
        yield s
    finally:
        s.cleanup()


@contextmanager
def new_machine(base, lost_results, **env):
    """A copy of BASE's sweep on a machine that lost every history and full run, and the given
    small JSONs; run once (with ENV). Yields the Sweep."""
    with sweep_from(base) as s:
        shutil.rmtree(os.path.join(s.root, "gen"))
        shutil.rmtree(os.path.join(s.root, "surf"))
        for f in lost_results:
            os.remove(os.path.join(s.res, f))
        s.rc = s.run(**env)
        yield s


def trained(calls):
    """(index, history file name) of each training call, in order."""
    return [(i, os.path.basename(opt(c["argv"], "history"))) for i, c in enumerate(calls) if c["argv"][0] == "train"]


def surf_calls(calls, history_name, **want):
    """The surf calls on that generator whose options have the given values."""
    out = []
    for c in calls:
        a = c["argv"]
        if a[0] != "surf" or os.path.basename(a[1]) != history_name:
            continue
        if all(opt(a, k.replace("_", "-")) == v for k, v in want.items()):
            out.append(c)
    return out


class WholeSweepTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = Sweep()
        cls.rc = cls.s.run()
        cls.calls = cls.s.calls()

    @classmethod
    def tearDownClass(cls):
        cls.s.cleanup()

    def test_it_finishes_every_unit_and_nothing_else(self):
        self.assertEqual(self.rc, 0, self.s.output[-2000:])
        self.assertRegex(self.s.output.strip().splitlines()[-1], r"nothing left to do$")
        self.assertEqual(self.s.results(), expected_results())

    def test_each_generator_is_trained_once_on_its_thread_count_before_any_run_on_it(self):
        trains = [(i, c["argv"]) for i, c in enumerate(self.calls) if c["argv"][0] == "train"]
        names = [os.path.basename(opt(a, "history")).replace(".h5.part", "") for _, a in trains]
        self.assertEqual(len(names), len(set(names)), names)
        self.assertEqual(len(names), 12 + 3 + 3 + 1)   # Table 1, second and third seeds at k = 5, WGAN k = 5 seed 1 with two passes
        for (i, a), name in zip(trains, names):
            self.assertEqual(opt(a, "threads"), "2" if name in TWO_THREADS else "1", name)
            first_surf = min(j for j, c in enumerate(self.calls)
                             if c["argv"][0] == "surf" and os.path.basename(c["argv"][1]) == name + ".h5")
            self.assertLess(i, first_surf, name)

    def test_the_third_generator_seeds_come_after_every_other_unit(self):
        # "3 if affordable": the third seed's generators are trained, and their cells run, only
        # when everything else (the late units of compressed sensing too) is done
        g3 = [i for i, c in enumerate(self.calls) if any("-k5-g3" in x for x in c["argv"])]
        rest = [i for i, c in enumerate(self.calls) if not any("-k5-g3" in x for x in c["argv"])]
        self.assertEqual(len(g3), 3 * 3)   # per GAN: training, regular Adam, surfing
        self.assertGreater(min(g3), max(rest))

    def test_surfing_gets_regular_adams_mean_iterations_as_its_prefinal_budget(self):
        for k in (5, 10, 20):
            for m in MODELS:
                c = f"{m}-k{k}-g1-s1"
                adam = self.s.small(c + "-adam.json")
                self.assertEqual(adam["final_steps"], 60000)
                self.assertEqual(adam["derived_from"]["cap"], 60000)
                long_ = surf_calls(self.calls, f"{m}-k{k}-g1.h5", method="adam", steps="60000", lr=None)
                surf = surf_calls(self.calls, f"{m}-k{k}-g1.h5", method="surfing", path=None, measurements=None,
                                  snapshots=None)
                self.assertEqual(len(long_), 1, c)
                self.assertEqual(len(surf), 1, c)
                self.assertIn("--keep-checkpoint", long_[0]["argv"])
                self.assertEqual(opt(surf[0]["argv"], "prefinal-budget"),
                                 format(adam["mean_successful_iterations"], ".0f"), c)
                self.assertLess(self.calls.index(long_[0]), self.calls.index(surf[0]), c)

    def test_fair_budgets_restarts_share_surfings_mean_and_adam_continues_adam_long(self):
        for k in (5, 10, 20):
            for m in GANS:
                c, h = f"{m}-k{k}-g1-s1", f"{m}-k{k}-g1.h5"
                surfing = self.s.small(c + "-surfing.json")
                b = surfing["prefinal_budget"]     # the steps surfing spent before the final network
                r = surf_calls(self.calls, h, method="restarts", restarts="10", seed="1", measurements=None)
                self.assertEqual(len(r), 1, c)
                self.assertEqual(int(opt(r[0]["argv"], "restart-steps")), math.ceil(surfing["mean_iterations"] / 10), c)
                total = surf_calls(self.calls, h, method="adam", steps=str(b + 60000))
                self.assertEqual(len(total), 1, c)
                self.assertEqual(total[0]["resumed_from"], 60000, f"{c}: adam-total did not continue adam-long's checkpoint")
                long_, tot = self.s.small(c + "-adam-long.json"), self.s.small(c + "-adam-total.json")
                for i, s in enumerate(long_["successes"]):     # the shorter run is the longer's prefix
                    if s == "1":
                        self.assertEqual(tot["successes"][i], "1")
                        self.assertEqual(tot["iterations"][i], long_["iterations"][i])

    def test_the_number_of_restarts_is_chosen_on_validation_trials_of_another_seed(self):
        chosen = set()
        for m_, k in ((m_, k) for m_ in GANS for k in (5, 10, 20)):
            c, h = f"{m_}-k{k}-g1-s1", f"{m_}-k{k}-g1.h5"
            m = self.s.small(c + "-surfing.json")["mean_iterations"]
            rows = []
            for r in (1, 2, 5, 10):
                v = surf_calls(self.calls, h, method="restarts", restarts=str(r), seed="1001", trials="100")
                self.assertEqual(len(v), 1, (c, r))
                self.assertEqual(int(opt(v[0]["argv"], "restart-steps")), math.ceil(m / r))
                d = self.s.small(f"{c}-val1001-restarts{r}.json")
                rows.append((d["success_rate"], -d["mean_iterations"], r))
            best = max(rows)[2]
            chosen.add(best)
            tuned = self.s.small(c + "-restarts-tuned.json")
            if best == 10:
                self.assertEqual(tuned["chosen_on_validation"]["restarts"], 10)
            elif best == 1:
                # read off regular Adam with surfing's whole budget, not run again
                self.assertEqual(surf_calls(self.calls, h, method="restarts", restarts="1", seed="1"), [], c)
                self.assertEqual(tuned["chosen_on_validation"]["restarts"], 1)
                cap, tot = math.ceil(m), self.s.small(c + "-adam-total.json")
                self.assertEqual(tuned["final_steps"], cap)
                want = "".join("1" if s == "1" and t <= cap else "0" for s, t in zip(tot["successes"], tot["iterations"]))
                self.assertEqual(tuned["successes"], want, c)
                self.assertIn("1", want)
            else:
                t = surf_calls(self.calls, h, method="restarts", restarts=str(best), seed="1")
                self.assertEqual(len(t), 1, (c, best))
                self.assertEqual(opt(t[0]["argv"], "trials"), "300")
        # the stub should make all three branches happen: R = 10 copied, R = 1 read off, others run
        self.assertLessEqual({1, 10}, chosen)
        self.assertTrue(chosen - {1, 10}, chosen)

    def test_the_ablation_runs_surfings_own_budget_along_the_line_and_along_ten_snapshots(self):
        for m in GANS:
            c, h = f"{m}-k5-g1-s1", f"{m}-k5-g1.h5"
            b = re.search(r"--prefinal-budget (\d+)", self.s.small(c + "-surfing.json")["command"]).group(1)
            line = surf_calls(self.calls, h, method="surfing", path="linear")
            ten = surf_calls(self.calls, h, method="surfing", snapshots="10")
            self.assertEqual(len(line), 1, c)
            self.assertEqual(len(ten), 1, c)
            self.assertEqual(opt(line[0]["argv"], "prefinal-budget"), b)
            self.assertEqual(opt(line[0]["argv"], "first-snapshot"), "0")
            self.assertEqual(opt(ten[0]["argv"], "prefinal-budget"), b)

    def test_the_step_size_question_runs_regular_adam_at_0_01_on_the_k20_cells_trials(self):
        lr = surf_calls(self.calls, "dcgan-k20-g1.h5", method="adam", lr="0.01")
        self.assertEqual(len(lr), 1)
        self.assertEqual((opt(lr[0]["argv"], "trials"), opt(lr[0]["argv"], "seed"), opt(lr[0]["argv"], "steps")),
                         ("300", "1", "60000"))

    def test_the_released_trainers_generator_passes_train_seed_1_again_with_two(self):
        trains = [c["argv"] for c in self.calls if c["argv"][0] == "train" and "resume" not in stub_lpom.opts(c["argv"])]
        f2 = [a for a in trains if os.path.basename(opt(a, "history")).startswith("wgan-k5-g1f2")]
        self.assertEqual(len(f2), 1)
        self.assertEqual((opt(f2[0], "seed"), opt(f2[0], "generator-forwards"), opt(f2[0], "threads")), ("1", "2", "2"))
        g1 = [a for a in trains if os.path.basename(opt(a, "history")) == "wgan-k5-g1.h5.part"][0]
        i = f2[0].index("--generator-forwards")
        self.assertEqual(f2[0][:i] + f2[0][i + 2:],
                         [x.replace("wgan-k5-g1.", "wgan-k5-g1f2.") for x in g1], "otherwise seed 1's command")
        self.assertTrue(all(opt(a, "generator-forwards") is None for a in trains if a is not f2[0]))
        surfing = surf_calls(self.calls, "wgan-k5-g1f2.h5", method="surfing")
        self.assertEqual([opt(c["argv"], "seed") for c in surfing], ["1"])   # the same trials as seed 1's

    def test_compressed_sensing_runs_100_trials_per_m(self):
        for mm in (20, 50, 100, 200, 400):
            for method in ("adam", "surfing"):
                cs = surf_calls(self.calls, "dcgan-k20-g1.h5", method=method, measurements=str(mm), target=None)
                self.assertEqual(len(cs), 1, (mm, method))
                self.assertEqual(opt(cs[0]["argv"], "trials"), "100")

    def test_the_papers_rate_distortion_runs_both_methods_on_100_test_images_at_m_100(self):
        real = [i for i, c in enumerate(self.calls) if c["argv"][0] == "surf" and opt(c["argv"], "target") == "test-images"]
        self.assertEqual(len(real), 3)
        argv = [self.calls[i]["argv"] for i in real]
        self.assertEqual([opt(a, "method") for a in argv], ["adam", "surfing", "restarts"])
        for a in argv:
            self.assertEqual(os.path.basename(a[1]), "dcgan-k20-g1.h5")
            self.assertEqual((opt(a, "measurements"), opt(a, "trials"), opt(a, "seed"), opt(a, "protocol")),
                             ("100", "100", "1", "paper"))
            self.assertIsNotNone(opt(a, "data-dir"))
            # compress.py's starts and stops, explicit (the sweep's binary may predate the preset's)
            self.assertEqual((opt(a, "prior"), opt(a, "clip"), opt(a, "plateau-window")), ("normal", "on", "0"))
        # after every in-range value of m, before the third generator seed
        in_range = [i for i, c in enumerate(self.calls) if c["argv"][0] == "surf" and opt(c["argv"], "measurements")
                    and opt(c["argv"], "target") is None]
        g3 = [i for i, c in enumerate(self.calls) if any("-k5-g3" in x for x in c["argv"])]
        self.assertGreater(min(real), max(in_range))
        self.assertLess(max(real), min(g3))
        # the small JSON keeps each trial's RMSE (no x*: no distances)
        for t in ("adam", "surfing"):
            small = self.s.small(f"dcgan-k20-g1-s1-cs-real-m100-{t}.json")
            self.assertEqual(len(small["rmses"]), 100)
            self.assertTrue(all(r is not None and r > 0 for r in small["rmses"]))
            self.assertEqual(small["distances"], [None] * 100)

    def test_the_rate_distortion_runs_save_what_they_found_and_draw_it_at_once(self):
        real = [c["argv"] for c in self.calls if c["argv"][0] == "surf" and opt(c["argv"], "target") == "test-images"]
        saves = [opt(a, "save") for a in real]
        self.assertEqual([os.path.basename(x) for x in saves],
                         [f"dcgan-k20-g1-s1-cs-real-m100-{t}.h5" for t in ("adam", "surfing", "restarts")])
        for a, x in zip(real, saves):
            self.assertTrue(x.startswith(self.s.root + os.sep))        # runs/, out of git
            self.assertEqual(opt(a, "trial-range"), "0:100")           # one piece: one file
        skip_without_h5py(self)
        for t in ("adam", "surfing", "restarts"):
            png = os.path.join(self.s.res, f"dcgan-k20-g1-s1-cs-real-m100-{t}.png")
            with open(png, "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        self.assertIn("drew ", self.s.output)
        self.assertNotIn(".png failed", self.s.output)
        self.assertEqual([f for f in os.listdir(self.s.res) if f.endswith(".err")], [])

    def test_a_rate_distortion_run_interrupted_after_saving_runs_again_and_draws(self):
        """lpom refuses an existing --save file: a run whose file outlived its result (killed
        between the two) must not be refused when the sweep launches it again."""
        skip_without_h5py(self)
        with sweep_from(self.s) as again:
            for f in ("json", "png"):
                os.remove(os.path.join(again.res, f"dcgan-k20-g1-s1-cs-real-m100-surfing.{f}"))
            unit = os.path.join(again.root, "surf", "dcgan-k20-g1-s1-cs-real-m100-surfing")
            shutil.rmtree(unit + ".pieces")       # its piece's output not written yet
            os.remove(unit + ".json")
            self.assertTrue(os.path.isfile(unit + ".h5"))
            self.assertEqual(again.run(), 0, again.output[-2000:])
            runs = [c["argv"] for c in again.calls() if c["argv"][0] == "surf" and opt(c["argv"], "target") == "test-images"]
            self.assertEqual([opt(a, "method") for a in runs], ["surfing"])
            self.assertNotIn("failed", again.output)
            self.assertTrue(os.path.isfile(os.path.join(again.res, "dcgan-k20-g1-s1-cs-real-m100-surfing.png")))
            self.assertTrue(os.path.isfile(os.path.join(again.res, "dcgan-k20-g1-s1-cs-real-m100-adam.png")))

    def test_a_picture_not_drawn_is_drawn_from_the_saved_run_without_running_it_again(self):
        skip_without_h5py(self)
        with sweep_from(self.s) as again:
            os.remove(os.path.join(again.res, "dcgan-k20-g1-s1-cs-real-m100-adam.png"))
            self.assertEqual(again.run(), 0, again.output[-2000:])
            self.assertEqual(again.calls(), [])
            self.assertTrue(os.path.isfile(os.path.join(again.res, "dcgan-k20-g1-s1-cs-real-m100-adam.png")))

    def test_the_rate_distortion_restarts_share_surfings_steps_on_the_same_images(self):
        """Fig. 4's fair peer: 10 restarts of ⌈surfing's mean steps / 10⌉, regular Adam's settings
        otherwise (the same images, A and starts: seed, trials, compress.py's options), after
        surfing's result and before the third generator seed."""
        real = [(i, c["argv"]) for i, c in enumerate(self.calls)
                if c["argv"][0] == "surf" and opt(c["argv"], "target") == "test-images"]
        (ia, adam), (isurf, _), (ir, r) = real
        surfing = self.s.small("dcgan-k20-g1-s1-cs-real-m100-surfing.json")
        self.assertEqual(opt(r, "method"), "restarts")
        self.assertEqual(opt(r, "restarts"), "10")
        self.assertEqual(int(opt(r, "restart-steps")), math.ceil(surfing["mean_iterations"] / 10))
        for o in ("measurements", "trials", "seed", "protocol", "target", "prior", "clip", "plateau-window", "trial-range"):
            self.assertEqual(opt(r, o), opt(adam, o), o)
        self.assertEqual(os.path.basename(r[1]), "dcgan-k20-g1.h5")
        self.assertGreater(ir, isurf)
        g3 = [i for i, c in enumerate(self.calls) if any("-k5-g3" in x for x in c["argv"])]
        self.assertLess(ir, min(g3))
        small = self.s.small("dcgan-k20-g1-s1-cs-real-m100-restarts.json")
        self.assertEqual(len(small["rmses"]), 100)

    def test_compressed_sensing_restarts_share_surfings_mean_budget_on_the_same_trials(self):
        surfing = self.s.small("dcgan-k20-g1-s1-cs-m100-surfing.json")
        r = surf_calls(self.calls, "dcgan-k20-g1.h5", method="restarts", measurements="100", target=None)
        self.assertEqual(len(r), 1)
        a = r[0]["argv"]
        self.assertEqual((opt(a, "restarts"), opt(a, "trials"), opt(a, "seed")), ("10", "100", "1"))
        self.assertEqual(int(opt(a, "restart-steps")), math.ceil(surfing["mean_iterations"] / 10))
        self.assertEqual(surf_calls(self.calls, "dcgan-k20-g1.h5", method="restarts", measurements="20"), [])

    def test_started_again_it_runs_nothing(self):
        with sweep_from(self.s) as again:
            self.assertEqual(again.run(), 0, again.output[-2000:])
            self.assertEqual(again.calls(), [])
            self.assertEqual(again.results(), expected_results())

    def test_a_result_lost_while_its_pieces_are_kept_is_merged_again_without_a_run(self):
        with sweep_from(self.s) as again:
            os.remove(os.path.join(again.res, "vae-k5-g1-s1-surfing.json"))
            self.assertEqual(again.run(), 0, again.output[-2000:])
            # (the generator is checked first, as after any lost result: a short regular-Adam prefix)
            self.assertEqual([c for c in again.calls() if opt(c["argv"], "method") == "surfing"], [])
            self.assertEqual(again.small("vae-k5-g1-s1-surfing.json")["successes"],
                             self.s.small("vae-k5-g1-s1-surfing.json")["successes"])

    def test_a_new_machine_trains_a_lost_generator_again_and_checks_it_before_using_it(self):
        with new_machine(self.s, [f"wgan-gp-k5-g1-s1-{f}.json" for f in ("restarts", "adam-total")]) as lost:
            self.assertEqual(lost.rc, 0, lost.output[-2000:])
            calls = lost.calls()
            trains = [c["argv"] for c in calls if c["argv"][0] == "train"]
            self.assertEqual([os.path.basename(opt(a, "history")) for a in trains], ["wgan-gp-k5-g1.h5.part"])
            self.assertEqual(opt(trains[0], "threads"), "2")     # as first trained
            check = json.load(open(os.path.join(lost.res, "retrained", "wgan-gp-k5-g1.json")))
            self.assertTrue(check["equal"])
            self.assertGreaterEqual(len(check["solved_trials"]), 10)
            for f in ("restarts", "adam-total"):                  # the same generator: the same results
                self.assertEqual(lost.small(f"wgan-gp-k5-g1-s1-{f}.json")["successes"],
                                 self.s.small(f"wgan-gp-k5-g1-s1-{f}.json")["successes"])
            # adam-long's checkpoint went with the machine: adam-total runs whole
            b = lost.small("wgan-gp-k5-g1-s1-surfing.json")["prefinal_budget"]
            total = surf_calls(calls, "wgan-gp-k5-g1.h5", method="adam", steps=str(b + 60000))
            self.assertEqual(len(total), 1)
            self.assertIsNone(total[0]["resumed_from"])

    def test_a_generator_checked_once_is_checked_by_its_digest_on_the_next_machine(self):
        lost_files = [f"wgan-gp-k5-g1-s1-{f}.json" for f in ("restarts", "adam-total")]
        with new_machine(self.s, lost_files) as first:
            self.assertEqual(first.rc, 0, first.output[-2000:])
            record = json.load(open(os.path.join(first.res, "retrained", "wgan-gp-k5-g1.json")))
            self.assertTrue(record["equal"])
            self.assertRegex(record["final_network_digest"], r"^[0-9a-f]{16}$")
            for salt, same in (("", True), ("other kernels", False)):
                with new_machine(first, lost_files, STUB_SALT=salt) as second:
                    self.assertEqual(second.rc, 0, second.output[-2000:])
                    calls = second.calls()
                    self.assertEqual([c for c in calls if c["argv"][0] == "surf" and opt(c["argv"], "method") == "adam"
                                      and opt(c["argv"], "steps") != str(first.small(lost_files[1])["final_steps"])], [],
                                     "no regular-Adam rerun to check it")
                    self.assertEqual(len([c for c in calls if c["argv"][0] == "inspect"]), 1)
                    if same:
                        self.assertIn("as recorded in", second.output)
                        self.assertEqual(second.results(), expected_results())
                    else:
                        self.assertIn("NOT the same generator", second.output)
                        self.assertFalse(os.path.exists(os.path.join(second.res, lost_files[0])))

    def test_another_generator_trained_on_a_new_machine_is_refused(self):
        with sweep_from(self.s) as lost:
            shutil.rmtree(os.path.join(lost.root, "gen"))
            os.remove(os.path.join(lost.res, "wgan-gp-k5-g1-s1-restarts.json"))
            self.assertEqual(lost.run(STUB_SALT="other kernels"), 0, lost.output[-2000:])
            self.assertIn("NOT the same generator", lost.output)
            self.assertTrue(os.path.exists(os.path.join(lost.root, "gen", "wgan-gp-k5-g1.h5.failed")))
            self.assertFalse(os.path.exists(os.path.join(lost.res, "wgan-gp-k5-g1-s1-restarts.json")))
            self.assertEqual([c for c in lost.calls() if opt(c["argv"], "method") == "restarts"], [])
            self.assertRegex(lost.output.strip().splitlines()[-1], r"but the failed units")

    def test_surfing_waits_for_the_check_when_its_regular_adam_ran_on_a_lost_generator(self):
        # WGAN k = 5's second seed (2026-12-05): regular Adam finished, then the machine and the
        # generator went; surfing pairs with that Adam run only on the same generator.
        name = "wgan-k5-g2"
        for salt, same in (("", True), ("other kernels", False)):
            with new_machine(self.s, [f"{name}-s1-surfing.json"], STUB_SALT=salt) as lost:
                self.assertEqual(lost.rc, 0, lost.output[-2000:])
                calls = lost.calls()
                surfs = [i for i, c in enumerate(calls) if c["argv"][0] == "surf"
                         and os.path.basename(c["argv"][1]) == name + ".h5"]
                checks = [i for i in surfs if opt(calls[i]["argv"], "method") == "adam"]
                self.assertEqual(len(checks), 1, salt)             # the retrain check: regular Adam, a prefix
                self.assertNotIn("--keep-checkpoint", calls[checks[0]]["argv"])
                surfing = [i for i in surfs if opt(calls[i]["argv"], "method") == "surfing"]
                if same:
                    self.assertTrue(json.load(open(os.path.join(lost.res, "retrained", name + ".json")))["equal"])
                    self.assertEqual(len(surfing), 1)
                    self.assertLess(checks[0], surfing[0])
                    self.assertEqual(lost.small(f"{name}-s1-surfing.json")["successes"],
                                     self.s.small(f"{name}-s1-surfing.json")["successes"])
                else:
                    self.assertIn("NOT the same generator", lost.output)
                    self.assertEqual(surfing, [])
                    # its record says why, and holds no digest a later machine would take for a pass
                    with open(os.path.join(lost.res, "retrained", name + ".json")) as f:
                        record = json.load(f)
                    self.assertFalse(record["equal"])
                    self.assertNotIn("final_network_digest", record)
                    self.assertFalse(os.path.exists(os.path.join(lost.res, f"{name}-s1-surfing.json")))

    def test_compressed_sensing_on_a_new_machine_trains_and_checks_the_k20_generator_first(self):
        with new_machine(self.s, [f"dcgan-k20-g1-s1-cs-m100-{t}.json" for t in ("adam", "surfing")]) as lost:
            self.assertEqual(lost.rc, 0, lost.output[-2000:])
            calls = lost.calls()
            trains = [t for _, t in trained(calls)]
            self.assertEqual(trains, ["dcgan-k20-g1.h5.part"])
            self.assertTrue(json.load(open(os.path.join(lost.res, "retrained", "dcgan-k20-g1.json")))["equal"])
            # the check first: by the digest recorded when the generator was first checked
            kinds = [c["argv"][0] if c["argv"][0] != "surf" else (opt(c["argv"], "method"), opt(c["argv"], "measurements"))
                     for c in calls if c["argv"][0] != "train"]
            self.assertEqual(kinds, ["inspect", ("adam", "100"), ("surfing", "100")])
            self.assertIn("dcgan-k20-g1: final network digest", lost.output)
            for t in ("adam", "surfing"):
                self.assertEqual(lost.small(f"dcgan-k20-g1-s1-cs-m100-{t}.json")["successes"],
                                 self.s.small(f"dcgan-k20-g1-s1-cs-m100-{t}.json")["successes"])


class GeneratorsAtHandTests(unittest.TestCase):
    """A new machine keeps both streams on the generator at hand (added 2026-12-06, session 19)."""

    @classmethod
    def setUpClass(cls):
        cls.s = Sweep()
        assert cls.s.run() == 0, cls.s.output[-2000:]

    @classmethod
    def tearDownClass(cls):
        cls.s.cleanup()

    @contextmanager
    def machine(self, lost=("wgan-gp-k5-g1-s1-restarts.json", "dcgan-k20-g1-s1-cs-m100-restarts.json")):
        """The finished sweep on a machine that kept only the DCGAN k = 20 generator (checked), and
        lost the given results: by default WGAN-GP k = 5's restarts (early in the order) and
        compressed sensing's restarts at m = 100 on the generator at hand (later)."""
        with sweep_from(self.s) as m:
            gen = os.path.join(m.root, "gen")
            for f in os.listdir(gen):
                if not f.startswith("dcgan-k20-g1."):
                    os.remove(os.path.join(gen, f))
            shutil.rmtree(os.path.join(m.root, "surf"))
            for f in lost:
                os.remove(os.path.join(m.res, f))
            yield m

    CS20 = tuple(f"dcgan-k20-g1-s1-cs-m20-{t}.json" for t in ("adam", "surfing"))

    def test_the_units_on_the_generator_at_hand_run_before_another_is_trained(self):
        with self.machine() as m:
            self.assertEqual(m.run(), 0, m.output[-2000:])
            calls = m.calls()
            train = trained(calls)
            r = [i for i, c in enumerate(calls) if c["argv"][0] == "surf" and opt(c["argv"], "method") == "restarts"
                 and opt(c["argv"], "measurements") == "100"]
            self.assertEqual([t for _, t in train], ["wgan-gp-k5-g1.h5.part"])
            self.assertEqual(len(r), 1)
            self.assertLess(r[0], train[0][0])          # the order alone would train WGAN-GP k = 5 first
            self.assertEqual(m.results(), expected_results())

    def test_late_units_on_the_generator_at_hand_wait_for_the_earlier_units_generator(self):
        """Compressed sensing's other m are late (added 2026-12-06, session 23): one stream trains
        the generators earlier units need before it runs them, although their generator is here:
        both of them, not only the first (a walk that finished a unit goes back to the top)."""
        with self.machine(("wgan-gp-k5-g1-s1-restarts.json", "wgan-k5-g1-s1-linear.json") + self.CS20) as m:
            self.assertEqual(m.run(), 0, m.output[-2000:])
            calls = m.calls()
            train = trained(calls)
            cs = [i for i, c in enumerate(calls) if c["argv"][0] == "surf" and opt(c["argv"], "measurements") == "20"]
            self.assertEqual([t for _, t in train], ["wgan-gp-k5-g1.h5.part", "wgan-k5-g1.h5.part"])
            self.assertEqual(len(cs), 2)
            self.assertLess(train[1][0], min(cs))
            self.assertEqual(m.results(), expected_results())

    def run_beside_a_training_stream(self, m):
        """Stream 2 run while another stream holds a generator's training lock (for 4 s): the calls
        it made while the lock was held, and its output when it is done."""
        import fcntl
        import time
        held = open(os.path.join(m.root, "gen", "vae-k20-g1.h5.lock"), "w")    # another stream trains it
        fcntl.flock(held, fcntl.LOCK_EX)
        p = subprocess.Popen(["bash", SWEEP], env=m.env(STREAM="2", WAIT="1"), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        try:
            time.sleep(4)
            self.assertIsNone(p.poll(), "it must wait while the lock is held")
            during = m.calls()
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)
            held.close()
            out, _ = p.communicate(timeout=120)
        self.assertEqual(p.returncode, 0, out[-2000:])
        return during, out

    def test_a_stream_does_not_train_a_generator_while_another_stream_trains_one(self):
        with self.machine(("wgan-gp-k5-g1-s1-restarts.json",)) as m:    # its generator must be trained
            during, out = self.run_beside_a_training_stream(m)
            self.assertEqual([c for c in during if c["argv"][0] == "train"], [])
            self.assertIn("waiting for another stream", out)
            self.assertEqual([t for _, t in trained(m.calls())], ["wgan-gp-k5-g1.h5.part"])
            self.assertEqual(m.results(), expected_results())

    def test_while_another_stream_trains_a_stream_runs_the_late_units_at_hand(self):
        with self.machine(("wgan-gp-k5-g1-s1-restarts.json",) + self.CS20) as m:
            during, out = self.run_beside_a_training_stream(m)
            self.assertEqual([c for c in during if c["argv"][0] == "train"], [])
            self.assertEqual(len([c for c in during if c["argv"][0] == "surf" and opt(c["argv"], "measurements") == "20"]), 2,
                             "compressed sensing at m = 20 should run while the other stream trains")
            self.assertEqual([t for _, t in trained(m.calls())], ["wgan-gp-k5-g1.h5.part"])
            self.assertEqual(m.results(), expected_results())


class OneGeneratorAtATimeTests(unittest.TestCase):
    def test_a_walk_that_finished_a_unit_takes_the_units_at_hand_before_training_another(self):
        """A new machine (no generator) that lost WGAN-GP k = 5's restarts (early in the order) and
        its 10-snapshot ablation (late), and DCGAN k = 20's regular Adam with surfing's budget
        (between them): WGAN-GP k = 5 is trained once and both its units run before DCGAN k = 20
        is trained (added 2026-12-06, session 20)."""
        with sweep_from() as base:
            self.assertEqual(base.run(), 0, base.output[-2000:])
            lost = ["wgan-gp-k5-g1-s1-restarts.json", "dcgan-k20-g1-s1-adam-total.json", "wgan-gp-k5-g1-s1-snapshots10.json"]
            with new_machine(base, lost) as m:
                self.assertEqual(m.rc, 0, m.output[-2000:])
                calls = m.calls()
                train = trained(calls)
                self.assertEqual([t for _, t in train], ["wgan-gp-k5-g1.h5.part", "dcgan-k20-g1.h5.part"])
                ten = [i for i, c in enumerate(calls) if c["argv"][0] == "surf" and opt(c["argv"], "snapshots") == "10"]
                self.assertEqual(len(ten), 1)
                self.assertLess(ten[0], train[1][0], "the ablation on the generator at hand waited for another's training")
                self.assertEqual(m.results(), expected_results())


class FailureAndCheckpointTests(unittest.TestCase):
    def test_a_failing_unit_is_marked_and_skipped_and_the_rest_finishes(self):
        with sweep_from() as s:
            self.assertEqual(s.run(STUB_FAIL="wgan-k10-g1.h5 --protocol"), 0, s.output[-2000:])
            marks = sorted(f for f in os.listdir(os.path.join(s.root, "surf")) if f.endswith(".failed"))
            self.assertEqual(marks, ["wgan-k10-g1-s1-adam-long.failed"])
            self.assertIn("lpom: error: stub failure", open(os.path.join(s.root, "surf", marks[0])).read())
            missing = expected_results() - s.results()
            self.assertEqual(missing, {f"wgan-k10-g1-s1-{t}.json" for t in ("adam-long", "adam", "surfing", "restarts", "adam-total",
                                                                          "restarts-tuned", "val1001-restarts1", "val1001-restarts2",
                                                                          "val1001-restarts5", "val1001-restarts10")})
            self.assertRegex(s.output.strip().splitlines()[-1], r"but the failed units")
            # the next start removes the marks (scripts/surf_sweep.sh) and finishes the rest
            os.remove(os.path.join(s.root, "surf", marks[0]))
            n = len(s.calls())
            self.assertEqual(s.run(), 0, s.output[-2000:])
            self.assertEqual(s.results(), expected_results())
            self.assertTrue(all("wgan-k10-g1.h5" in c["argv"][1] for c in s.calls()[n:]))

    def test_a_checkpointed_run_continues_on_the_workers_it_was_saved_with(self):
        with sweep_from() as s:
            ck = os.path.join(s.root, "surf", "vae-k5-g1-s1-adam-long.pieces", "0-300.ckpt")
            os.makedirs(ck)
            json.dump({"workers": 2}, open(os.path.join(ck, "split.json"), "w"))
            json.dump({"step": 7000}, open(os.path.join(ck, "state.json"), "w"))
            self.assertEqual(s.run(), 0, s.output[-2000:])
            c = surf_calls(s.calls(), "vae-k5-g1.h5", method="adam", steps="60000")
            self.assertEqual(len(c), 1)
            self.assertEqual(opt(c[0]["argv"], "threads"), "2")
            self.assertEqual(c[0]["resumed_from"], 7000)
            self.assertIn("(the last run with --threads 2)", s.small("vae-k5-g1-s1-adam-long.json")["command"])


if __name__ == "__main__":
    unittest.main()
