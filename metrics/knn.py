"""Blocked k-nearest-neighbour machinery shared by every manifold metric.

Two passes, both on squared distances from `DistanceBlock`, never holding more
than one tile x column-batch block:

* `kth_nearest_radii(X)`: squared distance from each row of X to its k-th nearest
  row (the row itself counts as neighbour 0, exactly as the official
  `np.partition(..)[:, k]`). Each symmetric pair of tiles is computed once and
  used for both its rows and (transposed) its columns.
* `cross_evaluate(Q, R)`: one pass over the Q x R distances that answers, per
  query row, "inside some reference sphere?", realism and nearest reference, and,
  when query radii are given, the same for every reference row against the query
  spheres (so precision and recall share one matrix).

k-th smallest values are kept as running sorted top-(k+1) lists merged per block
(`tf.math.top_k`), instead of partitioning full rows.
"""
import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

# float16 unit roundoff 2^-11 times 4: a comparison of squared distances whose two sides differ by less than
# FP16_BAND * (|u|^2 + |v|^2) can come out either way once the terms of |u|^2 - 2 u.v + |v|^2 (or a square root)
# are rounded to float16 (conventions report: "within float16 rounding of the sphere boundary").
FP16_BAND = 4 * 2.0 ** -11
ROW_TILE = 1024  # rows per block; small enough that symmetric tiles save ~40% of the self-distance work


def row_tile_size(row_batch_size):
    """Rows per block: the user's row batch, capped at ROW_TILE (memory stays <= row x col batch)."""
    return max(1, min(int(row_batch_size), ROW_TILE))


def _smallest_sorted(x, count):
    """The `count` smallest values of each row of x [n, m] (m >= count), ascending."""
    return -tf.math.top_k(-x, k=count, sorted=True).values


class _BlockKernels:
    """The per-block computations bound to one DistanceBlock configuration (device placement and dtype).

    They run eagerly: a block is a handful of TensorFlow ops around one large matmul, so dispatching
    them one by one costs microseconds, and there is nothing to trace -- no first-call tracing time
    and no retracing for blocks of other sizes (measured: the first call at N = M = 5000 takes as long
    as later ones, where tf.function tracing added ~0.4 s).
    """

    def __init__(self, block):
        self.block = block

    def self_block(self, Xi, Xj, best_rows, best_cols, col_offset):
        return self._self_block(Xi, Xj, tf.convert_to_tensor(best_rows), tf.convert_to_tensor(best_cols),
                                col_offset)

    def cross_block(self, Q, R, ref_radii, query_radii, eps, realism, neighbors, strict, extras, margins=False):
        return self._cross_block(Q, R, tf.convert_to_tensor(ref_radii),
                                 None if query_radii is None else tf.convert_to_tensor(query_radii), eps,
                                 bool(realism), bool(neighbors), bool(strict), bool(extras), bool(margins))

    def _distances(self, U, V):
        """(distances in the comparison dtype, all finite): float16 blocks are widened (exactly) to float32."""
        D, ok = self.block.checked_distances(*U[:2], *V[:2], *((U[2], V[2]) if len(U) > 2 else ()))
        return (tf.cast(D, tf.float32) if D.dtype == tf.float16 else D), ok

    def _self_block(self, Xi, Xj, best_rows, best_cols, col_offset):
        """Merge one self-distance block into the running top lists of its rows and, transposed, its columns.

        Xi, Xj: (features, squared norms[, content ids]) of the block's rows and columns.
        """
        count = best_rows.shape[1]
        D, ok = self._distances(Xi, Xj)
        new_rows = _smallest_sorted(tf.concat([best_rows, D], axis=1), count)
        D_cols = tf.transpose(D[:, col_offset:])
        new_cols = _smallest_sorted(tf.concat([best_cols, D_cols], axis=1), count)
        return new_rows, new_cols, ok

    def _cross_block(self, Q, R, ref_radii, query_radii, eps, realism, neighbors, strict, extras, margins=False):
        """Reductions of one query x reference block; query_radii None skips the reverse direction.

        Q, R: (features, squared norms[, content ids]) of the block's query rows and reference columns.
        strict: compare with '<' (prdc, ManifoldMetric) instead of the official '<='.
        extras: also density counts, coverage of reference rows and complement precision.
        margins: also per row min (D - r) (0 = decided by an exact tie) and min (D - r) / band, where
            band = FP16_BAND * (|q|^2 + |r|^2) is the float16 rounding scale of that comparison.
        """
        D, ok = self._distances(Q, R)
        inside = tf.less if strict else tf.less_equal
        num_k = ref_radii.shape[1]
        in_ref_spheres = [inside(D, ref_radii[None, :, k]) for k in range(num_k)]  # [t, c] each
        out = {'query_in': tf.stack([tf.reduce_any(m, axis=1) for m in in_ref_spheres], axis=1), 'finite': ok}
        if extras:
            out['query_count'] = tf.stack([tf.reduce_sum(tf.cast(m, tf.int32), axis=1) for m in in_ref_spheres], 1)
            out['ref_covered'] = tf.stack([tf.reduce_any(m, axis=0) for m in in_ref_spheres], axis=1)
        if margins:
            band = FP16_BAND * (tf.cast(Q[1], D.dtype)[:, None] + tf.cast(R[1], D.dtype)[None, :])
            gaps = [D - ref_radii[None, :, k] for k in range(num_k)]
            out['query_gap'] = tf.stack([tf.reduce_min(g, axis=1) for g in gaps], axis=1)
            out['query_band'] = tf.stack([tf.reduce_min(g / band, axis=1) for g in gaps], axis=1)
        if realism:
            out['query_realism'] = tf.reduce_max(ref_radii[None, :, 0] / (D + eps), axis=1)
        if neighbors:
            out['query_nn'] = tf.argmin(D, axis=1, output_type=tf.int32)
            out['query_nn_dist'] = tf.reduce_min(D, axis=1)
        if query_radii is not None:
            in_query_spheres = [inside(D, query_radii[:, k, None]) for k in range(query_radii.shape[1])]
            out['ref_in'] = tf.stack([tf.reduce_any(m, axis=0) for m in in_query_spheres], axis=1)
            if extras:
                out['query_comp'] = tf.stack([tf.reduce_any(m, axis=1) for m in in_query_spheres], axis=1)
            if margins:
                gaps = [D - query_radii[:, k, None] for k in range(query_radii.shape[1])]
                out['ref_gap'] = tf.stack([tf.reduce_min(g, axis=0) for g in gaps], axis=1)
                out['ref_band'] = tf.stack([tf.reduce_min(g / band, axis=0) for g in gaps], axis=1)
            if realism:
                out['ref_realism'] = tf.reduce_max(query_radii[:, 0, None] / (D + eps), axis=0)
            if neighbors:
                out['ref_nn'] = tf.argmin(D, axis=0, output_type=tf.int32)
                out['ref_nn_dist'] = tf.reduce_min(D, axis=0)
        return out


