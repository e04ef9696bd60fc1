"""Blocked k-nearest-neighbour machinery shared by every manifold metric.

Two passes, both on squared distances from `DistanceBlock`, never holding more
than one tile x column-batch block:

* `kth_nearest_radii(X)`: squared distance from each row of X to its k-th nearest
  row (the row itself counts as neighbour 0, exactly as the official
  `np.partition(..)[:, k]`). Each symmetric pair of tiles is computed once and
  used for both its rows and (transposed) its columns.
* `membership_pass(a, b)`: one pass over the A x B distances that answers, for the rows
  of both sets alike, "inside some sphere of the other set?" and the other per-row
  statistics of `Side` (so precision and recall share one matrix). The pass does not
  know which set is real: callers name the sides.

k-th smallest values are kept as running sorted top-(k+1) lists merged per block
(metrics.top_values), instead of partitioning full rows.
"""
import collections
import hashlib

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from metrics import gemm as gemms
from metrics.convention import array_dtype
from metrics.options import DEFAULT
from metrics.top_values import smallest, smallest_per_column, smallest_per_row

# float16 unit roundoff 2^-11 times 4: a comparison of squared distances whose two sides differ by less than
# FP16_BAND * (|u|^2 + |v|^2) can come out either way once the terms of |u|^2 - 2 u.v + |v|^2 (or a square root)
# are rounded to float16 (conventions report: "within float16 rounding of the sphere boundary").
FP16_BAND = 4 * 2.0 ** -11
ROW_TILE = 1024  # rows per block; small enough that symmetric tiles save ~40% of the self-distance work


def row_tile_size(row_batch_size):
    """Rows per block: the user's row batch, capped at ROW_TILE (memory stays <= row x col batch)."""
    return max(1, min(int(row_batch_size), ROW_TILE))


def _merged(best, new, count):
    """The `count` smallest values of each row of [best, new], ascending.

    best: [n, count] ascending running lists; new: [n, c] a block's candidates (its own smallest values,
    metrics.top_values), so the full block is never copied or negated.
    """
    return smallest(tf.concat([best, new], axis=1), count, ascending=True)


RESIDENT_BYTES_LIMIT = 8 << 30  # feature sets up to this size get a device copy; larger ones are streamed


