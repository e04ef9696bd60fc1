"""Precision and recall as OpenAI's ADM evaluator computes them (guided-diffusion `evaluations/evaluator.py`).

The 2019 metric (k = 3, `<=`) on Inception pool_3 features, with the evaluator's own arithmetic:
* distances in blocks of BLOCK x BLOCK (10,000) rows x columns, by the official formula
  max((|u|^2 - 2 u.v) + |v|^2, 0) in float16 (features cast to float16; norms, product and sums in float16),
  widened to float32; a block with any non-finite float16 entry is recomputed whole by the same formula in
  float32 (that block only);
* radii: the 4th smallest distance of each row against its whole set, the row itself included (k = 3 others),
  from row blocks (rows = the set's samples; float16 D(U, V) need not be D(V, U) transposed);
* membership: blocks with the reference as rows and the sample as columns, `<=` against the float32 radii;
  precision = fraction of samples inside some reference ball, recall = fraction of references inside some
  sample ball.
So the block grid and the orientation are part of the numbers, and are kept here.
"""
import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from metrics.distance_block import squared_norms
from metrics.feature_checks import as_feature_matrix

BLOCK = 10000
NHOOD_SIZE = 3


class _Features:
    """A feature set in both precisions the evaluator uses: float16 (first choice) and float32 (fallback)."""

    def __init__(self, features):
        self.n = len(features)
        self.x32 = tf.constant(features)
        self.x16 = tf.cast(self.x32, tf.float16)
        self.norms16 = squared_norms(self.x16)
        self._norms32 = None

    def norms32(self):
        if self._norms32 is None:
            self._norms32 = squared_norms(self.x32)
        return self._norms32


def _distances(U, norm_u, V, norm_v):
    """max((|u|^2 - 2 U V^T) + |v|^2, 0) of one evaluator block: one GEMM of the whole block, as the evaluator's
    graph computes it (a float32 product's last bits can depend on the GEMM's shape)."""
    return tf.maximum(tf.reshape(norm_u, [-1, 1]) - 2 * tf.matmul(U, V, False, True) + tf.reshape(norm_v, [1, -1]),
                      tf.constant(0, U.dtype))


def block_distances(a, i0, i1, b, j0, j1):
    """(float32 distances [i1 - i0, j1 - j0] of rows of a against rows of b, whether float32 was needed)."""
    d16 = _distances(a.x16[i0:i1], a.norms16[i0:i1], b.x16[j0:j1], b.norms16[j0:j1])
    if bool(tf.reduce_all(tf.math.is_finite(d16))):
        return tf.cast(d16, tf.float32), False
    return _distances(a.x32[i0:i1], a.norms32()[i0:i1], b.x32[j0:j1], b.norms32()[j0:j1]), True


def manifold_radii(features, progress=False, desc='radii'):
    """Radii float32 [n]: each row's distance to its NHOOD_SIZE-th nearest other row, as the evaluator's
    ManifoldEstimator.manifold_radii; -> (radii, number of blocks recomputed in float32)."""
    radii, fallbacks = np.zeros([features.n], np.float32), 0
    steps = [(i0, j0) for i0 in range(0, features.n, BLOCK) for j0 in range(0, features.n, BLOCK)]
    smallest = None
    for i0, j0 in tqdm(steps, desc=desc, disable=not progress, leave=False):
        i1, j1 = min(i0 + BLOCK, features.n), min(j0 + BLOCK, features.n)
        D, fell_back = block_distances(features, i0, i1, features, j0, j1)
        fallbacks += fell_back
        count = min(NHOOD_SIZE + 1, j1 - j0)
        top = tf.math.top_k(-D, k=count, sorted=False).values
        smallest = top if j0 == 0 else tf.math.top_k(tf.concat([smallest, top], 1), k=min(
            NHOOD_SIZE + 1, int(smallest.shape[1]) + count), sorted=False).values
        if j1 == features.n:
            radii[i0:i1] = -tf.math.top_k(smallest, k=NHOOD_SIZE + 1, sorted=True).values[:, NHOOD_SIZE].numpy()
    return radii, fallbacks


