"""Benchmark: our knn_precision_recall_features vs the official four-matrix loop in NumPy.

    python benchmarks/bench_pr.py [--n 5000] [--d 4096] [--repeats 2] [--onednn both]

Both run in this one process on the same VGG-like features (N = M, k = 3,
official default batch sizes). Ours is timed cold first (the first call in the
process: includes tracing the tf.functions), then warm (best of --repeats).
Prints wall times, the cold/warm and speed-up ratios, whether the results are
identical, and the peak extra resident memory of each call (sampled from
/proc/self/status while it runs).

How far from the machine's limit: the same run measures the GEMM rate (GFLOP/s) of TensorFlow and of
NumPy's BLAS at our tile shape, counts the GEMM work our algorithm does (symmetric self-distance
tiles, one shared cross matrix), and prints the lower bound = work / best rate beside our time, and
the official loop run with TensorFlow's GEMM (same algorithm, same GEMM as ours). `--onednn both`
runs the benchmark under TF_ENABLE_ONEDNN_OPTS=0 and =1 in subprocesses and prints one table.
"""
import json
import subprocess
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
from metrics.distance_block import COLUMN_TILE  # noqa: E402
from metrics.knn import ROW_TILE  # noqa: E402


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


def tf_gemm(U, V):
    """U V^T [n, m] by TensorFlow's matmul (the kernels this process picked)."""
    import tensorflow as tf
    return tf.matmul(U, V, transpose_b=True).numpy()


def gemm_rates(d, repeats=5):
    """GFLOP/s of TensorFlow's and NumPy's GEMM at our tile shape [ROW_TILE, d] x [d, COLUMN_TILE] (best of repeats)."""
    import tensorflow as tf
    rs = np.random.RandomState(0)
    u = rs.standard_normal((ROW_TILE, d)).astype(np.float32)
    v = rs.standard_normal((COLUMN_TILE, d)).astype(np.float32)
    tu, tv = tf.constant(u), tf.constant(v)
    flops = 2.0 * ROW_TILE * COLUMN_TILE * d
    rates = {}
    for name, fn in (('tensorflow', lambda: tf.matmul(tu, tv, transpose_b=True).numpy()), ('numpy', lambda: u @ v.T)):
        fn()
        rates[name] = flops / measure(fn, repeats)[0] / 1e9
    return rates


def our_gemm_flops(n, m, d):
    """Multiply-add work of our P&R: each set's self distances in symmetric row tiles, plus one n x m cross matrix."""
    def self_work(size):
        return sum(min(ROW_TILE, size - i0) * (size - i0) for i0 in range(0, size, ROW_TILE))
    return 2.0 * d * (self_work(n) + self_work(m) + n * m)


def run_once(args):
    """One process's measurements -> dict."""
    ref = vgglike(300, 1, args.n, args.d)
    evl = vgglike(300, 2, args.n, args.d, latent_scale=0.95, bias=-0.58)
    ours = lambda: precision_recall.knn_precision_recall_features(ref, evl, verbose=False)  # noqa: E731
    baseline = lambda: official_numpy_pr.knn_precision_recall(ref, evl)  # noqa: E731

    t_cold, _, _ = measure(ours, 1)  # first call (TensorFlow is already loaded and initialized)
    official_numpy_pr.knn_precision_recall(ref[:1200], evl[:1200])  # warm-up of the baseline's BLAS threads
    warm_times = []
    t_ours, mem_ours, r_ours = measure(ours, args.repeats, warm_times)
    t_base, mem_base, r_base = measure(baseline, args.repeats)
    official_numpy_pr.GEMM['gemm'] = tf_gemm
    try:
        t_base_tf, _, r_base_tf = measure(baseline, args.repeats)
    finally:
        official_numpy_pr.GEMM['gemm'] = official_numpy_pr.numpy_gemm
    rates = gemm_rates(args.d)
    work = our_gemm_flops(args.n, args.n, args.d)
    from tensorflow.python.util import _pywrap_util_port
    return {'onednn': bool(_pywrap_util_port.IsMklEnabled()), 'n': args.n, 'd': args.d, 'cpus': os.cpu_count(),
            't_cold': t_cold, 't_ours': t_ours, 't_median_warm': float(np.median(warm_times)), 'mem_ours': mem_ours,
            't_base': t_base, 'mem_base': mem_base, 't_base_tf_gemm': t_base_tf, 'gemm_gflops': rates,
            'our_gemm_gflop': work / 1e9, 'lower_bound': work / max(rates.values()) / 1e9,
            'results': [r_ours['precision'].tolist(), r_ours['recall'].tolist()],
            'identical': all(np.array_equal(r_ours[key], r[key]) for r in (r_base, r_base_tf)
                             for key in ('precision', 'recall'))}