class PreparedFeatures:
    """Features in the block dtype, with squared norms, for repeated blocking.

    For a block whose GEMMs NumPy does (or may do: gemm 'auto', still undecided), the features stay a host
    array (no copy when they already are a C-contiguous array of the block dtype; a set above
    RESIDENT_BYTES_LIMIT is converted per block) and
    blocks are views of it. Otherwise a set of at most RESIDENT_BYTES_LIMIT bytes is converted once and
    kept as a tensor (one copy, on the device: fastest); a larger set stays in host memory and each
    block's rows are converted when used, so extra memory stays bounded by the batch sizes. Norms are
    computed by the library that does the products, so a TensorFlow pass has exactly the official
    operands whichever form the set is held in.
    """

    def __init__(self, block, features, resident=None, ids=None, norms=None):
        self.n = int(features.shape[0])
        self.block = block
        if resident is None:
            resident = features.shape[0] * features.shape[1] * block.tf_dtype.size <= RESIDENT_BYTES_LIMIT
        self.resident = resident
        self._x, self._norms = None, {}
        if block.gemm != 'tensorflow':  # converted once when resident, else per block (as a streamed tensor set)
            self.host = np.ascontiguousarray(features, block.tf_dtype.as_numpy_dtype) if resident else features
            if norms is not None:  # the caller's host_norms of these features (metrics.manifold_stats)
                self._norms['numpy'] = norms
        else:
            self.host = None if resident else features
            self._x, self._norms['tensorflow'] = block.prepare(features, keep=resident)
        if block.exact_ties and ids is None:
            raise ValueError('an exact_ties DistanceBlock needs content ids of the rows (see content_ids)')
        self.ids = None if not block.exact_ties else tf.constant(np.asarray(ids, np.int64))
        self._fingerprints = None

    def norms(self, gemm):
        """Squared norms [n] as the given GEMM library's pass uses them (NumPy array or tensor)."""
        if gemm not in self._norms:
            if gemm == 'numpy':
                self._norms[gemm] = host_norms(self.host, self.block.tf_dtype.as_numpy_dtype)
            else:  # a host-held set in a TensorFlow pass: convert once
                self._x, self._norms[gemm] = self.block.prepare(self.host, keep=self.resident)
        return self._norms[gemm]

    def rows(self, begin, end, gemm='tensorflow'):
        """(features, squared norms[, content ids]) of rows begin..end-1: NumPy views for gemm='numpy'
        (host-held sets only), else tensors."""
        norms = self.norms(gemm)[begin:end]
        extra = () if self.ids is None else (self.ids[begin:end],)
        if gemm == 'numpy':
            return (self.host_rows(begin, end), norms) + extra
        if self.resident:
            return (self._x[begin:end], norms) + extra
        return (tf.cast(tf.convert_to_tensor(self.host[begin:end]), self.block.tf_dtype), norms) + extra

    def host_rows(self, begin, end):
        """Rows begin..end-1 of a host-held set as a C-contiguous array of the block dtype (a view if possible)."""
        return np.ascontiguousarray(self.host[begin:end], self.block.tf_dtype.as_numpy_dtype)

    def fingerprints(self, chunk_rows=1024):
        """uint64 [n]: the sum of the bit patterns (after -0.0 -> +0.0) of each row's `fingerprint_columns`, modulo
        2^32 (float32) or 2^64. Rows of equal values have equal fingerprints (integer sums do not depend on
        order); others rarely do, and `shares_rows` then compares them whole."""
        if self._fingerprints is None:
            dtype = self.block.tf_dtype.as_numpy_dtype
            bits_type = np.uint32 if np.dtype(dtype).itemsize == 4 else np.uint64
            out = np.empty(self.n, np.uint64)
            for begin in range(0, self.n, chunk_rows):
                sampled = fingerprint_columns(self.host[begin:begin + chunk_rows])
                bits = (sampled.astype(dtype, copy=False) + dtype(0)).view(bits_type)
                out[begin:begin + chunk_rows] = bits.sum(axis=1, dtype=bits_type)
            self._fingerprints = out
        return self._fingerprints


FINGERPRINT_STRIDE, FINGERPRINT_RUN = 256, 16


