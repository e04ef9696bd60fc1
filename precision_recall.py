"""k-NN precision, recall and realism score (Kynkaanniemi et al. 2019), TensorFlow 2 port.

Same public API, defaults and numbers as the official `precision_recall.py`
(kynkaat/improved-precision-and-recall-metric):

* squared Euclidean distances max((|u|^2 - 2 u.v) + |v|^2, 0) in float32;
* k-NN radius = squared distance to the k-th nearest *other* sample (the sample
  itself is neighbour 0, no explicit self-exclusion);
* a sample is inside the manifold iff d^2 <= radius^2 for some reference sample (`<=`);
* realism = max_j radius_j^2 / (d_j^2 + 1e-5) over the first k in `nhood_sizes`
  (the square of the paper's ratio; same ranking);
* `clamp_to_percentile=p` sets radii strictly above the p-th percentile to 0.

`dtype='float16'` reproduces the official code before 2021-10-25, which fed
features to float16 placeholders and stored radii in float16.

What differs (same answers, less work): each symmetric pair of self-distance
tiles is computed once, precision and recall share one eval x ref distance
matrix, and the k-th neighbours are selected per block with `tf.math.top_k`.
The column split over `num_gpus` devices need not be even.

Command line (a feature file is an .npy [N, d], an .npz of one array, or FILE.npz:KEY):
    python precision_recall.py REF_FEATURES EVAL_FEATURES [--nhood_sizes 3 5] [--dtype float32]
"""
import sys
import time

from dnnlib.native_settings import apply_native_settings

apply_native_settings()  # the library's own speed settings, for those of NumPy/TensorFlow not loaded yet

if __name__ == '__main__':  # a command-line run: TensorFlow without its C++ log lines
    from dnnlib.tf_logging import quiet_tensorflow
    quiet_tensorflow()

import numpy as np  # noqa: E402

from metrics import convention as conventions  # noqa: E402
from metrics.distance_block import DistanceBlock, batch_pairwise_distances  # noqa: F401  (official API)
from metrics.feature_checks import as_feature_matrix, as_nhood_sizes, check_distance_range  # noqa: E402
from metrics.knn import PreparedFeatures, Spheres, kth_nearest_radii, membership_pass  # noqa: E402
from metrics.manifold_stats import checked_sets, shared_norms, statistics_of_checked  # noqa: E402
from metrics.options import DEFAULT, Options  # noqa: E402

__all__ = ['batch_pairwise_distances', 'DistanceBlock', 'ManifoldEstimator', 'knn_precision_recall_features']

# The one place where the pipeline's real/fake vocabulary meets the official names: real = ref, fake = eval.
OFFICIAL_NAMES = {'real_radii': 'ref_radii', 'fake_radii': 'eval_radii', 'fake_realism': 'precision_realism',
                  'real_realism': 'recall_realism', 'fake_nn': 'precision_nn', 'real_nn': 'recall_nn'}


def official_fields(realism, neighbors):
    """Side fields of the membership pass that the official outputs read (metrics.knn.SIDE_FIELDS)."""
    return ('inside',) + ('realism',) * bool(realism) + ('nn',) * bool(neighbors)


class ManifoldEstimator:
    """Estimates the manifold of given feature vectors by k-NN spheres.

    Args:
        distance_block: DistanceBlock (its dtype decides float32 / float16 numerics).
        features: float array [N, d], finite.
        row_batch_size, col_batch_size: block sizes; memory stays O(row x col), results do not depend on them.
        nhood_sizes: list of k values, each 1 <= k < N.
        clamp_to_percentile: None or p in [0, 100]; radii above the p-th percentile (per k) are set to 0.
        eps: added to squared distances in the realism score.
        progress: show tqdm progress bars.
    Attributes:
        D: [N, len(nhood_sizes)] squared k-NN radii, float32 (float16 for a float16 block).
    """

    def __init__(self, distance_block, features, row_batch_size=25000, col_batch_size=50000,
                 nhood_sizes=[3], clamp_to_percentile=None, eps=1e-5, progress=False):
        features = as_feature_matrix(features, 'features', distance_block.num_features)
        norms = shared_norms(distance_block, features)
        check_distance_range([features], distance_block.dtype, norms)
        self.nhood_sizes = as_nhood_sizes(nhood_sizes, features.shape[0], 'features')
        self.num_nhoods = len(self.nhood_sizes)
        self.eps = eps
        self.options = Options(num_gpus=distance_block.num_gpus, row_batch_size=row_batch_size,
                               col_batch_size=col_batch_size, progress=progress)
        self.row_batch_size, self.col_batch_size = self.options.row_batch_size, self.options.col_batch_size
        self._ref_features = features
        self.distance_block = distance_block
        self._prepared = PreparedFeatures(distance_block, features, norms=None if norms is None else norms[0])
        self.D = kth_nearest_radii(distance_block, self._prepared, self.nhood_sizes, self.options)
        if clamp_to_percentile is not None:
            if not 0 <= clamp_to_percentile <= 100:
                raise ValueError('clamp_to_percentile must be in [0, 100], got %r' % (clamp_to_percentile,))
            max_distances = np.percentile(self.D, clamp_to_percentile, axis=0)
            self.D[self.D > max_distances] = 0

    def evaluate(self, eval_features, return_realism=False, return_neighbors=False):
        """Which eval samples lie inside the estimated manifold.

        Args:
            eval_features: float array [M, d].
        Returns:
            batch_predictions int32 [M, num_nhoods] (1 = inside); then, if asked,
            realism scores float32 [M] and nearest reference indices int32 [M],
            in the official order (pred, realism, nn).
        """
        eval_features = as_feature_matrix(eval_features, 'eval_features', self.distance_block.num_features)
        norms = shared_norms(self.distance_block, eval_features)
        check_distance_range([eval_features], self.distance_block.dtype, norms)
        points = PreparedFeatures(self.distance_block, eval_features, norms=None if norms is None else norms[0])
        evl, _ = membership_pass(self.distance_block, Spheres(points, None), Spheres(self._prepared, self.D),
                                 conventions.official(self.distance_block.dtype), self.options,
                                 official_fields(return_realism, return_neighbors), self.eps)
        outputs = (evl.inside.astype(np.int32),)
        if return_realism:
            outputs += (evl.realism,)
        if return_neighbors:
            outputs += (evl.nn,)
        return outputs[0] if len(outputs) == 1 else outputs