def report(r):
    mib = 1024.0 ** 2
    print('N = M = %d, d = %d, k = 3, row_batch_size = 10000, col_batch_size = 50000, %d CPUs, oneDNN %s'
          % (r['n'], r['d'], r['cpus'], 'on' if r['onednn'] else 'off'))
    print('%-44s %8s %14s' % ('implementation', 'time s', 'peak extra MiB'))
    print('%-44s %8.3f %14s' % ('ours, cold (first call in the process)', r['t_cold'], '-'))
    print('%-44s %8.3f %14.1f' % ('ours (precision_recall.py, TF2), warm', r['t_ours'], r['mem_ours'] / mib))
    print('%-44s %8.3f %14.1f' % ('official 4-matrix loop (NumPy BLAS)', r['t_base'], r['mem_base'] / mib))
    print('%-44s %8.3f %14s' % ('official 4-matrix loop, TensorFlow\'s GEMM', r['t_base_tf_gemm'], '-'))
    print('%-44s %8.3f %14s' % ('lower bound (our GEMM work / best rate)', r['lower_bound'], '-'))
    print('GEMM rate at [%d, %d] x [%d, %d]: TensorFlow %.0f GFLOP/s, NumPy %.0f GFLOP/s; our GEMM work %.0f GFLOP'
          % (ROW_TILE, r['d'], r['d'], COLUMN_TILE, r['gemm_gflops']['tensorflow'], r['gemm_gflops']['numpy'],
             r['our_gemm_gflop']))
    print('speed-up over the official loop: cold %.2fx, warm %.2fx; over the same loop with our GEMM: %.2fx'
          % (r['t_base'] / r['t_cold'], r['t_base'] / r['t_ours'], r['t_base_tf_gemm'] / r['t_ours']))
    print('ours / lower bound: %.2f (1.00 = every second spent in GEMMs at the best rate)'
          % (r['t_ours'] / r['lower_bound']))
    print('cold / warm: %.3f (cold vs the median of the warm calls, %.3f s)' % (r['t_cold'] / r['t_median_warm'],
                                                                               r['t_median_warm']))
    print('precision / recall %s / %s; identical to both loops: %s' % (r['results'][0], r['results'][1],
                                                                     r['identical']))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--n', type=int, default=5000, help='samples per set (N = M)')
    parser.add_argument('--d', type=int, default=4096, help='feature width')
    parser.add_argument('--repeats', type=int, default=3, help='timed runs per implementation (best is kept)')
    parser.add_argument('--onednn', choices=['this', 'both'], default='this',
                        help='this: the kernels this process picks; both: oneDNN off and on, in subprocesses')
    parser.add_argument('--json', action='store_true', help=argparse.SUPPRESS)  # one subprocess's result
    args = parser.parse_args()
    if args.onednn == 'this':
        result = run_once(args)
        if args.json:
            print('RESULT ' + json.dumps(result))
        else:
            report(result)
        return
    rows = []
    for flag in ('0', '1'):
        out = subprocess.run([sys.executable, os.path.abspath(__file__), '--n', str(args.n), '--d', str(args.d),
                              '--repeats', str(args.repeats), '--json'], capture_output=True, text=True,
                             env=dict(os.environ, TF_ENABLE_ONEDNN_OPTS=flag), check=True).stdout
        rows.append(json.loads(out.split('RESULT ', 1)[1]))
    for r in rows:
        report(r)
        print()
    print('%-8s %8s %8s %10s %12s %12s %10s %9s' % ('oneDNN', 'cold s', 'warm s', 'official s', 'cold speedup',
                                                    'warm speedup', 'vs bound', 'same'))
    for r in rows:
        print('%-8s %8.3f %8.3f %10.3f %11.2fx %11.2fx %10.2f %9s'
              % ('on' if r['onednn'] else 'off', r['t_cold'], r['t_ours'], r['t_base'], r['t_base'] / r['t_cold'],
                 r['t_base'] / r['t_ours'], r['t_ours'] / r['lower_bound'], r['identical']))


if __name__ == '__main__':
    main()
