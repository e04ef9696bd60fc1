"""Benchmark: our knn_precision_recall_features vs the official four-matrix loop in NumPy.

    python benchmarks/bench_pr.py [--n 5000] [--d 4096] [--repeats 2] [--onednn both]
    python benchmarks/bench_pr.py --fresh [--n 5000] [--d 4096]

Both run in this one process on the same VGG-like features (N = M, k = 3,
official default batch sizes). Ours is timed cold first (the first call in the
process; gemm='auto' races the two GEMM libraries on its own first tiles), then warm
(best of --repeats). A first call is one sample of a machine whose speed drifts, so
--first_calls fresh processes (this one included) each time one, and the median is reported.

`--fresh`: the first use as a library user meets it, in each of the four settings (Eigen and oneDNN, each
with the CPU as it is and capped at AVX2): 3 fresh processes per setting (benchmarks/api_first_call.py:
NumPy imported before the project, nothing set up, no state from earlier runs), each timing our first call,
a second call and the official loop side by side; the table gives medians and the median speed-up, and the
ceiling: the official loop over our GEMM work at the best measured rate (what no overhead at all would give).
Prints wall times, the cold/warm and speed-up ratios, whether the results are
identical, and the peak extra resident memory of each call (sampled from
/proc/self/status while it runs).

How far from the machine's limit: the same run measures the effective GEMM rate (GFLOP/s) of
TensorFlow and of NumPy's BLAS on one self-distance block (metrics.gemm.gemm_rates), says which
one ours used (what the race of gemm='auto' decided), counts the GEMM work our algorithm does
(symmetric self-distance tiles, one shared cross matrix, counted as general GEMMs), and prints the
lower bound = work / best effective rate beside our time, and the official loop run with the GEMM
ours used (the baseline's algorithm with our GEMM). `--onednn both` runs the benchmark under
TF_ENABLE_ONEDNN_OPTS=0 and =1 in subprocesses and prints one table.

`--cpu avx2` runs it as on a CPU without AVX-512: ONEDNN_MAX_CPU_ISA=AVX2 caps TensorFlow's oneDNN
kernels (and its Eigen contraction, which calls oneDNN's sgemm) and OPENBLAS_CORETYPE=Haswell caps
NumPy's OpenBLAS. An emulation on this CPU (clock, caches and cores stay), not a measurement of
another one; the report says so.
"""
import json
import subprocess
import argparse
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from dnnlib.native_settings import apply_native_settings  # noqa: E402

apply_native_settings()  # as run_metric.py does (both loops run with them)

import numpy as np  # noqa: E402

from dnnlib.tf_logging import quiet_tensorflow  # noqa: E402

quiet_tensorflow()  # before anything imports TensorFlow: no C++ start-up lines

import precision_recall  # noqa: E402
from benchmarks import official_numpy_pr  # noqa: E402
from benchmarks.feature_recipes import benchmark_pair  # noqa: E402
from metrics import gemm  # noqa: E402
from metrics.knn import ROW_TILE  # noqa: E402

CPU_CAPS = {'this': {}, 'avx2': {'ONEDNN_MAX_CPU_ISA': 'AVX2', 'OPENBLAS_CORETYPE': 'Haswell'}}


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
        time.sleep(gemm.IDLE_SECONDS)  # every run starts with the BLAS threads of the previous one asleep
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


def our_gemm_flops(n, m, d):
    """Multiply-add work of our P&R, counted as general GEMMs: each set's self distances in symmetric row
    tiles, plus one n x m cross matrix (NumPy's rank-k update of diagonal squares is in the effective rate)."""
    def self_work(size):
        return sum(min(ROW_TILE, size - i0) * (size - i0) for i0 in range(0, size, ROW_TILE))
    return 2.0 * d * (self_work(n) + self_work(m) + n * m)


def result_of_this_script(arguments, env=None):
    """What this script prints after 'RESULT ' when run in a fresh process with `arguments`."""
    out = subprocess.run([sys.executable, os.path.abspath(__file__)] + arguments, capture_output=True, text=True,
                         env=env, check=True).stdout
    return out.split('RESULT ', 1)[1]