def knn_precision_recall_features(ref_features, eval_features, nhood_sizes=[3], row_batch_size=10000,
                                  col_batch_size=50000, num_gpus=1, dtype='float32', progress=False, verbose=True):
    """k-NN precision and recall of eval_features [M, d] against ref_features [N, d].

    Returns the official dict: {'precision': float64 [K], 'recall': float64 [K]}
    (fractions in [0, 1], one per k in nhood_sizes).
    """
    options = Options(num_gpus=num_gpus, row_batch_size=row_batch_size, col_batch_size=col_batch_size,
                      progress=progress)
    details = knn_precision_recall_details(ref_features, eval_features, nhood_sizes, dtype, options=options,
                                           verbose=verbose)
    return {'precision': details['precision'], 'recall': details['recall']}


def knn_precision_recall_details(ref_features, eval_features, nhood_sizes=[3], dtype='float32', options=DEFAULT,
                                 realism=False, neighbors=False, verbose=True):
    """Like `knn_precision_recall_features`, plus the per-sample arrays; `dtype` is a distance dtype (the official
    convention in it) or any metrics.convention.Convention (a value or its name).

    Returns a dict with 'precision', 'recall' (float64 [K]); 'ref_radii' [N, K],
    'eval_radii' [M, K]; 'precision_pred' int32 [M, K] (eval sample inside the
    ref manifold), 'recall_pred' int32 [N, K]; with realism/neighbors also
    'precision_realism' [M], 'recall_realism' [N], 'precision_nn' [M], 'recall_nn' [N].
    """
    convention = conventions.convention(dtype)
    ref, evl, nhood_sizes = checked_sets(ref_features, eval_features, nhood_sizes, convention,
                                         names=('ref_features', 'eval_features'))
    if verbose:
        counts = '%i' % len(ref) if len(ref) == len(evl) else '%i real and %i generated' % (len(ref), len(evl))
        print('Evaluating k-NN precision and recall with %s samples...' % counts)
    start = time.time()
    stats = statistics_of_checked(ref, evl, nhood_sizes, convention, options, official_fields(realism, neighbors))
    precision_pred = stats['fake_in_real'].astype(np.int32)
    recall_pred = stats['real_in_fake'].astype(np.int32)
    details = {'precision': precision_pred.mean(axis=0), 'recall': recall_pred.mean(axis=0),
               'precision_pred': precision_pred, 'recall_pred': recall_pred}
    details.update((official, stats[ours]) for ours, official in OFFICIAL_NAMES.items() if ours in stats)
    for problem in ('resolution', 'overflow'):  # the arithmetic could not resolve / represent the features (warned)
        if problem in stats:
            details[problem] = stats[problem]
    if verbose:
        print('Evaluated k-NN precision and recall in: %gs' % (time.time() - start))
    return details


def main(argv=None):
    """Command line: print precision and recall (one line per k) of two feature files -> exit status."""
    import argparse
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('ref_features', help='real features [N, d]: .npy, an .npz of one array, or FILE.npz:KEY')
    p.add_argument('eval_features', help='generated features [M, d], given the same way')
    p.add_argument('--nhood_sizes', type=int, nargs='+', default=[3], help='k values (default 3)')
    p.add_argument('--dtype', choices=conventions.DTYPES, default='float32',
                   help='distance arithmetic: float32 (official), float16 (official before 2021-10), float64')
    args = p.parse_args(argv)
    try:
        ref, evl = _read_features(args.ref_features), _read_features(args.eval_features)
        state = knn_precision_recall_features(ref, evl, args.nhood_sizes, dtype=args.dtype, progress=True)
    except (ValueError, FileNotFoundError) as e:
        print('error: %s' % e, file=sys.stderr)
        return 2
    for k, precision, recall in zip(args.nhood_sizes, state['precision'], state['recall']):
        print('k=%d  Precision: %0.4f  Recall: %0.4f' % (k, precision, recall))
    return 0


def _read_features(spec):
    """The array of a feature file given on the command line (sizes checked before reading)."""
    import os
    from dnnlib.array_files import load_array_file
    path, key = (spec.rsplit(':', 1) if not os.path.exists(spec) and ':' in os.path.basename(spec) else (spec, None))
    data = load_array_file(path, 'feature file')
    if not isinstance(data, np.lib.npyio.NpzFile):
        return data
    with data:
        if key is None and len(data.files) != 1:
            raise ValueError('%s holds %s: name the array as %s:KEY' % (path, data.files, path))
        if (key or data.files[0]) not in data.files:
            raise ValueError('%s has no array %r (it holds %s)' % (path, key, data.files))
        return data[key or data.files[0]]


if __name__ == '__main__':
    sys.exit(main())
