"""The conventions report on synthetic VGG-like features: how far each port convention drifts from the official rule.

    python benchmarks/bench_conventions.py [--sizes 2000 5000 10000] [--d 4096]

For each N = M: the report's table (precision/recall under each convention, flipped decisions,
the float16 boundary band and exact ties), plus a duplicate-heavy set (exact duplicates within
and across the sets), and the time of the whole report relative to one official evaluation.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from dnnlib.tf_logging import quiet_tensorflow  # noqa: E402

quiet_tensorflow()

import numpy as np  # noqa: E402

import precision_recall  # noqa: E402
from benchmarks.feature_recipes import benchmark_pair, vgglike  # noqa: E402
from metrics import conventions  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--sizes', type=int, nargs='+', default=[2000, 5000, 10000])
    parser.add_argument('--d', type=int, default=4096)
    args = parser.parse_args()
    sets = {}
    for n in args.sizes:
        sets['VGG-like N = M = %d' % n] = benchmark_pair(n, args.d)
    rs = np.random.RandomState(0)
    base = vgglike(300, 5, 1000, args.d)
    sets['duplicate-heavy N = M = 2000 (1000 distinct rows)'] = (base[rs.randint(0, 1000, 2000)],
                                                                 base[rs.randint(0, 1000, 2000)])
    precision_recall.knn_precision_recall_features(sets[list(sets)[0]][0][:500], sets[list(sets)[0]][1][:500],
                                                   verbose=False)  # warm-up
    for name, (real, fake) in sets.items():
        start = time.perf_counter()
        precision_recall.knn_precision_recall_features(real, fake, verbose=False)
        official = time.perf_counter() - start
        start = time.perf_counter()
        report = conventions.conventions_report(real, fake, [3])
        seconds = time.perf_counter() - start
        print('== %s (d = %d)' % (name, args.d))
        print(conventions.format_report(report).split('\n\nwho uses')[0])
        print('report time %.2f s = %.1f x one official evaluation (%.2f s)\n' % (seconds, seconds / official,
                                                                                 official))


if __name__ == '__main__':
    main()