def our_pr(ref, evl):
    """Ours, as the official API is called."""
    return precision_recall.knn_precision_recall_features(ref, evl, verbose=False)


def feature_sets(args):
    """The benchmark's real and generated VGG-like feature sets [n, d] float32."""
    return benchmark_pair(args.n, args.d)


def first_call_seconds(args):
    """Wall time of our first call in a process of its own (TensorFlow already loaded and initialized)."""
    ref, evl = feature_sets(args)
    return measure(lambda: our_pr(ref, evl), 1)[0]


def more_first_calls(args):
    """First-call times of args.first_calls - 1 further fresh processes, one after another."""
    return [float(result_of_this_script(['--n', str(args.n), '--d', str(args.d), '--first_call']))
            for _ in range(args.first_calls - 1)]


def run_once(args):
    """One process's measurements -> dict."""
    ref, evl = feature_sets(args)
    ours = lambda: our_pr(ref, evl)  # noqa: E731
    baseline = lambda: official_numpy_pr.knn_precision_recall(ref, evl)  # noqa: E731

    t_cold, _, _ = measure(ours, 1)  # first call (TensorFlow is already loaded and initialized)
    cold_times = [t_cold] + more_first_calls(args)  # a first call is one sample of a drifting machine: take several
    official_numpy_pr.knn_precision_recall(ref[:1200], evl[:1200])  # warm-up of the baseline's BLAS threads
    ours_used = gemm.choices_made()['float32 d=%d' % args.d]['gemm']  # what the race of 'auto' decided
    same_gemm = tf_gemm if ours_used == 'tensorflow' else official_numpy_pr.numpy_gemm

    def baseline_same():
        official_numpy_pr.GEMM['gemm'] = same_gemm
        try:
            return baseline()
        finally:
            official_numpy_pr.GEMM['gemm'] = official_numpy_pr.numpy_gemm
    # Interleaved (ours, official, official with our GEMM) x repeats: a drift of the machine's speed during
    # the run touches all three alike.
    runs = {name: [] for name in ('ours', 'base', 'same')}
    for _ in range(args.repeats):
        for name, fn in (('ours', ours), ('base', baseline), ('same', baseline_same)):
            runs[name].append(measure(fn, 1))
    (t_ours, mem_ours, r_ours), (t_base, mem_base, r_base), (t_base_same, _, r_base_same) = [
        (min(t for t, _, _ in runs[name]), max(m for _, m, _ in runs[name]), runs[name][-1][2])
        for name in ('ours', 'base', 'same')]
    warm_times = [t for t, _, _ in runs['ours']]
    decisions = precision_recall.knn_precision_recall_details(ref, evl, [3], verbose=False)  # per sample, untimed
    rates = gemm.gemm_rates(args.d)
    work = our_gemm_flops(args.n, args.n, args.d)
    from tensorflow.python.util import _pywrap_util_port
    return {'onednn': bool(_pywrap_util_port.IsMklEnabled()), 'n': args.n, 'd': args.d, 'cpus': os.cpu_count(),
            'cpu': args.cpu, 'gemm': ours_used,
            't_cold': float(np.median(cold_times)), 'cold_times': cold_times, 't_ours': t_ours,
            't_median_warm': float(np.median(warm_times)), 'mem_ours': mem_ours,
            't_base': t_base, 'mem_base': mem_base, 't_base_same_gemm': t_base_same, 'gemm_gflops': rates,
            'our_gemm_gflop': work / 1e9, 'lower_bound': work / max(rates.values()) / 1e9,
            'results': [r_ours['precision'].tolist(), r_ours['recall'].tolist()],
            'identical': all(np.array_equal(r_ours[key], r[key]) for r in (r_base, r_base_same)
                             for key in ('precision', 'recall'))
            and all(np.array_equal(decisions[key], r[key]) for r in (r_base, r_base_same)
                    for key in ('precision_pred', 'recall_pred'))}


