"""Squared Euclidean distances between feature batches, computed by TensorFlow.

This is the one distance implementation of the project: the official P&R port
(`precision_recall.py`), density/coverage and every other k-NN metric use it.

Numerics follow the official code exactly:

    D = max((|u|^2 - 2 u.v) + |v|^2, 0)        (squared distances, no sqrt)

computed in float32 (the current official code) or float16 (the official code
before 2021-10-25, where features, norms, the matmul and the result are all
rounded to float16). TF32 matmuls are switched off so Ampere+ GPUs compute
true float32 like the V100 the authors used.
"""
import numpy as np
import tensorflow as tf

from dnnlib.tflib.tfutil import compute_devices, disable_tf32
from metrics.convention import Convention, array_dtype
from metrics import gemm as gemms

disable_tf32()


def batch_pairwise_distances(U, V):
    """Squared distances between rows of U [n, d] and V [m, d] -> [n, m].

    Same dtype as the inputs (float32 or float16), values >= 0.
    Evaluation order is the official one: (|u|^2 - 2 U V^T) + |v|^2, then max(., 0).
    """
    U = tf.convert_to_tensor(U)
    V = tf.convert_to_tensor(V)
    return distances_from_norms(U, squared_norms(U), V, squared_norms(V))


def squared_norms(X):
    """Row-wise squared L2 norms of X [n, d] -> [n], in X's dtype."""
    return tf.reduce_sum(tf.square(X), 1)


def distances_from_norms(U, norm_u, V, norm_v):
    """Squared distances [n, m] from U [n, d], V [m, d] and their precomputed squared norms [n], [m]."""
    return tf.maximum(unclamped_distances(U, norm_u, V, norm_v), 0.0)


def unclamped_distances(U, norm_u, V, norm_v):
    """(|u|^2 - 2 U V^T) + |v|^2 before the clamp at 0 (an overflow shows here as inf/-inf/NaN)."""
    norm_u = tf.reshape(norm_u, [-1, 1])
    norm_v = tf.reshape(norm_v, [1, -1])
    return norm_u - 2 * gemms.product('tensorflow', U, V) + norm_v


def host_distances(U, norm_u, V, norm_v, clamp=True):
    """max((|u|^2 - 2 U V^T) + |v|^2, 0) [n, m] from NumPy arrays, by NumPy, in place in one aligned array.

    The official order and rounding: -2 x is exact, a + (-b) is a - b. clamp=False skips the max(., 0) (one pass
    over the block less): negative values then stand for 0, for callers that clamp only what they keep.
    """
    D = gemms.numpy_product(U, V)
    np.multiply(D, -2, out=D)
    D += norm_u[:, None]
    D += norm_v[None, :]
    return np.maximum(D, 0, out=D) if clamp else D