def membership(ref, ref_radii, sample, sample_radii, progress=False):
    """(sample inside some reference ball bool [M], reference inside some sample ball bool [N], float32 blocks),
    as the evaluator's evaluate_pr: reference rows, sample columns."""
    ref_in, sample_in, fallbacks = np.zeros([ref.n], bool), np.zeros([sample.n], bool), 0
    r_ref, r_sample = tf.constant(ref_radii), tf.constant(sample_radii)
    steps = [(i0, j0) for i0 in range(0, ref.n, BLOCK) for j0 in range(0, sample.n, BLOCK)]
    for i0, j0 in tqdm(steps, desc='precision and recall', disable=not progress, leave=False):
        i1, j1 = min(i0 + BLOCK, ref.n), min(j0 + BLOCK, sample.n)
        D, fell_back = block_distances(ref, i0, i1, sample, j0, j1)
        fallbacks += fell_back
        ref_in[i0:i1] |= tf.reduce_any(D <= r_sample[None, j0:j1], axis=1).numpy()
        sample_in[j0:j1] |= tf.reduce_any(D <= r_ref[i0:i1, None], axis=0).numpy()
    return sample_in, ref_in, fallbacks


def adm_precision_recall(ref_features, sample_features, progress=False):
    """Precision and recall of sample_features [M, d] against ref_features [N, d] as the ADM evaluator.

    Returns {'precision': float, 'recall': float, 'ref_radii': float32 [N], 'sample_radii': float32 [M],
    'sample_in_ref': bool [M] (precision), 'ref_in_sample': bool [N] (recall), 'float32_blocks': int}.
    """
    ref_features = as_feature_matrix(ref_features, 'reference features')
    sample_features = as_feature_matrix(sample_features, 'sample features', ref_features.shape[1])
    for name, x in (('reference', ref_features), ('sample', sample_features)):
        if len(x) <= NHOOD_SIZE:
            raise ValueError('the %s set has %d rows; k = %d needs more' % (name, len(x), NHOOD_SIZE))
    ref, sample = _Features(ref_features), _Features(sample_features)
    ref_radii, f1 = manifold_radii(ref, progress, 'reference radii')
    sample_radii, f2 = manifold_radii(sample, progress, 'sample radii')
    sample_in, ref_in, f3 = membership(ref, ref_radii, sample, sample_radii, progress)
    return {'precision': float(sample_in.mean()), 'recall': float(ref_in.mean()), 'ref_radii': ref_radii,
            'sample_radii': sample_radii, 'sample_in_ref': sample_in, 'ref_in_sample': ref_in,
            'float32_blocks': f1 + f2 + f3}


def adm_statistics(real, fake, nhood_sizes, fields=('inside',)):
    """The per-sample statistics of metrics.manifold_stats (real = reference, fake = sample) under the ADM
    evaluator's arithmetic: 'nhood_sizes', 'real_radii' [N, 1], 'fake_radii' [M, 1], 'fake_in_real' [M, 1],
    'real_in_fake' [N, 1]. ValueError for other k or fields (the evaluator computes neither)."""
    if list(nhood_sizes) != [NHOOD_SIZE] or set(fields) - {'inside'}:
        raise ValueError('the adm convention is the ADM evaluator\'s k = %d membership; it does not compute k = %s '
                         'or %s' % (NHOOD_SIZE, list(nhood_sizes), sorted(set(fields) - {'inside'})))
    pr = adm_precision_recall(real, fake)
    return {'nhood_sizes': [NHOOD_SIZE], 'real_radii': pr['ref_radii'][:, None],
            'fake_radii': pr['sample_radii'][:, None],
            'fake_in_real': pr['sample_in_ref'][:, None], 'real_in_fake': pr['ref_in_sample'][:, None]}
