"""Differences of test accuracy between the ArchFromOpt dense networks of notebook 02: the mean
difference with its standard error from three seeds (sqrt(sd1^2/3 + sd2^2/3)), the difference seed
by seed, and the training accuracy of the last epoch.
Usage: python3 scripts/archfromopt_differences.py runs/rerun/arch-dense"""
import json
import statistics as st
import sys

d = sys.argv[1] if len(sys.argv) > 1 else "runs/rerun/arch-dense"
run = lambda a, s: json.load(open(f"{d}/{a}-fashion-mnist-d4-w128-s{s}.json"))
test = lambda a, seeds=(0, 1, 2): [100 * run(a, s)["test_accuracy"] for s in seeds]
for new, old in [("hbnet", "resnet"), ("agdnet", "densenet"), ("admmnet", "dmrnet"),
                 ("hbnet", "plain"), ("agdnet", "plain"), ("resnet", "plain"), ("densenet", "plain")]:
    a, b = test(new), test(old)
    se = (st.variance(a) / 3 + st.variance(b) / 3) ** 0.5
    print(f"{new} − {old}: {st.mean(a) - st.mean(b):+.2f} ± {se:.2f} (s.e.), per seed",
          " ".join(f"{x - y:+.2f}" for x, y in zip(a, b)))
for a in ["hbnet", "agdnet", "admmnet"]:
    print(f"{a}-learnable − {a}, seeds 0 1:", " ".join(
        f"{x - y:+.2f}" for x, y in zip(test(a + "-learnable", (0, 1)), test(a, (0, 1)))))
for a in ["plain", "resnet", "hbnet", "densenet", "agdnet", "dmrnet", "admmnet"]:
    print(f"{a}: training accuracy, last epoch", " ".join(
        f"{100 * run(a, s)['curve'][-1]['train_accuracy']:.2f}" for s in (0, 1, 2)))