def _kernels(block):
    """The block computations of `block` (eager: nothing is traced or cached)."""
    return _BlockKernels(block)


RESIDENT_BYTES_LIMIT = 8 << 30  # feature sets up to this size get a device copy; larger ones are streamed


class PreparedFeatures:
    """Features in the block dtype, with squared norms, for repeated blocking.

    A set of at most RESIDENT_BYTES_LIMIT bytes is converted once and kept as a tensor
    (one copy, on the device: fastest). A larger set stays in host memory and each block's
    rows are converted when used, so extra memory stays bounded by the batch sizes. Both
    give the same values.
    """

    def __init__(self, block, features, resident=None, ids=None):
        self.n = int(features.shape[0])
        self.block = block
        if resident is None:
            resident = features.shape[0] * features.shape[1] * block.tf_dtype.size <= RESIDENT_BYTES_LIMIT
        self.resident = resident
        self.x, self.norms = block.prepare(features, keep=resident)
        self.host = None if resident else features
        if block.exact_ties and ids is None:
            raise ValueError('an exact_ties DistanceBlock needs content ids of the rows (see content_ids)')
        self.ids = None if not block.exact_ties else tf.constant(np.asarray(ids, np.int64))

    def rows(self, begin, end):
        """(features, squared norms[, content ids]) of rows begin..end-1."""
        extra = () if self.ids is None else (self.ids[begin:end],)
        if self.resident:
            return (self.x[begin:end], self.norms[begin:end]) + extra
        return (tf.cast(tf.convert_to_tensor(self.host[begin:end]), self.block.tf_dtype),
                self.norms[begin:end]) + extra


