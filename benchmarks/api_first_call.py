"""One fresh process as a library user runs it: NumPy imported first, then the project's API, first call timed.

    python benchmarks/api_first_call.py [--n 5000] [--d 4096]   (run by `bench_pr.py --fresh`; prints RESULT <json>)

Nothing is set up before the call: no native settings applied by a script, no warm-up, no remembered state
(gemm='auto' races on the call's own first tiles). Then, in the same process and after an idle pause each, a
second call and the official four-matrix loop in NumPy, so the speed-up is measured side by side; last, both
libraries' GEMM rates for the lower bound (after the timed calls: they cannot warm them).
"""
import argparse
import json
import os
import sys
import time

import numpy as np  # first, as a user's script does: OpenBLAS reads its settings now

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import official_numpy_pr  # noqa: E402
from benchmarks.feature_recipes import benchmark_pair  # noqa: E402


def timed(fn):
    """(seconds, result) of fn() after an idle pause (the BLAS threads of what ran before are asleep)."""
    time.sleep(0.2)
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--n', type=int, default=5000)
    parser.add_argument('--d', type=int, default=4096)
    args = parser.parse_args()
    ref, evl = benchmark_pair(args.n, args.d)
    import precision_recall  # as a user imports it, after NumPy
    from metrics import gemm

    def ours():
        return precision_recall.knn_precision_recall_details(ref, evl, [3], verbose=False)
    t_first, first = timed(ours)
    decided = gemm.choices_made().get('float32 d=%d' % args.d, {})
    t_second, _ = timed(ours)
    t_official, official = timed(lambda: official_numpy_pr.knn_precision_recall(ref, evl))
    from tensorflow.python.util import _pywrap_util_port
    print('RESULT ' + json.dumps({
        't_first': t_first, 't_second': t_second, 't_official': t_official, 'gemm': decided.get('gemm', 'tensorflow'),
        'race_seconds': decided.get('seconds', {}), 'rates': gemm.gemm_rates(args.d),
        'onednn': bool(_pywrap_util_port.IsMklEnabled()),
        'identical': all(np.array_equal(first[key], official[key]) for key in ('precision', 'recall'))
        and all(np.array_equal(first[key], official[key]) for key in ('precision_pred', 'recall_pred'))}))


if __name__ == '__main__':
    main()
