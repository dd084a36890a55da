#!/usr/bin/env python3
"""Tables of scripts/surf_paper_table.sh's small JSON files (notebooks-md/03-results):

  python3 scripts/surf_paper_summary.py notebooks-md/03-results
  python3 scripts/surf_paper_summary.py notebooks-md/03-results --update notebooks-md/03-surfing.md
      (replaces each table of the notebook whose header row is one printed here, and the
      "N of the 12 cells finished" line, by today's; the rest of the notebook is left as it is)

1. Table 1 under the authors' protocol: regular Adam -> surfing success, ours beside the paper's,
   mean iterations of the successful trials, run time per cell; cells run on more than one
   generator seed get a row per seed and a pooled row (McNemar stratified by seed).
2. Fair budgets: regular Adam with surfing's whole budget, 10 random restarts with surfing's mean
   total steps; McNemar's exact test of surfing against each, paired by trial (same x*, x_init);
   random restarts with their number R chosen on validation trials of another seed.
3. The homotopy ablation (linear path, 10 snapshots) against surfing, McNemar.
4. Compressed sensing (fresh A per trial): in-range targets (success), and held-out test images
   (the paper's Fig. 4: per-pixel RMSE, paired sign test of surfing against regular Adam).

McNemar's exact test: of the trials where exactly one method succeeds (b surfing only, c the
other only), b ~ Binomial(b + c, 1/2) under "equally good"; two-sided p = min(1, 2 P[X <= min(b, c)]).
Standard library only.
"""
import json
import math
import os
import re
import sys

PAPER = {  # Table 1 of Song, Fan, Lafferty (2019): regular Adam -> surfing, % of 300 trials
    ("vae", 5): (99.3, 99.3), ("vae", 10): (100, 100), ("vae", 20): (100, 100),
    ("dcgan", 5): (50.3, 91.3), ("dcgan", 10): (69.3, 96.7), ("dcgan", 20): (67.7, 99.3),
    ("wgan", 5): (48.3, 86.7), ("wgan", 10): (75.0, 99.3), ("wgan", 20): (91.0, 100),
    ("wgan-gp", 5): (46.7, 92.0), ("wgan-gp", 10): (63.7, 97.7), ("wgan-gp", 20): (69.7, 99.0),
}
MODELS = ["vae", "dcgan", "wgan", "wgan-gp"]


def binomial_p(b, c):
    """Two-sided exact p of b against c discordant pairs under "equally good": b ~ Binomial(b + c,
    1/2); min(1, 2 P[X <= min(b, c)]), and 1 when there are none."""
    n = b + c
    if n == 0:
        return 1.0
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(min(b, c) + 1)) / 2 ** n)


def mcnemar(a, b):
    """Two-sided exact McNemar p of success strings a, b (same trials); returns (p, only_a, only_b)."""
    if not a or not b or len(a) != len(b):
        return None, 0, 0
    only_a = sum(1 for x, y in zip(a, b) if x == "1" and y == "0")
    only_b = sum(1 for x, y in zip(a, b) if x == "0" and y == "1")
    return binomial_p(only_a, only_b), only_a, only_b


def load(directory):
    runs = {}
    for f in sorted(os.listdir(directory)):
        # <model>-k<k>-g<gen seed>-s<trial seed>-<tag>.json; other files (expansivity.json) are not runs
        m = re.match(r"(.+?)-k(\d+)-g([^-]+)-s([^-]+)-(.+)\.json$", f)
        if m is None:
            continue
        with open(os.path.join(directory, f)) as fh:
            runs[(m.group(1), int(m.group(2)), m.group(3), m.group(5))] = json.load(fh)
    return runs


def pct(d):
    return "—" if d is None or d.get("success_rate") is None else "%.1f" % (100 * d["success_rate"])


def iters(d):
    v = None if d is None else d.get("mean_successful_iterations")
    return "—" if v is None else "%.0f" % v


def mins(d):
    # CPU minutes (the runs went in pieces, on one or two workers, at varying load: wall times do
    # not compare); † a run read off a longer regular-Adam run (scripts/surf_cap.py): that run's
    return "—" if d is None else "%.0f%s" % ((d.get("cpu_seconds") or 0) / 60, "†" if d.get("derived_from") else "")


def pvalue(a, b):
    if a is None or b is None:
        return "—"
    p, x, y = mcnemar(a.get("successes"), b.get("successes"))
    return "—" if p is None else "%.2g (%d/%d)" % (p, x, y)