def content_ids(*feature_sets):
    """int64 ids [n_i] per set: equal ids exactly for equal rows, across all the given sets.

    Rows are told apart by a 128-bit BLAKE2b digest of their bytes (a collision is not a practical
    concern), so no [n, d] copy of the data is kept.
    """
    import hashlib
    table, out = {}, []
    for features in feature_sets:
        x = np.ascontiguousarray(features)
        ids = np.empty(len(x), np.int64)
        for i, row in enumerate(x):
            ids[i] = table.setdefault(hashlib.blake2b(row.tobytes(), digest_size=16).digest(), len(table))
        out.append(ids)
    return out


def _prepared(block, features):
    return features if isinstance(features, PreparedFeatures) else PreparedFeatures(block, features)


def kth_nearest_radii(block, features, nhood_sizes, row_batch_size, col_batch_size, progress=False,
                      desc='k-NN radii'):
    """Squared k-NN radius of every row of `features` for each k in `nhood_sizes`.

    Args:
        block: DistanceBlock.
        features: float32 array [n, d], or PreparedFeatures made with `block`.
        nhood_sizes: list of ints, each 1 <= k < n.
    Returns:
        np.ndarray [n, len(nhood_sizes)], float32 (float16 when the block is
        float16, like the pre-2021 official radii): column j holds the squared
        distance to the nhood_sizes[j]-th nearest other row (self is neighbour 0).
    """
    features = _prepared(block, features)
    n = features.n
    count = max(nhood_sizes) + 1
    tile = row_tile_size(row_batch_size)
    col_batch_size = max(int(col_batch_size), 1)
    best = np.full([n, count], np.inf, dtype=compare_dtype(block))
    kernels = _kernels(block)
    steps = [(i0, j0) for i0 in range(0, n, tile) for j0 in range(i0, n, col_batch_size)]
    for i0, j0 in tqdm(steps, desc=desc, disable=not progress, leave=False):
        i1 = min(i0 + tile, n)
        j1 = min(j0 + col_batch_size, n)
        col_offset = max(i1 - j0, 0)  # columns before this belong to the diagonal tile (already rows)
        rows, cols, ok = kernels.self_block(features.rows(i0, i1), features.rows(j0, j1), best[i0:i1],
                                            best[j0 + col_offset:j1], col_offset)
        _raise_unless_finite(block, ok)
        best[i0:i1] = rows.numpy()
        best[j0 + col_offset:j1] = cols.numpy()
    radii = best[:, list(nhood_sizes)]
    return radii.astype(np.float16) if block.dtype == 'float16' else radii


def _raise_unless_finite(block, ok):
    """A float16 block whose arithmetic overflowed gives wrong distances (the pre-2021 code silently): refuse."""
    if not bool(ok):
        raise ValueError("dtype='%s': the distance arithmetic overflowed (a squared norm, 2 u.v or a squared distance "
                         "above the %s maximum); these features cannot be evaluated in %s -- use dtype='float32'"
                         % (block.dtype, block.dtype, block.dtype))


def compare_dtype(block):
    """numpy dtype in which distances are compared: float32 for float16/float32 blocks, float64 for float64."""
    return np.float64 if block.dtype == 'float64' else np.float32


