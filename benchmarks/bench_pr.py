"""Benchmark: our knn_precision_recall_features vs the official four-matrix loop in NumPy.

    python benchmarks/bench_pr.py [--n 5000] [--d 4096] [--repeats 2]

Both run in this one process on the same VGG-like features (N = M, k = 3,
official default batch sizes). Ours is timed cold first (the first call in the
process: includes tracing the tf.functions), then warm (best of --repeats).
Prints wall times, the cold/warm and speed-up ratios, whether the results are
identical, and the peak extra resident memory of each call (sampled from
/proc/self/status while it runs).
"""
import argparse
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from dnnlib.tf_logging import quiet_tensorflow  # noqa: E402

quiet_tensorflow()  # before anything imports TensorFlow: no C++ start-up lines

import precision_recall  # noqa: E402
from benchmarks import official_numpy_pr  # noqa: E402
from benchmarks.feature_recipes import vgglike  # noqa: E402


def resident_bytes():
    """Resident memory of this process from /proc (Linux); 0 where /proc is absent (macOS, Windows)."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def measure(fn, repeats, times=None):
    """(best wall seconds, peak RSS above the level at call start in bytes, result); all times appended to `times`."""
    best, peak_extra, result = float('inf'), 0, None
    for _ in range(repeats):
        base = resident_bytes()
        peak = [base]
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], resident_bytes())
                time.sleep(0.002)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        start = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - start
        best = min(best, elapsed)
        if times is not None:
            times.append(elapsed)
        done.set()
        sampler.join()
        peak_extra = max(peak_extra, peak[0] - base)
    return best, peak_extra, result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--n', type=int, default=5000, help='samples per set (N = M)')
    parser.add_argument('--d', type=int, default=4096, help='feature width')
    parser.add_argument('--repeats', type=int, default=3, help='timed runs per implementation (best is kept)')
    args = parser.parse_args()

    ref = vgglike(300, 1, args.n, args.d)
    evl = vgglike(300, 2, args.n, args.d, latent_scale=0.95, bias=-0.58)
    ours = lambda: precision_recall.knn_precision_recall_features(ref, evl, verbose=False)  # noqa: E731
    baseline = lambda: official_numpy_pr.knn_precision_recall(ref, evl)  # noqa: E731

    t_cold, _, _ = measure(ours, 1)  # first call (TensorFlow is already loaded and initialized)
    official_numpy_pr.knn_precision_recall(ref[:1200], evl[:1200])  # warm-up of the baseline's BLAS threads

    warm_times = []
    t_ours, mem_ours, r_ours = measure(ours, args.repeats, warm_times)
    t_base, mem_base, r_base = measure(baseline, args.repeats)
    identical = all(np.array_equal(r_ours[key], r_base[key]) for key in ('precision', 'recall'))
    mib = 1024.0 ** 2
    print('N = M = %d, d = %d, k = 3, row_batch_size = 10000, col_batch_size = 50000, %d CPUs'
          % (args.n, args.d, os.cpu_count()))
    print('%-40s %8s %14s   %s' % ('implementation', 'time s', 'peak extra MiB', 'precision / recall'))
    print('%-40s %8.3f %14s' % ('ours, cold (first call in the process)', t_cold, '-'))
    print('%-40s %8.3f %14.1f   %s / %s' % ('ours (precision_recall.py, TF2), warm', t_ours, mem_ours / mib,
                                           r_ours['precision'], r_ours['recall']))
    print('%-40s %8.3f %14.1f   %s / %s' % ('official 4-matrix loop (NumPy)', t_base, mem_base / mib,
                                           r_base['precision'], r_base['recall']))
    print('cold / warm: %.3f (cold vs the median of %d warm calls, %.3f s; a single call varies by ~10%% here)'
          % (t_cold / float(np.median(warm_times)), len(warm_times), float(np.median(warm_times))))
    print('speed-up (official loop time / ours, warm): %.2fx' % (t_base / t_ours))
    print('memory ratio (ours / official loop): %.2f' % (mem_ours / max(mem_base, 1)))
    print('N x M float32 matrix would be %.1f MiB' % (args.n * args.n * 4 / mib))
    print('identical precision and recall: %s' % identical)


if __name__ == '__main__':
    main()
