"""What the per-row reductions of the membership pass cost beside the distances: fields asked vs all fields.

    python benchmarks/bench_membership.py [--n 5000] [--d 4096] [--repeats 3]

One pass over N x N VGG-like features (the radii of both sets computed once beforehand), timed warm
for: 'inside' only (official P&R), the density/coverage fields, realism + nearest neighbours, and
every Side field; printed as seconds and as ratios to 'inside' only. This is what decides whether
metrics.knn.membership_pass computes every field always or only the fields a caller asks for.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from dnnlib.tf_logging import quiet_tensorflow  # noqa: E402

quiet_tensorflow()

from benchmarks.feature_recipes import benchmark_pair  # noqa: E402
from metrics.convention import OFFICIAL  # noqa: E402
from metrics.distance_block import DistanceBlock  # noqa: E402
from metrics.knn import SIDE_FIELDS, PreparedFeatures, Spheres, kth_nearest_radii, membership_pass  # noqa: E402
from metrics.options import Options  # noqa: E402

FIELD_SETS = [('inside (official P&R)', ('inside',)),
              ('inside, count, holds (prdc, symmetric)', ('inside', 'count', 'holds')),
              ('inside, realism, nn', ('inside', 'realism', 'nn')),
              ('every field', tuple(SIDE_FIELDS))]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--n', type=int, default=5000)
    p.add_argument('--d', type=int, default=4096)
    p.add_argument('--repeats', type=int, default=3)
    args = p.parse_args()
    real, fake = benchmark_pair(args.n, args.d)
    block = DistanceBlock(args.d)
    options = Options()
    a, b = PreparedFeatures(block, fake), PreparedFeatures(block, real)
    sets = Spheres(a, kth_nearest_radii(block, a, [3], options)), Spheres(b, kth_nearest_radii(block, b, [3], options))
    membership_pass(block, *sets, OFFICIAL, options)  # warm-up
    times = {}
    for _ in range(args.repeats):  # interleaved, so that drift of the machine hits every variant alike
        for name, fields in FIELD_SETS:
            start = time.perf_counter()
            membership_pass(block, *sets, OFFICIAL, options, fields)
            times.setdefault(name, []).append(time.perf_counter() - start)
    base = min(times[FIELD_SETS[0][0]])
    print('membership pass, N = M = %d, d = %d (best of %d)' % (args.n, args.d, args.repeats))
    for name, _ in FIELD_SETS:
        print('  %-40s %7.3f s  %5.2fx' % (name, min(times[name]), min(times[name]) / base))


if __name__ == '__main__':
    main()
