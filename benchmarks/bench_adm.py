"""Benchmark: OpenAI's ADM evaluator (evaluator.py, run unchanged) against metrics/adm_evaluator_official_tf.py.

    git --git-dir=<mirror of openai/guided-diffusion> show HEAD:evaluations/evaluator.py > /tmp/evaluator.py
    python benchmarks/bench_adm.py --evaluator /tmp/evaluator.py --inception classify_image_graph_def.pb \
        [--ref REF.npz --sample SAMPLE.npz] [--pr_n 10000 --pr_m 20000]

evaluator.py is imported from the path given (it is not part of this project: fetch it yourself) and run on
the same inputs in this one process, stage by stage, beside ours:
* activations: its Evaluator.read_activations vs ours (the same graph, batches of 64), on --ref/--sample;
* statistics and Inception Score on those activations;
* precision/recall on --pr_n reference x --pr_m sample features, 2,048-d (synthetic, pool_3-like: ReLU of a
  16-d latent through a fixed map), its ManifoldEstimator (manifold_radii twice, evaluate_pr) vs ours;
* end to end: the sum.
Prints each stage's wall times (best of --repeats for the image stages, one call for P&R), the ratio
(evaluator / ours) and whether the numbers are identical. evaluator.py's own progress bars go to stderr.
"""
import argparse
import importlib.util
import os
import shutil
import sys
import tempfile
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from dnnlib.native_settings import apply_native_settings  # noqa: E402

apply_native_settings()

import numpy as np  # noqa: E402

from dnnlib.tf_logging import quiet_tensorflow  # noqa: E402

quiet_tensorflow()


def load_evaluator(path, graph, workdir):
    """evaluator.py as a module, with the graph copied where it looks for it (its working directory)."""
    shutil.copyfile(graph, os.path.join(workdir, 'classify_image_graph_def.pb'))
    os.chdir(workdir)
    spec = importlib.util.spec_from_file_location('adm_evaluator_unchanged', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(fn, repeats=1):
    """(result, best wall time of `repeats` calls)."""
    best = float('inf')
    for _ in range(repeats):
        start = time.time()
        out = fn()
        best = min(best, time.time() - start)
    return out, best


def pool_like(rs, n, shift, basis):
    z = rs.randn(n, basis.shape[0]).astype(np.float32) + shift
    return np.maximum(z @ basis + 0.05 * rs.randn(n, basis.shape[1]).astype(np.float32), 0).astype(np.float32)


def row(name, theirs, ours, same):
    print('%-22s %10.2f s %10.2f s %8.2fx   %s' % (name, theirs, ours, theirs / max(ours, 1e-9),
                                                 'identical' if same else 'DIFFER'))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--evaluator', required=True, help="path of guided-diffusion's evaluations/evaluator.py")
    p.add_argument('--inception', required=True, help='classify_image_graph_def.pb (the real one or a stand-in)')
    p.add_argument('--ref', help='reference batch .npz for the activation stages')
    p.add_argument('--sample', help='sample batch .npz for the activation stages')
    p.add_argument('--pr_n', type=int, default=10000)
    p.add_argument('--pr_m', type=int, default=20000)
    p.add_argument('--repeats', type=int, default=3, help='best of this many calls for the image stages')
    args = p.parse_args()
    evaluator_path, graph = os.path.abspath(args.evaluator), os.path.abspath(args.inception)
    ref, sample = [os.path.abspath(x) if x else None for x in (args.ref, args.sample)]
    from metrics import adm_evaluator_official_tf as adm
    from metrics.adm_pr import adm_precision_recall
    import tensorflow.compat.v1 as tf1
    with tempfile.TemporaryDirectory() as workdir:
        ev = load_evaluator(evaluator_path, graph, workdir)
        config = tf1.ConfigProto(allow_soft_placement=True)
        theirs = ev.Evaluator(tf1.Session(config=config))
        theirs.warmup()
        net = adm.inception_graph(graph)
        net.run_pool_and_spatial(np.zeros([8, 64, 64, 3], np.float32))  # the same warm-up
        print('%-22s %12s %12s %9s' % ('stage', 'evaluator', 'ours', 'ratio'))
        total_theirs = total_ours = 0.0
        if ref and sample:
            for role, path in (('reference', ref), ('sample', sample)):
                acts_t, t_t = timed(lambda: theirs.read_activations(path), args.repeats)
                acts_o, t_o = timed(lambda: adm.activations_of(adm.open_input(path, role), net, progress=False),
                                    args.repeats)
                row('activations ' + role, t_t, t_o, np.array_equal(acts_t[0], acts_o.pool) and
                    np.array_equal(acts_t[1], acts_o.spatial))
                total_theirs, total_ours = total_theirs + t_t, total_ours + t_o
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                stats_t, t_t = timed(lambda: theirs.compute_statistics(acts_t[0]), args.repeats)
                stats_o, t_o = timed(lambda: adm.statistics(acts_o.pool), args.repeats)
            row('statistics', t_t, t_o, np.array_equal(stats_t.mu, stats_o[0]) and
                np.array_equal(stats_t.sigma, stats_o[1]))
            is_t, t_t = timed(lambda: theirs.compute_inception_score(acts_t[0]), args.repeats)
            is_o, t_o = timed(lambda: adm.inception_score(net.probabilities_of(acts_o.pool)), args.repeats)
            row('inception score', t_t, t_o, is_t == is_o)
            total_theirs, total_ours = total_theirs + t_t, total_ours + t_o
        rs = np.random.RandomState(0)
        basis = rs.randn(16, 2048).astype(np.float32) * 0.35
        feats_ref, feats_sample = pool_like(rs, args.pr_n, 0.0, basis), pool_like(rs, args.pr_m, 0.3, basis)
        pr_t, t_t = timed(lambda: theirs.compute_prec_recall(feats_ref, feats_sample))
        pr_o, t_o = timed(lambda: adm_precision_recall(feats_ref, feats_sample))
        row('precision/recall', t_t, t_o, pr_t == (pr_o['precision'], pr_o['recall']))
        print('  %d x %d features, 2048-d: precision %.4f recall %.4f' % (args.pr_n, args.pr_m, *pr_t))
        total_theirs, total_ours = total_theirs + t_t, total_ours + t_o
        row('end to end (stages)', total_theirs, total_ours, True)


if __name__ == '__main__':
    main()