def fingerprint_columns(x):
    """The columns of x [r, d] a row fingerprint sums -> [r, <= d]: the first FINGERPRINT_RUN of every
    FINGERPRINT_STRIDE (16 of 256: one 64-byte line in 16 of a float32 row, so 1/16 of the memory traffic, spread
    over the whole row)."""
    r, d = x.shape
    whole = d - d % FINGERPRINT_STRIDE
    runs = x[:, :whole].reshape(r, whole // FINGERPRINT_STRIDE, FINGERPRINT_STRIDE)[:, :, :FINGERPRINT_RUN]
    return np.concatenate([runs.reshape(r, -1), x[:, whole:whole + FINGERPRINT_RUN]], axis=1)


def host_squared_norms(x):
    """Row-wise squared L2 norms [n] of a host array x [n, d], in x's dtype, by NumPy (no [n, d] temporary)."""
    return np.einsum('ij,ij->i', x, x)


def host_norms(x, dtype, chunk_rows=4096):
    """Squared norms [n] of the rows of host array x [n, d] converted to the NumPy float type `dtype`, as a NumPy
    pass uses them: by `host_squared_norms`, chunk_rows rows at a time (a converted copy of one chunk at most)."""
    return np.concatenate([host_squared_norms(np.ascontiguousarray(x[begin:begin + chunk_rows], dtype))
                           for begin in range(0, max(len(x), 1), chunk_rows)])


def _distinct_sets(a, b):
    """[A] for a pass of A against itself (B None or A), else [A, B]."""
    return [a] if b is None or b is a else [a, b]


def shares_rows(a, b=None):
    """Whether a row of host-held set A occurs twice in A, or (B given) also in B: exact comparison of the
    rows whose fingerprints collide."""
    sets = _distinct_sets(a, b)
    prints = np.concatenate([s.fingerprints() for s in sets])
    starts_of_sets = np.cumsum([0] + [s.n for s in sets[:-1]])  # row k of `prints` is row k - start of its set
    order = np.argsort(prints, kind='stable')
    sorted_prints = prints[order]
    starts = np.flatnonzero(np.r_[True, sorted_prints[1:] != sorted_prints[:-1]])
    for begin, end in zip(starts, np.r_[starts[1:], len(order)]):
        if end - begin > 1:  # rows with one fingerprint: compare their values
            owners = np.searchsorted(starts_of_sets, order[begin:end], side='right') - 1
            group = [sets[owner].host_rows(k - starts_of_sets[owner], k - starts_of_sets[owner] + 1) + 0
                     for owner, k in zip(owners, order[begin:end])]
            if len({row.tobytes() for row in group}) < len(group):
                return True
    return False


def pass_gemm(block, a, b=None):
    """The GEMM library of one pass over the rows of A against those of B (B None: A against itself).

    The block's ('numpy', or 'auto': raced on the pass's first block, `_block_distances`) when both sets are
    host-held; but when a row repeats (within a set, or in both), TensorFlow, whatever was asked (gemm='numpy'
    too: a speed setting never changes a number): its kernels give a dot product the same value wherever the
    pair sits in the matrices, which the official results rely on at exact duplicates (a copy's nearest
    neighbour is the first copy; a copy lies on its twin's sphere, not outside it).
    """
    if block.gemm == 'tensorflow' or any(s.host is None for s in _distinct_sets(a, b)) or shares_rows(a, b):
        return 'tensorflow'
    return block.gemm


def content_ids(*feature_sets):
    """int64 ids [n_i] per set: equal ids exactly for equal rows, across all the given sets.

    Rows are told apart by a 128-bit BLAKE2b digest of their bytes (a collision is not a practical
    concern), so no [n, d] copy of the data is kept.
    """
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


def kth_nearest_radii(block, features, nhood_sizes, options=DEFAULT, desc='k-NN radii'):
    """Squared k-NN radius of every row of `features` for each k in `nhood_sizes`.

    Args:
        block: DistanceBlock.
        features: float32 array [n, d], or PreparedFeatures made with `block`.
        nhood_sizes: list of ints, each 1 <= k < n.
        options: Options (batch sizes, progress).
    Returns:
        np.ndarray [n, len(nhood_sizes)], float32 (float16 when the block is
        float16, like the pre-2021 official radii): column j holds the squared
        distance to the nhood_sizes[j]-th nearest other row (self is neighbour 0).
    """
    features = _prepared(block, features)
    n = features.n
    count = max(nhood_sizes) + 1
    tile = row_tile_size(options.row_batch_size)
    col_batch_size = options.col_batch_size
    best = np.full([n, count], np.inf, dtype=compare_dtype(block))
    steps = [(i0, j0) for i0 in range(0, n, tile) for j0 in range(i0, n, col_batch_size)]
    gemm = pass_gemm(block, features)
    diagonal = diagonal_share(steps, n, col_batch_size) if gemm == 'auto' else 0.0
    for i0, j0 in tqdm(steps, desc=desc, disable=not options.progress, leave=False):
        i1 = min(i0 + tile, n)
        j1 = min(j0 + col_batch_size, n)
        col_offset = max(i1 - j0, 0)  # columns before this belong to the diagonal tile (already rows)
        D, ok = _block_distances(block, gemm, _self_operands(features, i0, i1, j0, j1), diagonal)
        gemm = block.gemm if gemm == 'auto' else gemm  # the race's winner, for the next blocks
        rows, cols = _self_block(block, D, tf.convert_to_tensor(best[i0:i1]),
                                 tf.convert_to_tensor(best[j0 + col_offset:j1]), col_offset)
        _raise_unless_finite(block, ok)
        best[i0:i1] = rows.numpy()
        best[j0 + col_offset:j1] = cols.numpy()
    radii = best[:, list(nhood_sizes)]
    return radii.astype(np.float16) if block.dtype == 'float16' else radii


def _self_operands(features, i0, i1, j0, j1):
    """operands(library) -> (rows i0..i1-1, columns j0..j1-1) of a self-distance block, for `_block_distances`.

    A diagonal block's rows are the first of its columns (a view): NumPy then sees the symmetric square.
    """
    def operands(library):
        col_set = features.rows(j0, j1, library)
        if j0 == i0 and j1 >= i1:
            return _columns(col_set, 0, i1 - i0), col_set
        return features.rows(i0, i1, library), col_set
    return operands


def _raise_unless_finite(block, nonfinite):
    """A float16 block whose arithmetic overflowed gives wrong distances (the pre-2021 code silently): refuse, or
    with overflow 'count' (NVIDIA's pr50k3) add them to block.nonfinite and go on."""
    count = int(nonfinite)
    if count and block.overflow == 'count':
        block.nonfinite += count
    elif count:
        raise ValueError("dtype='%s': the distance arithmetic overflowed (a squared norm, 2 u.v or a squared distance "
                         "above the %s maximum); these features cannot be evaluated in %s -- use dtype='float32'"
                         % (block.dtype, block.dtype, block.dtype))


def compare_dtype(block):
    """numpy dtype in which distances are compared: float32 for float16/float32 blocks, float64 for float64."""
    return np.dtype(array_dtype(block.dtype)).type


# The blocks run eagerly: a block is a handful of TensorFlow ops around one large matmul, so dispatching them
# one by one costs microseconds, and there is nothing to trace (measured: tf.function tracing added ~0.4 s to
# the first call at N = M = 5000 and nothing after).

def _distances(block, U, V):
    """(distances in the comparison dtype, nonfinite count): float16 blocks are widened (exactly) to float32.

    U, V: (features, squared norms[, content ids]) of the block's rows and columns. NumPy's distances come before
    the clamp at 0 (one pass over the block less): a negative value stands for 0. The passes clamp what they keep
    (`_clamped`) and compare with `sphere_bounds`, which gives every comparison the clamped distance's result.
    """
    D, ok = block.checked_distances(*U[:2], *V[:2], *((U[2], V[2]) if len(U) > 2 else ()), clamp=False)
    return (tf.cast(D, tf.float32) if D.dtype == tf.float16 else D), ok


def _clamped(x):
    """max(x, 0): distances of a block whose negative values stand for 0 (`_distances`), e.g. its selected few."""
    return tf.maximum(x, tf.zeros([], x.dtype))


def sphere_bounds(radii, strict):
    """Radii [n, K] as bounds for distances whose negative values stand for 0: d <= bound (d < bound for the
    strict rule) exactly when max(d, 0) <= r (< r). The radii, except -inf where no distance can pass (r < 0; r == 0
    under the strict rule; NaN)."""
    radii = np.asarray(radii)
    can_pass = radii > 0 if strict else radii >= 0
    return np.where(can_pass, radii, -np.inf).astype(radii.dtype)


def _columns(sets, begin, end=None):
    """Columns begin..end-1 of a block's column set (features, norms[, ids]): views, tile boundaries kept."""
    return tuple(x[begin:end] for x in sets)


WARM_UP_ROWS = 8  # rows of TensorFlow's untimed first product before a race (its one-time set-up, ~20-30 ms)


def _block_distances(block, gemm, operands, diagonal_share=0.0):
    """(distances, nonfinite count) of one block; operands(library) -> (row set, column set) in its form.

    gemm 'auto' (an undecided block's first block of a pass that NumPy could serve): the two libraries race on
    the block's second column tile (metrics.gemm.race; the first may be a diagonal square), the winner computes
    the other columns and is the block's GEMM from then on (`DistanceBlock.decide`). Every column tile is the
    winner's own, so the numbers are those of a call that used it throughout. Both race on the whole tile, the
    shape of the real work (on a quarter of the rows, TensorFlow's Eigen kernels ran ~1.8x slower per row on a
    2-core AVX2 EPYC: a smaller race would be biased).
    TensorFlow's operands are converted, and its first use (thread pools, kernels: ~20-30 ms) is made on
    WARM_UP_ROWS rows, before the timing; NumPy gets no warm-up (its first product costs what later ones do, and
    a warm-up's spinning BLAS threads would slow TensorFlow's timed run). NumPy's time counts at the share of the
    pass's work it does in full: diagonal squares (`diagonal_share` of the pass's column tiles) are half the work
    by its symmetric product. A block of fewer than 2 column tiles is too small to race: TensorFlow.
    """
    if gemm != 'auto':
        return _distances(block, *operands(gemm))
    tile = gemms.COLUMN_TILE
    rows, cols = operands('numpy')
    if len(cols[0]) < 2 * tile:
        block.decide('tensorflow', {})
        return _distances(block, *operands('tensorflow'))
    raced_cols = _columns(cols, tile, 2 * tile)
    tf_rows, tf_cols = block.prepare(rows[0]), block.prepare(raced_cols[0])
    _distances(block, _columns(tf_rows, 0, WARM_UP_ROWS), tf_cols)  # TensorFlow's first use, untimed
    winner, raced, seconds = gemms.race(
        {'tensorflow': lambda: _distances(block, tf_rows, tf_cols),
         'numpy': lambda: _distances(block, rows, raced_cols)},
        {'numpy': 1 - diagonal_share / 2})
    block.decide(winner, seconds)
    if winner == 'tensorflow':
        rows, cols = operands(winner)
    parts = [_distances(block, rows, _columns(cols, 0, tile)), raced[winner],
             _distances(block, rows, _columns(cols, 2 * tile))]
    return tf.concat([D for D, _ in parts], axis=1), tf.add_n([ok for _, ok in parts])


def diagonal_share(steps, n, col_batch_size):
    """Share of a self-distance pass's column tiles that are diagonal squares; steps [(i0, j0)] as in
    `kth_nearest_radii`."""
    tiles = [-(-(min(j0 + col_batch_size, n) - j0) // gemms.COLUMN_TILE) for _, j0 in steps]
    return sum(i0 == j0 for i0, j0 in steps) / max(sum(tiles), 1)


def _self_block(block, D, best_rows, best_cols, col_offset):
    """Merge one self-distance block D [rows, cols] into the running top lists of its rows and, transposed, its
    columns."""
    count = best_rows.shape[1]
    if block.overflow == 'count':  # NaN sorts last, as np.partition sorts it in NVIDIA's code (top_k: first)
        D = tf.where(tf.math.is_nan(D), tf.constant(np.inf, D.dtype), D)
    new_rows = _merged(best_rows, _clamped(smallest_per_row(D, count)), count)
    new_cols = _merged(best_cols, _clamped(smallest_per_column(D, count, col_offset)), count)
    return new_rows, new_cols


Spheres = collections.namedtuple('Spheres', 'points radii')
Spheres.__doc__ = """One set of a membership pass: points (PreparedFeatures [n, d]) and their squared k-NN radii
[n, K] (None: the set's own spheres are not used; then the pass answers only the other set's questions)."""

# Per-row statistics of one set against the other set ("the other") in a membership pass, K = number of k.
SIDE_FIELDS = {
    'inside': 'bool [n, K]: the row lies in some sphere of the other set (d <= r, or d < r for rule "<")',
    'count': 'int64 [n, K]: how many spheres of the other set contain the row',
    'holds': "bool [n, K]: the row's own sphere contains some row of the other set",
    'realism': 'float [n]: max over the other set of r_j[first k] / (d + eps)',
    'nn': 'int32 [n]: index of the nearest row of the other set (first index on ties)',
    'nn_dist': 'float [n]: its squared distance',
    'gap': 'float [n, K]: min over the other set of (d - r_j); <= 0 inside, == 0 decided by an exact tie',
    'band': 'float [n, K]: the same in units of the float16 rounding scale FP16_BAND * (|u|^2 + |v|^2)',
}
Side = collections.namedtuple('Side', list(SIDE_FIELDS), defaults=[None] * len(SIDE_FIELDS))
Side.__doc__ = 'Per-row statistics of one set of a membership pass; fields not asked for are None.\n' + \
    '\n'.join('%s: %s' % item for item in SIDE_FIELDS.items())
NEEDS_OWN_RADII = ('holds',)  # fields of side A that use A's radii (all others use the other set's)


def membership_pass(block, a, b, convention, options=DEFAULT, fields=('inside',), eps=1e-5,
                    desc='manifold membership'):
    """Every row of A against the spheres of B and every row of B against the spheres of A, in one pass.

    Args:
        block: DistanceBlock (dtype, distance form and exact ties of the convention).
        a, b: Spheres. With a.radii None only A's rows are tested (against B's spheres) and B's side is None.
        convention: Convention; its rule ('<=' or '<') decides membership.
        options: Options (row/column batch sizes, progress).
        fields: which Side fields to compute (see SIDE_FIELDS); each is a few O(rows x cols) reductions beside
            the O(rows x cols x d) distances, so only what a caller reads is computed.
        eps: added to the squared distance in the realism ratio (official 1e-5).
        desc: progress bar label.
    Returns:
        (Side of A, Side of B or None).
    """
    unknown = set(fields) - set(SIDE_FIELDS)
    if unknown:
        raise ValueError('unknown fields %s; known: %s' % (sorted(unknown), list(SIDE_FIELDS)))
    dtype = compare_dtype(block)
    radii_b = np.asarray(b.radii, dtype=dtype)
    radii_a = None if a.radii is None else np.asarray(a.radii, dtype=dtype)
    sides = [_SideAccumulator(a.points.n, radii_b.shape[1], fields, dtype, a.radii is None)]
    if radii_a is not None:
        sides.append(_SideAccumulator(b.points.n, radii_a.shape[1], fields, dtype, False))
    tile = row_tile_size(options.row_batch_size)
    inside = tf.less if convention.strict else tf.less_equal
    bounds_b = sphere_bounds(radii_b, convention.strict)
    bounds_a = None if radii_a is None else sphere_bounds(radii_a, convention.strict)
    needs_values = bool(set(fields) - {'inside', 'count', 'holds'})  # the others read distances, not comparisons
    eps_t = tf.constant(eps, tf.as_dtype(dtype))
    steps = [(i0, j0) for i0 in range(0, a.points.n, tile) for j0 in range(0, b.points.n, options.col_batch_size)]
    gemm = pass_gemm(block, a.points, b.points)
    for i0, j0 in tqdm(steps, desc=desc, disable=not options.progress, leave=False):
        i1 = min(i0 + tile, a.points.n)
        j1 = min(j0 + options.col_batch_size, b.points.n)
        D, ok = _block_distances(block, gemm, lambda library, i0=i0, i1=i1, j0=j0, j1=j1: (
            a.points.rows(i0, i1, library), b.points.rows(j0, j1, library)))
        gemm = block.gemm if gemm == 'auto' else gemm  # the race's winner, for the next blocks
        _raise_unless_finite(block, ok)
        in_b = [inside(D, r) for r in _per_k(bounds_b[j0:j1], 0)]  # [t, c]: row of A inside sphere of B
        in_a = None if bounds_a is None else [inside(D, r) for r in _per_k(bounds_a[i0:i1], 1)]  # B in sphere of A
        r_b = r_a = None  # the radii themselves, [1, c] / [t, 1] per k: only the value fields read them
        if needs_values:
            D = _clamped(D)
            r_b = _per_k(radii_b[j0:j1], 0)
            r_a = None if radii_a is None else _per_k(radii_a[i0:i1], 1)
        band = None
        if 'band' in fields:
            norms_a, norms_b = a.points.norms(gemm)[i0:i1], b.points.norms(gemm)[j0:j1]
            band = FP16_BAND * (tf.cast(norms_a, D.dtype)[:, None] + tf.cast(norms_b, D.dtype)[None, :])
        sides[0].add(slice(i0, i1), j0, _reduce(D, 1, in_b, in_a, r_b, eps_t, band, fields))
        if len(sides) > 1:
            sides[1].add(slice(j0, j1), i0, _reduce(D, 0, in_a, in_b, r_a, eps_t, band, fields))
    return sides[0].result(), (sides[1].result() if len(sides) > 1 else None)


def _per_k(values, axis):
    """[n, K] -> K tensors, column k of values as [1, n] (axis 0: a block's columns) or [n, 1] (axis 1: its rows)."""
    return [tf.expand_dims(tf.constant(values[:, k]), axis) for k in range(values.shape[1])]


def _reduce(D, axis, in_other, in_own, other_radii, eps, band, fields):
    """One block's reductions for the set along the other `axis` (1: rows of A; 0: columns, the rows of B).

    in_other: per k, [t, c] masks "this set's row inside the other set's sphere"; in_own: per k, masks "the
    other set's row inside this set's sphere" (None without this set's radii); other_radii: per k, the other
    set's radii broadcastable against D (None when no field reads values: only masks are used then).
    """
    out = {}
    if 'inside' in fields:
        out['inside'] = tf.stack([tf.reduce_any(m, axis=axis) for m in in_other], axis=1)
    if 'count' in fields:
        out['count'] = tf.stack([tf.reduce_sum(tf.cast(m, tf.int32), axis=axis) for m in in_other], axis=1)
    if 'holds' in fields and in_own is not None:
        out['holds'] = tf.stack([tf.reduce_any(m, axis=axis) for m in in_own], axis=1)
    if 'gap' in fields or 'band' in fields:
        gaps = [D - r for r in other_radii]
        if 'gap' in fields:
            out['gap'] = tf.stack([tf.reduce_min(g, axis=axis) for g in gaps], axis=1)
        if 'band' in fields:
            out['band'] = tf.stack([tf.reduce_min(g / band, axis=axis) for g in gaps], axis=1)
    if 'realism' in fields:
        out['realism'] = tf.reduce_max(other_radii[0] / (D + eps), axis=axis)
    if 'nn' in fields or 'nn_dist' in fields:
        out['nn'] = tf.argmin(D, axis=axis, output_type=tf.int32)
        out['nn_dist'] = tf.reduce_min(D, axis=axis)
    return {key: value.numpy() for key, value in out.items()}


class _SideAccumulator:
    """Running per-row results of one set over the blocks of a pass (first index wins nearest-neighbour ties)."""

    def __init__(self, n, num_k, fields, dtype, no_own_radii):
        # field -> (shape, dtype, value before any block)
        initial = {'inside': ([n, num_k], bool, False), 'count': ([n, num_k], np.int64, 0),
                   'holds': ([n, num_k], bool, False), 'realism': ([n], dtype, -np.inf), 'nn': ([n], np.int32, 0),
                   'nn_dist': ([n], dtype, np.inf), 'gap': ([n, num_k], dtype, np.inf),
                   'band': ([n, num_k], dtype, np.inf)}
        wanted = set(fields) | ({'nn', 'nn_dist'} if {'nn', 'nn_dist'} & set(fields) else set())
        self.values = {name: np.full(shape, fill, dtype=dtype_) for name, (shape, dtype_, fill) in initial.items()
                       if name in wanted and not (no_own_radii and name in NEEDS_OWN_RADII)}
        self.fields = fields

    def add(self, rows, index_offset, block):
        acc = self.values
        for name in ('inside', 'holds'):
            if name in block:
                acc[name][rows] |= block[name]
        if 'count' in block:
            acc['count'][rows] += block['count']
        for name in ('gap', 'band'):
            if name in block:
                np.minimum(acc[name][rows], block[name], out=acc[name][rows])
        if 'realism' in block:
            np.maximum(acc['realism'][rows], block['realism'], out=acc['realism'][rows])
        if 'nn' in block:
            better = block['nn_dist'] < acc['nn_dist'][rows]
            acc['nn_dist'][rows] = np.where(better, block['nn_dist'], acc['nn_dist'][rows])
            acc['nn'][rows] = np.where(better, block['nn'] + index_offset, acc['nn'][rows])

    def result(self):
        return Side(**{name: value for name, value in self.values.items() if name in self.fields})