def column_parts(num_cols, parts):
    """[(begin, end)] of `parts` contiguous column ranges made of whole COLUMN_TILEs, nearly equal in tiles.

    The first (tiles % parts) ranges get one tile more; ranges past the last tile are empty.
    """
    tiles = -(-num_cols // gemms.COLUMN_TILE)
    base, extra = divmod(tiles, parts)
    bounds, begin = [], 0
    for part in range(parts):
        end = min(num_cols, begin + (base + (part < extra)) * gemms.COLUMN_TILE)
        bounds.append((begin, end))
        begin = end
    return bounds


EXACT_ROWS, EXACT_COLS = 1024, 1024  # = knn.ROW_TILE: a row tile is one block


def uniform_matmul(U, V):
    """U V^T [n, m] computed as GEMMs of one fixed shape [EXACT_ROWS, d] x [d, EXACT_COLS] (zero padding).

    A GEMM library may sum a dot product in a different order for differently shaped matrices; with
    one shape for every block, u.v depends only on u and v, wherever the pair occurs.
    """
    n, m = tf.shape(U)[0], tf.shape(V)[0]
    d = tf.shape(U)[1]
    up = tf.pad(U, [[0, (-n) % EXACT_ROWS], [0, 0]])
    vp = tf.pad(V, [[0, (-m) % EXACT_COLS], [0, 0]])
    u_blocks = tf.reshape(up, [-1, EXACT_ROWS, d])
    v_blocks = tf.reshape(vp, [-1, EXACT_COLS, d])

    def row_block(u):
        cols = tf.map_fn(lambda v: tf.matmul(u, v, transpose_b=True), v_blocks)  # [bv, R, C]
        return tf.reshape(tf.transpose(cols, [1, 0, 2]), [EXACT_ROWS, -1])
    rows = tf.map_fn(row_block, u_blocks)  # [bu, R, bv * C]
    return tf.reshape(rows, [tf.shape(up)[0], -1])[:n, :m]


class DistanceBlock:
    """Computes squared distances between two feature batches, columns split over devices.

    Args:
        num_features: int, feature width d.
        num_gpus: int >= 1; the column batch V is split into `num_gpus` nearly
            equal parts, one per device (see `compute_devices`). Unlike the
            official code, the split need not be even.
        dtype: 'float32' (current official), 'float16' (official before 2021-10-25) or
            'float64' (for comparisons with float64 tools such as prdc/sklearn).
        distance: 'squared' (official) or 'euclidean_fp16' (see metrics.convention.DISTANCES).
        exact_ties: distances as a pure function of the two vectors, so that a distance equal to a
            radius on paper is equal in the computation wherever it is computed (prdc and
            ManifoldMetric semantics): the symmetric order (|u|^2 + |v|^2) - 2 u.v, and exactly 0
            between identical vectors (rows carry content ids). False keeps the official order.
        overflow: 'refuse' (float16 arithmetic that overflows is an error) or 'count' (float16 only: the
            distances are used as computed, inf or NaN, as NVIDIA's pr50k3; see metrics.convention.OVERFLOWS).
        gemm: 'auto' (the faster library, raced on the first pass's own tiles: see metrics.gemm and
            `decide`), 'tensorflow' or 'numpy'.
            Exact-ties blocks always use TensorFlow: their GEMMs of one fixed shape make a dot product a
            pure function of its two vectors, and OpenBLAS gives identical columns different dot
            products by their position in a GEMM. For the same reason every choice runs a pass whose sets
            repeat a row with TensorFlow (see knn.pass_gemm): the official tie behaviour needs it, and a
            speed setting must never change a number.
    """

    def __init__(self, num_features, num_gpus=1, dtype='float32', distance='squared', exact_ties=False,
                 gemm='auto', overflow='refuse'):
        Convention('block', dtype=dtype, distance=distance, exact_ties=exact_ties, overflow=overflow)  # validates
        self.overflow = overflow
        self.nonfinite = 0  # with overflow 'count': distances computed as inf or NaN so far (metrics.knn counts)
        self.distance = distance
        self.exact_ties = bool(exact_ties)
        self.num_features = int(num_features)
        self.num_gpus = int(num_gpus)
        self.dtype = dtype
        self.tf_dtype = tf.as_dtype(dtype)
        self.devices = compute_devices(self.num_gpus)
        self.gemm = gemms.resolve('tensorflow' if self.exact_ties else gemm, dtype, self.devices)

    def decide(self, name, seconds):
        """Fix an 'auto' block's GEMM library to `name` (what a race on its first pass found faster; metrics.knn):
        every later pass with this block uses it."""
        self.gemm = name
        gemms.record_decision(self.dtype, self.num_features, name, seconds)

    @classmethod
    def for_convention(cls, convention, num_features, options):
        """The block that computes distances as `convention` (a metrics.convention.Convention) says, run as
        `options` (metrics.options.Options: devices, GEMM library) says."""
        return cls(num_features, options.num_gpus, convention.dtype, convention.distance, convention.exact_ties,
                   options.gemm, convention.overflow)

    def distances(self, U, norm_u, V, norm_v):
        """Tensor [n, m] of squared distances from operands in the block dtype; traceable.

        U [n, d], V [m, d] and their squared norms [n], [m] come from `prepare`
        (or `squared_norms`); the columns are split over `self.devices`. Given U and V as NumPy
        arrays (on a CPU, float32/float64), NumPy's BLAS does the product; given tensors, TensorFlow.
        """
        return self.checked_distances(U, norm_u, V, norm_v)[0]

    def checked_distances(self, U, norm_u, V, norm_v, ids_u=None, ids_v=None, clamp=True):
        """(distances [n, m], nonfinite: scalar int64 tensor); traceable.

        nonfinite counts the distances whose arithmetic left the range (inf or NaN before the clamp). Only
        float16 can overflow with inputs that passed the range check (`feature_checks.check_distance_range`),
        so only float16 blocks count (the float32/float64 official path does no extra work).
        clamp=False lets NumPy's distances (finite: float32/float64 after the range check) skip the clamp at 0:
        a negative value then stands for 0, and the caller clamps what it keeps (metrics.knn); TensorFlow's are
        clamped either way.
        """
        parts, finite = [], []
        bounds = column_parts(int(V.shape[0]), len(self.devices))
        for device, (begin, end) in zip(self.devices, bounds):
            if end <= begin and parts:
                continue
            with tf.device(device):
                if len(self.devices) == 1:
                    v, nv, iv = V, norm_v, ids_v
                else:
                    v, nv = V[begin:end], norm_v[begin:end]
                    iv = None if ids_v is None else ids_v[begin:end]
                if isinstance(U, np.ndarray):  # NumPy's BLAS (float32/float64 only: nothing can overflow)
                    clamped = gemms.as_tensor(host_distances(U, norm_u, v, nv, clamp or self.distance != 'squared'))
                else:
                    if self.exact_ties:
                        raw = (tf.reshape(norm_u, [-1, 1]) + tf.reshape(nv, [1, -1])) - 2 * uniform_matmul(U, v)
                        raw = tf.where(tf.equal(ids_u[:, None], iv[None, :]), tf.zeros_like(raw), raw)
                    else:
                        raw = unclamped_distances(U, norm_u, v, nv)
                    if self.dtype == 'float16':
                        finite.append(tf.reduce_sum(tf.cast(tf.logical_not(tf.math.is_finite(raw)), tf.int64)))
                    clamped = tf.maximum(raw, tf.constant(0, raw.dtype))
                if self.distance == 'euclidean_fp16':
                    clamped = tf.cast(tf.cast(tf.sqrt(clamped), tf.float16), clamped.dtype)
                parts.append(clamped)
        with tf.device(self.devices[0]):
            D = parts[0] if len(parts) == 1 else tf.concat(parts, axis=1)
            nonfinite = tf.add_n(finite) if finite else tf.constant(0, tf.int64)
        return D, nonfinite

    def prepare(self, features, chunk_rows=4096, keep=True):
        """features [n, d] (float32, or float64 for a float64 block) -> (tensor in the block dtype, norms [n]).

        Converted in chunks so that no [n, d] temporary exists beside the result.
        Inputs are rounded to the block dtype (as feeding the official float16
        placeholders did). keep=False returns (None, norms) without keeping the copy.
        """
        if keep and getattr(features, 'dtype', None) == self.tf_dtype.as_numpy_dtype:
            # Already in the block dtype: for CPU devices the caller's memory when it is aligned (features made
            # by TensorFlow are), else one copy into a tensor; norms from the same row chunks as below.
            whole = gemms.host_tensor(features) if gemms.cpu_only(self.devices) else tf.convert_to_tensor(features)
            norms = [squared_norms(whole[begin:begin + chunk_rows]) for begin in range(0, max(len(features), 1),
                                                                                     chunk_rows)]
            return whole, (norms[0] if len(norms) == 1 else tf.concat(norms, 0))
        xs, norms = [], []
        for begin in range(0, max(len(features), 1), chunk_rows):
            x = tf.cast(tf.convert_to_tensor(features[begin:begin + chunk_rows]), self.tf_dtype)
            if keep:
                xs.append(x)
            norms.append(squared_norms(x))
        norms = norms[0] if len(norms) == 1 else tf.concat(norms, 0)
        if not keep:
            return None, norms
        return (xs[0] if len(xs) == 1 else tf.concat(xs, 0)), norms

    def pairwise_distances(self, U, V):
        """Squared distances between U [n, d] and V [m, d] as a numpy array [n, m] in the block dtype."""
        host_dtype = array_dtype(self.dtype)
        u, norm_u = self.prepare(np.asarray(U, dtype=host_dtype))
        v, norm_v = self.prepare(np.asarray(V, dtype=host_dtype))
        return self.distances(u, norm_u, v, norm_v).numpy()