def pooled_mcnemar(pairs):
    """McNemar's exact test stratified by generator seed: each (surfing, Adam) pair of success
    strings is one stratum; under "equally good" every discordant trial of every stratum is an
    independent fair coin, so the summed counts b, c give an exact two-sided binomial test (the
    Mantel-Haenszel test for matched pairs). Returns (p, surfing only, Adam only)."""
    b = c = 0
    for s, a in pairs:
        _, x, y = mcnemar(s, a)
        b, c = b + x, c + y
    return binomial_p(b, c), b, c


def across_seeds(runs):
    """One row per Table-1 cell run on two or more generator seeds: each seed's rates and paired
    test, then the seeds pooled (rates over all trials, the stratified test). Cells with one seed
    print nothing."""
    rows = []
    for k in (5, 10, 20):
        for m in MODELS:
            seeds = [g for g in ("1", "2", "3") if runs.get((m, k, g, "adam")) and runs.get((m, k, g, "surfing"))
                     and runs[(m, k, g, "adam")].get("successes") and runs[(m, k, g, "surfing")].get("successes")]
            if len(seeds) < 2:
                continue
            pairs = [(runs[(m, k, g, "surfing")]["successes"], runs[(m, k, g, "adam")]["successes"]) for g in seeds]
            rate = lambda i: "%.1f" % (100 * sum(p[i].count("1") for p in pairs) / sum(len(p[i]) for p in pairs))
            p, b, c = pooled_mcnemar(pairs)
            rows.append("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %.2g (%d/%d) |" % (
                m, k, ", ".join(seeds),
                " / ".join(pct(runs[(m, k, g, "adam")]) for g in seeds),
                " / ".join(pct(runs[(m, k, g, "surfing")]) for g in seeds),
                " / ".join(pvalue(runs[(m, k, g, "surfing")], runs[(m, k, g, "adam")]).split(" ")[0] for g in seeds),
                rate(1), rate(0), "%.1f → %.1f" % PAPER[(m, k)], p, b, c))
    if rows:
        print("\n### Across generator seeds (each seed's 300 trials; pooled: all trials, McNemar stratified by seed)\n")
        print("| model | k | gen seeds | Adam % per seed | surfing % per seed | McNemar p per seed | pooled Adam % | pooled surfing % | paper Adam → surfing | stratified McNemar p (surf only / Adam only) |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        print("\n".join(rows))


def generator_passes(runs):
    """One row per cell run again on a generator trained with two generator passes per step (gen
    seed "Nf2": the released trainers' batch-norm running statistics, the same θ as seed N) beside
    seed N: each method's rate on both, McNemar's test between them on the same trials (same x*,
    x_init), and surfing against Adam on the Nf2 generator."""
    rows = []
    for (m, k, g, tag) in sorted(runs):
        if tag != "surfing" or not g.endswith("f2"):
            continue
        base = g[:-2]
        one = {t: runs.get((m, k, base, t)) for t in ("adam", "surfing")}
        two = {t: runs.get((m, k, g, t)) for t in ("adam", "surfing")}
        paper = PAPER.get((m, k))
        rows.append("| %s | %d | %s | %s / %s | %s | %s / %s | %s | %s | %s |" % (
            m, k, base, pct(one["adam"]), pct(two["adam"]), pvalue(two["adam"], one["adam"]),
            pct(one["surfing"]), pct(two["surfing"]), pvalue(two["surfing"], one["surfing"]),
            pvalue(two["surfing"], two["adam"]), "%.1f → %.1f" % paper if paper else "—"))
    if rows:
        print("\n### The generator's batch-norm running statistics as the released trainers leave them (two generator passes per step; the same θ)\n")
        print("| model | k | gen seed | Adam % (1 pass / 2 passes) | McNemar p (2 only / 1 only) | surfing % (1 pass / 2 passes) | McNemar p (2 only / 1 only) | 2 passes: surfing vs Adam p | paper Adam → surfing |")
        print("|---|---|---|---|---|---|---|---|---|")
        print("\n".join(rows))


def main(directory):
    runs = load(directory)
    print("### Table 1 under the authors' protocol (300 trials, ‖x̂ − x*‖ < 0.01)\n")
    print("| model | k | gen seed | Adam % | surfing % | paper Adam → surfing | McNemar p (surf only / Adam only) | Adam iters | surfing iters | pre-final budget | CPU minutes Adam / surfing |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for k in (5, 10, 20):
        for m in MODELS:
            for g in ("1", "2", "3"):
                a, s = runs.get((m, k, g, "adam")), runs.get((m, k, g, "surfing"))
                if a is None and s is None:
                    if g == "1":   # every cell of the paper's table has a row, run or not
                        print("| %s | %d | 1 | not run yet | | %.1f → %.1f | | | | | |" % ((m, k) + PAPER[(m, k)]))
                    continue
                paper = PAPER.get((m, k))
                print("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s |" % (
                    m, k, g, pct(a), pct(s), "%.1f → %.1f" % paper if paper else "—", pvalue(s, a),
                    iters(a), iters(s), (s or {}).get("prefinal_budget", "—"), mins(a), mins(s)))
    done = sum(1 for (m, k) in PAPER if runs.get((m, k, "1", "surfing")))
    cpu = sum(d.get("cpu_seconds") or 0 for d in runs.values() if not d.get("derived_from")) / 3600
    print("\n%d of the 12 cells finished (generator seed 1); inversion so far: %.1f CPU hours." % (done, cpu))
    if any(d.get("derived_from") for (m, k, g, t), d in runs.items() if t == "adam"):
        print("\n† regular Adam's 60,000 steps are the first 60,000 of one longer run (scripts/surf_cap.py); "
              "the CPU minutes are that run's.")
    across_seeds(runs)
    generator_passes(runs)

    def against_surfing(title, header, tags, note=lambda tag, d: ""):
        """One row per surfing run with either of the two runs `tags` of its cell: each one's success
        rate (and `note`) beside McNemar's test against surfing."""
        print("\n### %s\n" % title)
        print("| model | k | %s |" % " | ".join(header))
        print("|---|---|---|---|---|---|---|")
        for (m, k, g, tag), s in sorted(runs.items()):
            if tag != "surfing":
                continue
            others = [runs.get((m, k, g, t)) for t in tags]
            if all(o is None for o in others):
                continue
            cells = ["%s%s | %s" % (pct(o), note(t, o), pvalue(s, o)) for t, o in zip(tags, others)]
            print("| %s g%s | %d | %s | %s |" % (m, g, k, pct(s), " | ".join(cells)))

    def restart_steps(tag, d):
        if tag != "restarts" or d is None:
            return ""
        return " (%s)" % d["command"].split("--restart-steps ")[-1].split()[0].rstrip(",")

    against_surfing("Fair budgets (surfing vs regular Adam with surfing's whole budget, vs 10 random restarts)",
                    ("surfing %", "Adam, surfing's budget %", "McNemar p", "restarts % (steps each)", "McNemar p"),
                    ("adam-total", "restarts"), restart_steps)
    tuned = sorted(key for key in runs if key[3] == "restarts-tuned")
    if tuned:
        print("\n### Random restarts, R chosen on 100 validation trials (another seed), surfing's mean budget split R ways\n")
        print("| model | k | validation % for R = 1 / 2 / 5 / 10 | chosen R | surfing % | restarts, chosen R % | McNemar p |")
        print("|---|---|---|---|---|---|---|")
        for (m, k, g, _) in tuned:
            t, s = runs[(m, k, g, "restarts-tuned")], runs.get((m, k, g, "surfing"))
            val = [runs.get(key) for key in sorted((kk for kk in runs if kk[:3] == (m, k, g) and re.fullmatch(r"val\d+-restarts\d+", kk[3])),
                                                     key=lambda kk: int(kk[3].rsplit("restarts", 1)[1]))]
            chosen = (t.get("chosen_on_validation") or {}).get("restarts") or re.search(r"--restarts (\d+)", t["command"]).group(1)
            print("| %s g%s | %d | %s | %s | %s | %s | %s |" % (m, g, k, " / ".join(pct(v) for v in val), chosen, pct(s), pct(t), pvalue(s, t)))
    against_surfing("Homotopy ablation (same pre-final budget)",
                    ("surfing (history) %", "linear θ_0 → θ_T %", "McNemar p", "10 snapshots %", "McNemar p"),
                    ("linear", "snapshots10"))
    cs = sorted({(m, k, g, int(tag.split("-")[1][1:])) for (m, k, g, tag) in runs if re.fullmatch(r"cs-m\d+-\w+", tag)})
    if cs:
        print("\n### Compressed sensing (fresh N(0, 1) A per trial, in-range targets)\n")
        print("| model | k | m | Adam % | surfing % | McNemar p | 10 restarts % (steps each) | McNemar p | "
              "mean steps per trial Adam / surfing / restarts | failures ≥ 0.1 from x*: Adam / surfing / restarts |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for (m, k, g, meas) in cs:
            a, s, r = (runs.get((m, k, g, "cs-m%d-%s" % (meas, t))) for t in ("adam", "surfing", "restarts"))
            steps = lambda d: "—" if d is None else "{:,}".format(round(d["mean_iterations"]))
            far = lambda d: "—" if d is None else str(sum(1 for x, ok in zip(d["distances"], d["successes"]) if ok == "0" and x >= 0.1))
            print("| %s g%s | %d | %d | %s | %s | %s | %s%s | %s | %s | %s |" % (
                m, g, k, meas, pct(a), pct(s), pvalue(s, a), pct(r), restart_steps("restarts", r), pvalue(s, r),
                " / ".join(map(steps, (a, s, r))), " / ".join(map(far, (a, s, r)))))
    rate_distortion(runs)


def sign_test(a, b):
    """Paired two-sided exact sign test of per-trial values a, b (lower is better): returns
    (p, a lower, b lower); ties are dropped."""
    lower_a = sum(1 for x, y in zip(a, b) if x < y)
    lower_b = sum(1 for x, y in zip(a, b) if y < x)
    return binomial_p(lower_a, lower_b), lower_a, lower_b


def rate_distortion(runs):
    """The paper's Fig. 4 as a table: held-out test images, m measurements, per-pixel RMSE
    √(‖G(x̂) − y‖²/n) of regular Adam, surfing and 10 random restarts sharing surfing's steps
    (Bora et al.'s peer; "—" until run) on the same images, A and starts, each paired with surfing."""
    rd = sorted({(m, k, g, int(tag.split("-")[2][1:])) for (m, k, g, tag) in runs if re.fullmatch(r"cs-real-m\d+-\w+", tag)})
    if not rd:
        return
    print("\n### Compressed sensing on held-out test images (the paper's Fig. 4: per-pixel RMSE, lower is better)\n")
    print("| model | k | m | images | Adam RMSE mean / median | surfing RMSE mean / median | 10 restarts RMSE mean / median | "
          "surfing lower / Adam lower (sign test p) | surfing lower / restarts lower (sign test p) | "
          "mean steps per trial Adam / surfing / restarts | CPU min Adam / surfing / restarts |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for (m, k, g, meas) in rd:
        a, s, r = (runs.get((m, k, g, "cs-real-m%d-%s" % (meas, t))) for t in ("adam", "surfing", "restarts"))
        err = lambda d: "—" if d is None else "%.4f / %.4f" % (d["mean_rmse"], d["median_rmse"])
        steps = lambda d: "—" if d is None else "{:,}".format(round(d["mean_iterations"]))

        def test(other):
            """surfing against `other`, paired by image: who is lower, the sign test's p."""
            if other is None or s is None or not other.get("rmses") or len(other["rmses"]) != len(s.get("rmses") or []):
                return "—"
            p, x, y = sign_test(s["rmses"], other["rmses"])
            return "%d / %d (%.2g)" % (x, y, p)
        d0 = next(d for d in (a, s, r) if d is not None)
        n = d0.get("trials", len(d0.get("rmses") or []))
        print("| %s g%s | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            m, g, k, meas, n, err(a), err(s), err(r), test(a), test(r),
            " / ".join(map(steps, (a, s, r))), " / ".join(map(mins, (a, s, r)))))


def update(directory, notebook):
    """Replaces the notebook's tables that have a header printed by main() with today's."""
    import contextlib
    import io
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        main(directory)
    fresh = buf.getvalue().split("\n")

    def table_end(lines, i):
        """The index after the table whose header row is lines[i]."""
        while i < len(lines) and lines[i].startswith("|"):
            i += 1
        return i

    tables, i = {}, 0
    while i < len(fresh):
        if fresh[i].startswith("| model |"):
            j = table_end(fresh, i)
            tables[fresh[i]] = fresh[i:j]
            i = j
        else:
            i += 1
    finished = next((x for x in fresh if "of the 12 cells finished" in x), None)
    with open(notebook) as fh:
        lines, out, i, replaced = fh.read().split("\n"), [], 0, 0
    while i < len(lines):
        if lines[i] in tables:
            out += tables[lines[i]]
            replaced += 1
            i = table_end(lines, i)
            continue
        if finished and "of the 12 cells finished (generator seed 1); inversion so far" in lines[i]:
            lines[i] = finished
        out.append(lines[i])
        i += 1
    tmp = notebook + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(out))
    os.replace(tmp, notebook)
    missing = [h for h in tables if h not in lines]
    print(f"{notebook}: {replaced} tables replaced" + (f"; not in the notebook: {missing}" if missing else ""))


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) == 3 and args[1] == "--update":
        update(args[0], args[2])
    else:
        main(args[0] if args else "notebooks-md/03-results")