def cross_evaluate(block, query, ref, ref_radii, query_radii=None, eps=1e-5, realism=False,
                   neighbors=False, row_batch_size=10000, col_batch_size=50000, progress=False,
                   desc='manifold membership', strict=False, extras=False, margins=False):
    """Test query rows against reference spheres (and, optionally, reference rows against query spheres).

    Args:
        block: DistanceBlock.
        query, ref: float32 arrays [m, d], [n, d], or PreparedFeatures made with `block`.
        ref_radii: [n, K] squared radii of the reference rows.
        query_radii: None, or [m, K] squared radii of the query rows for the reverse test.
        eps: added to the squared distance in the realism ratio (official 1e-5).
        realism, neighbors: also compute realism scores / nearest-neighbour indices.
        strict: sphere membership by d < r (prdc, ManifoldMetric) instead of d <= r (official).
        extras: also 'query_count' int32 [m, K] (reference spheres containing each query: density),
            'ref_covered' bool [n, K] (some query inside the reference sphere: coverage) and, with
            query_radii, 'query_comp' bool [m, K] (some reference inside the query's sphere).
        margins: also 'query_gap' [m, K] = min_j (d - ref_radii[j]) (<= 0: inside; == 0: decided by an
            exact tie) and 'query_band' [m, K] = the same in units of the float16 rounding scale
            FP16_BAND * (|q|^2 + |r_j|^2); with query_radii, 'ref_gap' and 'ref_band' [n, K].
    Returns:
        dict with 'query_in' bool [m, K] (some ref j has d(q, r_j) <= ref_radii[j, k]),
        'query_realism' [m] = max_j ref_radii[j, 0] / (d + eps), 'query_nn' int32 [m] and
        'query_nn_dist' [m] (first index of the minimum and its squared distance); and 'ref_in' [n, K],
        'ref_realism' [n], 'ref_nn', 'ref_nn_dist' [n] for the reverse direction when query_radii is
        given. Realism/nn keys only when asked.
    """
    query, ref = _prepared(block, query), _prepared(block, ref)
    m, n = query.n, ref.n
    dtype = compare_dtype(block)
    ref_radii = np.asarray(ref_radii, dtype=dtype)
    reverse = query_radii is not None
    if reverse:
        query_radii = np.asarray(query_radii, dtype=dtype)
    num_k = ref_radii.shape[1]
    tile = row_tile_size(row_batch_size)
    col_batch_size = max(int(col_batch_size), 1)
    kernels = _kernels(block)
    eps_t = tf.constant(eps, tf.as_dtype(dtype))

    acc = {'query_in': np.zeros([m, num_k], bool)}
    if extras:
        acc['query_count'] = np.zeros([m, num_k], np.int64)
        acc['ref_covered'] = np.zeros([n, num_k], bool)
    if margins:
        for side, size, count in [('query', m, num_k)] + ([('ref', n, query_radii.shape[1])] if reverse else []):
            acc[side + '_gap'] = np.full([size, count], np.inf, dtype)
            acc[side + '_band'] = np.full([size, count], np.inf, dtype)
    sides = [('query', m)] + ([('ref', n)] if reverse else [])
    for side, size in sides:
        if reverse and side == 'ref':
            acc['ref_in'] = np.zeros([n, query_radii.shape[1]], bool)
            if extras:
                acc['query_comp'] = np.zeros([m, query_radii.shape[1]], bool)
        if realism:
            acc[side + '_realism'] = np.full([size], -np.inf, dtype)
        if neighbors:
            acc[side + '_nn'] = np.zeros([size], np.int32)
            acc[side + '_nn_dist'] = np.full([size], np.inf, dtype)

    steps = [(i0, j0) for i0 in range(0, m, tile) for j0 in range(0, n, col_batch_size)]
    for i0, j0 in tqdm(steps, desc=desc, disable=not progress, leave=False):
        i1 = min(i0 + tile, m)
        j1 = min(j0 + col_batch_size, n)
        out = kernels.cross_block(query.rows(i0, i1), ref.rows(j0, j1), ref_radii[j0:j1],
                                  query_radii[i0:i1] if reverse else None, eps_t, realism, neighbors,
                                  bool(strict), bool(extras), bool(margins))
        out = {key: value.numpy() for key, value in out.items()}
        _raise_unless_finite(block, out.pop('finite'))
        rows, cols = slice(i0, i1), slice(j0, j1)
        _accumulate(acc, 'query', rows, out, j0, realism, neighbors)
        if extras:
            acc['query_count'][rows] += out['query_count']
            acc['ref_covered'][cols] |= out['ref_covered']
        if margins:
            for key in ('query_gap', 'query_band'):
                np.minimum(acc[key][rows], out[key], out=acc[key][rows])
            if reverse:
                for key in ('ref_gap', 'ref_band'):
                    np.minimum(acc[key][cols], out[key], out=acc[key][cols])
        if reverse:
            _accumulate(acc, 'ref', cols, out, i0, realism, neighbors)
            if extras:
                acc['query_comp'][rows] |= out['query_comp']
    return acc


def _accumulate(acc, side, rows, out, index_offset, realism, neighbors):
    """Fold one block's reductions for `side` rows into the running results (first index wins ties)."""
    acc[side + '_in'][rows] |= out[side + '_in']
    if realism:
        np.maximum(acc[side + '_realism'][rows], out[side + '_realism'], out=acc[side + '_realism'][rows])
    if neighbors:
        better = out[side + '_nn_dist'] < acc[side + '_nn_dist'][rows]
        acc[side + '_nn_dist'][rows] = np.where(better, out[side + '_nn_dist'], acc[side + '_nn_dist'][rows])
        acc[side + '_nn'][rows] = np.where(better, out[side + '_nn'] + index_offset, acc[side + '_nn'][rows])
