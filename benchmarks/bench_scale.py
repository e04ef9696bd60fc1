"""Benchmark: how precision/recall cost grows with N (time ~ N^2 d, memory bounded by the batch sizes).

    python benchmarks/bench_scale.py [--sizes 2500 5000 10000 20000] [--d 4096] [--extrapolate 200000 1000000]

For each N (= M) it times knn_precision_recall_features on VGG-like features (k = 3, default
batch sizes) and samples the peak resident memory above the level after the features exist.
It prints seconds / (N^2 d) relative to the smallest N (constant = quadratic scaling), the peak
extra memory (which includes one float32 copy of both feature sets, 'features MiB', made for the
devices) next to what one N x M float32 matrix would need, and extrapolates the time of the largest
measured N to the --extrapolate sizes with t ~ N^2.
"""
import argparse
import functools
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from dnnlib.tf_logging import quiet_tensorflow  # noqa: E402

quiet_tensorflow()  # before anything imports TensorFlow: no C++ start-up lines

import numpy as np  # noqa: E402

import precision_recall  # noqa: E402
from benchmarks.bench_pr import measure  # noqa: E402


def vgglike_chunked(basis_seed, seed, n, d, latent_scale=1.0, bias=-0.6, chunk=10000):
    """VGG-like non-negative features [n, d] float32, generated in row chunks (bounded temporaries)."""
    basis = (np.random.RandomState(basis_seed).randn(32, d) / np.sqrt(32)).astype(np.float32)
    rs = np.random.default_rng(seed)
    out = np.empty((n, d), np.float32)
    for begin in range(0, n, chunk):
        rows = min(chunk, n - begin)
        z = rs.standard_normal((rows, 32), dtype=np.float32) * latent_scale
        noise = rs.standard_normal((rows, d), dtype=np.float32) * 0.8
        out[begin:begin + rows] = 1.5 * np.maximum(1.2 * (z @ basis) + noise + bias, 0.0)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--sizes', type=int, nargs='+', default=[2500, 5000, 10000, 20000])
    parser.add_argument('--d', type=int, default=4096)
    parser.add_argument('--extrapolate', type=int, nargs='*', default=[200000, 1000000])
    parser.add_argument('--num_gpus', type=int, default=1)
    args = parser.parse_args()

    warm = vgglike_chunked(300, 0, 1500, args.d)
    precision_recall.knn_precision_recall_features(warm, warm[::-1].copy(), verbose=False)
    mib = 2.0 ** 20
    print('%8s %6s %10s %14s %10s %16s %14s %16s   %s' % (
        'N=M', 'd', 'seconds', 's/(N^2 d) rel', 'GFLOP/s', 'peak extra MiB', 'features MiB', 'N x M fp32 MiB',
        'precision / recall'))
    first = None
    results = []
    for n in args.sizes:
        ref = vgglike_chunked(300, 1, n, args.d)
        evl = vgglike_chunked(300, 2, n, args.d, latent_scale=0.95, bias=-0.58)
        run = functools.partial(precision_recall.knn_precision_recall_features, ref, evl, num_gpus=args.num_gpus,
                                verbose=False)
        seconds, peak, state = measure(run, 1)
        unit = seconds / (float(n) ** 2 * args.d)
        first = first or unit
        flops = 2.0 * args.d * (n * n / 2 + n * n / 2 + n * n)  # symmetric self blocks + one shared cross block
        results.append((n, seconds))
        print('%8d %6d %10.2f %14.2f %10.1f %16.1f %14.1f %16.1f   %.4f / %.4f'
              % (n, args.d, seconds, unit / first, flops / seconds / 1e9, peak / mib, 2 * n * args.d * 4 / mib,
                 n * n * 4 / mib, state['precision'][0], state['recall'][0]), flush=True)
        del ref, evl, run
    n_last, t_last = results[-1]
    for target in args.extrapolate:
        estimate = t_last * (target / n_last) ** 2
        print('extrapolated N=M=%d: %.0f s (%.1f h) on this machine, from N=%d and t ~ N^2'
              % (target, estimate, estimate / 3600, n_last))
    print('time: %s' % time.strftime('%Y-%m-%d %H:%M:%S'))


if __name__ == '__main__':
    main()