def report(r):
    mib = 1024.0 ** 2
    print('N = M = %d, d = %d, k = 3, row_batch_size = 10000, col_batch_size = 50000, %d CPUs, oneDNN %s%s'
          % (r['n'], r['d'], r['cpus'], 'on' if r['onednn'] else 'off',
             ', emulating a CPU without AVX-512 (%s)' % ' '.join('%s=%s' % kv for kv in CPU_CAPS[r['cpu']].items())
             if r['cpu'] != 'this' else ''))
    print('%-44s %8s %14s' % ('implementation', 'time s', 'peak extra MiB'))
    print('%-44s %8.3f %14s' % ('ours, cold (first call; median of %d processes)' % len(r['cold_times']),
                                 r['t_cold'], '-'))
    print('%-44s %8.3f %14.1f' % ('ours (precision_recall.py, TF2), warm', r['t_ours'], r['mem_ours'] / mib))
    print('%-44s %8.3f %14.1f' % ('official 4-matrix loop (NumPy BLAS)', r['t_base'], r['mem_base'] / mib))
    print('%-44s %8.3f %14s' % ('official 4-matrix loop, our GEMM (%s)' % r['gemm'], r['t_base_same_gemm'], '-'))
    print('%-44s %8.3f %14s' % ('lower bound (our GEMM work / best rate)', r['lower_bound'], '-'))
    print('GEMM rate on a [%d, %d] x [%d, %d] self block: TensorFlow %.0f GFLOP/s, NumPy %.0f GFLOP/s (effective); '
          'ours used %s; our GEMM work %.0f GFLOP' % (ROW_TILE, r['d'], r['d'], gemm.MEASURE_COLUMNS,
                                                     r['gemm_gflops']['tensorflow'], r['gemm_gflops']['numpy'],
                                                     r['gemm'], r['our_gemm_gflop']))
    print('speed-up over the official loop: cold %.2fx, warm %.2fx; over the same loop with our GEMM: %.2fx'
          % (r['t_base'] / r['t_cold'], r['t_base'] / r['t_ours'], r['t_base_same_gemm'] / r['t_ours']))
    print('ours / lower bound: %.2f (1.00 = every second spent in GEMMs at the best rate)'
          % (r['t_ours'] / r['lower_bound']))
    print('cold / warm: %.3f (cold vs the median of the warm calls, %.3f s); first calls: %s s'
          % (r['t_cold'] / r['t_median_warm'], r['t_median_warm'], ', '.join('%.3f' % t for t in r['cold_times'])))
    print('precision / recall %s / %s; identical to both loops (and every per-sample decision): %s'
          % (r['results'][0], r['results'][1], r['identical']))


