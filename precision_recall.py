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
"""
import time

import numpy as np

from metrics.distance_block import DistanceBlock, batch_pairwise_distances  # noqa: F401  (official API)
from metrics.feature_checks import as_batch_size, as_feature_matrix, as_nhood_sizes, check_distance_range
from metrics.knn import PreparedFeatures, cross_evaluate, kth_nearest_radii

__all__ = ['batch_pairwise_distances', 'DistanceBlock', 'ManifoldEstimator', 'knn_precision_recall_features']


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
        check_distance_range([features], distance_block.dtype)
        self.nhood_sizes = as_nhood_sizes(nhood_sizes, features.shape[0], 'features')
        self.num_nhoods = len(self.nhood_sizes)
        self.eps = eps
        self.row_batch_size = as_batch_size(row_batch_size, 'row_batch_size')
        self.col_batch_size = as_batch_size(col_batch_size, 'col_batch_size')
        self._ref_features = features
        self.distance_block = distance_block
        self.progress = progress
        self._prepared = PreparedFeatures(distance_block, features)
        self.D = kth_nearest_radii(distance_block, self._prepared, self.nhood_sizes, self.row_batch_size,
                                   self.col_batch_size, progress=progress)
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
        check_distance_range([eval_features], self.distance_block.dtype)
        result = cross_evaluate(self.distance_block, eval_features, self._prepared, self.D, eps=self.eps,
                                realism=return_realism, neighbors=return_neighbors,
                                row_batch_size=self.row_batch_size, col_batch_size=self.col_batch_size,
                                progress=self.progress)
        outputs = (result['query_in'].astype(np.int32),)
        if return_realism:
            outputs += (result['query_realism'],)
        if return_neighbors:
            outputs += (result['query_nn'],)
        return outputs[0] if len(outputs) == 1 else outputs


def knn_precision_recall_features(ref_features, eval_features, nhood_sizes=[3], row_batch_size=10000,
                                  col_batch_size=50000, num_gpus=1, dtype='float32', progress=False, verbose=True):
    """k-NN precision and recall of eval_features [M, d] against ref_features [N, d].

    Returns the official dict: {'precision': float64 [K], 'recall': float64 [K]}
    (fractions in [0, 1], one per k in nhood_sizes).
    """
    details = knn_precision_recall_details(ref_features, eval_features, nhood_sizes, row_batch_size,
                                           col_batch_size, num_gpus, dtype, progress, verbose=verbose)
    return {'precision': details['precision'], 'recall': details['recall']}


def knn_precision_recall_details(ref_features, eval_features, nhood_sizes=[3], row_batch_size=10000,
                                 col_batch_size=50000, num_gpus=1, dtype='float32', progress=False,
                                 realism=False, neighbors=False, verbose=True):
    """Like `knn_precision_recall_features`, plus the per-sample arrays.

    Returns a dict with 'precision', 'recall' (float64 [K]); 'ref_radii' [N, K],
    'eval_radii' [M, K]; 'precision_pred' int32 [M, K] (eval sample inside the
    ref manifold), 'recall_pred' int32 [N, K]; with realism/neighbors also
    'precision_realism' [M], 'recall_realism' [N], 'precision_nn' [M], 'recall_nn' [N].
    """
    ref_features = as_feature_matrix(ref_features, 'ref_features')
    eval_features = as_feature_matrix(eval_features, 'eval_features', ref_features.shape[1])
    nhood_sizes = as_nhood_sizes(nhood_sizes, ref_features.shape[0], 'ref_features')
    as_nhood_sizes(nhood_sizes, eval_features.shape[0], 'eval_features')
    row_batch_size = as_batch_size(row_batch_size, 'row_batch_size')
    col_batch_size = as_batch_size(col_batch_size, 'col_batch_size')
    block = DistanceBlock(ref_features.shape[1], num_gpus, dtype)
    check_distance_range([ref_features, eval_features], dtype)

    if verbose:
        counts = ('%i' % ref_features.shape[0] if ref_features.shape[0] == eval_features.shape[0] else
                  '%i real and %i generated' % (ref_features.shape[0], eval_features.shape[0]))
        print('Evaluating k-NN precision and recall with %s samples...' % counts)
    start = time.time()
    ref = PreparedFeatures(block, ref_features)
    evl = PreparedFeatures(block, eval_features)
    ref_radii = kth_nearest_radii(block, ref, nhood_sizes, row_batch_size, col_batch_size, progress, 'ref radii')
    eval_radii = kth_nearest_radii(block, evl, nhood_sizes, row_batch_size, col_batch_size, progress, 'eval radii')
    cross = cross_evaluate(block, evl, ref, ref_radii, eval_radii, realism=realism, neighbors=neighbors,
                           row_batch_size=row_batch_size, col_batch_size=col_batch_size, progress=progress,
                           desc='precision/recall')
    precision_pred = cross['query_in'].astype(np.int32)
    recall_pred = cross['ref_in'].astype(np.int32)
    details = {'precision': precision_pred.mean(axis=0), 'recall': recall_pred.mean(axis=0),
               'ref_radii': ref_radii, 'eval_radii': eval_radii,
               'precision_pred': precision_pred, 'recall_pred': recall_pred}
    if realism:
        details['precision_realism'] = cross['query_realism']
        details['recall_realism'] = cross['ref_realism']
    if neighbors:
        details['precision_nn'] = cross['query_nn']
        details['recall_nn'] = cross['ref_nn']
    if verbose:
        print('Evaluated k-NN precision and recall in: %gs' % (time.time() - start))
    return details