def fresh_table(args):
    """--fresh: for each setting, 3 fresh processes of benchmarks/api_first_call.py -> printed table."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'api_first_call.py')
    print('First use through the API (NumPy imported first, nothing set up), N = M = %d, d = %d, k = 3, %d CPUs;'
          ' medians of %d fresh processes' % (args.n, args.d, os.cpu_count(), args.first_calls))
    print('%-24s %-10s %9s %9s %10s %9s %9s %10s %9s %5s' % ('kernels', 'GEMM', 'first s', 'second s', 'official s',
                                                           'speed-up', 'range', 'vs bound', 'ceiling', 'same'))
    for onednn, cpu in (('0', 'this'), ('1', 'this'), ('0', 'avx2'), ('1', 'avx2')):
        env = {name: value for name, value in os.environ.items()
               if name not in ('OPENBLAS_THREAD_TIMEOUT', 'TF_CPU_ALLOCATOR_USE_BFC')}  # as a user's shell has them
        env.update(CPU_CAPS[cpu], TF_ENABLE_ONEDNN_OPTS=onednn)
        runs = []
        for _ in range(args.first_calls):
            out = subprocess.run([sys.executable, script, '--n', str(args.n), '--d', str(args.d)], env=env,
                                 capture_output=True, text=True, check=True).stdout
            runs.append(json.loads(out.split('RESULT ', 1)[1]))
        speedups = [r['t_official'] / r['t_first'] for r in runs]
        bound = our_gemm_flops(args.n, args.n, args.d) / 1e9 / np.median([max(r['rates'].values()) for r in runs])
        gemms = sorted({r['gemm'] for r in runs})
        first, official = (np.median([r[key] for r in runs]) for key in ('t_first', 't_official'))
        print('%-24s %-10s %9.3f %9.3f %10.3f %8.2fx %9s %10.2f %8.2fx %5s' % (
            ('oneDNN' if onednn == '1' else 'Eigen') + (', capped at AVX2' if cpu == 'avx2' else ''), '/'.join(gemms),
            first, np.median([r['t_second'] for r in runs]), official, np.median(speedups),
            '%.2f-%.2f' % (min(speedups), max(speedups)), first / bound, official / bound,
            all(r['identical'] for r in runs)))
    print('vs bound: our first call / (our GEMM work at the best measured rate); ceiling: the official loop / that '
          'bound, the speed-up a call with nothing but its GEMMs would reach')


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--n', type=int, default=5000, help='samples per set (N = M)')
    parser.add_argument('--d', type=int, default=4096, help='feature width')
    parser.add_argument('--repeats', type=int, default=3, help='timed runs per implementation (best is kept)')
    parser.add_argument('--onednn', choices=['this', 'both'], default='this',
                        help='this: the kernels this process picks; both: oneDNN off and on, in subprocesses')
    parser.add_argument('--cpu', choices=sorted(CPU_CAPS), default='this',
                        help='this: the CPU as it is; avx2: cap TensorFlow\'s and NumPy\'s kernels at AVX2 '
                             '(emulates a CPU without AVX-512; runs in subprocesses)')
    parser.add_argument('--first_calls', type=int, default=3,
                        help='fresh processes whose first call is timed (the median is reported)')
    parser.add_argument('--json', action='store_true', help=argparse.SUPPRESS)  # one subprocess's result
    parser.add_argument('--first_call', action='store_true', help=argparse.SUPPRESS)  # only one first call
    parser.add_argument('--fresh', action='store_true',
                        help='first use through the API in the four settings (Eigen/oneDNN, as is/capped at AVX2)')
    args = parser.parse_args()
    if args.fresh:
        fresh_table(args)
        return
    if args.first_call:
        print('RESULT %.6f' % first_call_seconds(args))
        return
    capped = all(os.environ.get(name) == value for name, value in CPU_CAPS[args.cpu].items())
    if args.onednn == 'this' and capped:
        result = run_once(args)
        if args.json:
            print('RESULT ' + json.dumps(result))
        else:
            report(result)
        return
    rows = []
    flags = ('0', '1') if args.onednn == 'both' else (os.environ.get('TF_ENABLE_ONEDNN_OPTS'),)
    for flag in flags:
        env = dict(os.environ, **CPU_CAPS[args.cpu])
        if flag is not None:
            env['TF_ENABLE_ONEDNN_OPTS'] = flag
        rows.append(json.loads(result_of_this_script(
            ['--n', str(args.n), '--d', str(args.d), '--repeats', str(args.repeats), '--first_calls',
             str(args.first_calls), '--cpu', args.cpu, '--onednn', 'this', '--json'], env)))
    for r in rows:
        report(r)
        print()
    print('%-8s %-10s %8s %8s %10s %12s %12s %14s %10s %9s'
          % ('oneDNN', 'GEMM', 'cold s', 'warm s', 'official s', 'cold speedup', 'warm speedup', 'vs same GEMM',
             'vs bound', 'same'))
    for r in rows:
        print('%-8s %-10s %8.3f %8.3f %10.3f %11.2fx %11.2fx %13.2fx %10.2f %9s'
              % ('on' if r['onednn'] else 'off', r['gemm'], r['t_cold'], r['t_ours'], r['t_base'],
                 r['t_base'] / r['t_cold'], r['t_base'] / r['t_ours'], r['t_base_same_gemm'] / r['t_ours'],
                 r['t_ours'] / r['lower_bound'], r['identical']))


if __name__ == '__main__':
    main()
