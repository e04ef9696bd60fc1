"""Validation of feature matrices before any metric is computed."""
import numpy as np


def as_feature_matrix(features, name='features', num_features=None, dtype=np.float32):
    """Return `features` as a C-contiguous `dtype` (float32) array [n, d], or raise ValueError.

    Rejects non-numeric data, arrays that are not 2-D, empty sets (0 rows or 0
    columns), NaN/inf values and (when `num_features` is given) a width other
    than `num_features`.
    """
    try:
        x = np.asarray(features)
    except Exception as e:  # ragged lists and the like
        raise ValueError('%s: cannot be read as an array (%s)' % (name, e)) from e
    if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_):
        raise ValueError('%s: expected a numeric array, got dtype %s' % (name, x.dtype))
    if np.iscomplexobj(x):
        raise ValueError('%s: complex values (dtype %s) are not features; pass real numbers' % (name, x.dtype))
    if x.ndim != 2:
        raise ValueError('%s: expected a 2-D array [num_samples, num_features], got shape %s'
                         % (name, x.shape))
    if x.shape[0] == 0:
        raise ValueError('%s: has 0 rows (no samples)' % name)
    if x.shape[1] == 0:
        raise ValueError('%s: has 0 columns (no features)' % name)
    if num_features is not None and x.shape[1] != num_features:
        raise ValueError('%s: has %d features per sample, expected %d (feature widths must match)'
                         % (name, x.shape[1], num_features))
    if np.issubdtype(x.dtype, np.floating) and np.finfo(x.dtype).max > np.finfo(dtype).max:
        with np.errstate(invalid='ignore'):
            too_large = np.isfinite(x) & (np.abs(x) > np.finfo(dtype).max)
        if too_large.any():
            raise ValueError('%s: %d values exceed the %s range (largest magnitude %.3g)'
                             % (name, int(too_large.sum()), np.dtype(dtype).name, float(np.abs(x[too_large]).max())))
    x = np.ascontiguousarray(x, dtype=dtype)
    bad = ~np.isfinite(x)
    if bad.any():
        rows = np.unique(np.nonzero(bad)[0])
        raise ValueError('%s: contains %d non-finite values (NaN or inf) in %d rows, first rows %s'
                         % (name, int(bad.sum()), len(rows), rows[:5].tolist()))
    return x


def as_nhood_sizes(nhood_sizes, num_samples, name='features'):
    """Validate k values: a non-empty list of ints with 1 <= k < num_samples -> list of int."""
    if np.isscalar(nhood_sizes):
        nhood_sizes = [nhood_sizes]
    ks = list(nhood_sizes)
    if not ks:
        raise ValueError('nhood_sizes must contain at least one k')
    for k in ks:
        if isinstance(k, bool) or int(k) != k or k < 1:
            raise ValueError('nhood_sizes must be positive integers, got %r' % (k,))
        if k >= num_samples:
            raise ValueError('k=%d needs more than %d samples in %s (the k-th neighbour of a sample is '
                             'searched among the other samples, so k < number of samples)'
                             % (k, num_samples, name))
    return [int(k) for k in ks]


def as_batch_size(value, name):
    """Validate a positive integer batch size."""
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError('%s must be a positive integer, got %r' % (name, value))
    return int(value)


def check_distance_range(feature_sets, dtype, norms=None):
    """Refuse features whose squared distances cannot be represented in the distance dtype.

    Squared distances are at most (|u| + |v|)^2 <= 4 max |x|^2. float32/float64: refuse when
    4 max |x|^2 exceeds the dtype's maximum (the result would be inf and every sample "inside").
    float16: the official pre-2021 arithmetic computes |x|^2 in float16, so refuse when a squared
    norm reaches 65504; whether 2 u.v or a distance overflows is checked while computing
    (DistanceBlock.checked_distances), so features that fit (e.g. VGG fc2 features with squared
    norms ~2e4) run. norms: None, or each set's squared norms [n] as float sums (metrics.knn.host_norms), which
    spare float32/float64 checks a read of the features.
    """
    limit = float(np.finfo(dtype).max)
    for i, x in enumerate(feature_sets):
        if x.size == 0:
            continue
        if norms is not None and dtype != 'float16':
            # The caller's squared norms (float32 sums: far within a factor 2 of the exact ones): clear of the limit
            # by that factor, the exact test cannot fail (an overflowed sum, inf, takes the exact path).
            top = float(np.max(norms[i]))
            if np.isfinite(top) and 8 * top < limit:
                continue
        # Cheap bound first: |x|^2 <= d max|x|^2. Far below the limit, the exact norms cannot reach it either.
        peak = max(float(x.max()), -float(x.min()))
        if 4 * x.shape[1] * peak * peak < limit / 16:
            continue
        rounded = x.astype(dtype).astype(np.float64) if dtype == 'float16' else x.astype(np.float64)
        max_sq_norm = float(np.max(np.einsum('ij,ij->i', rounded, rounded)))
        if dtype == 'float16' and max_sq_norm >= limit:
            raise ValueError("dtype='float16': squared feature norms up to %.4g reach the float16 maximum %g (they "
                             "would become inf, as in the pre-2021 official code); use dtype='float32'"
                             % (max_sq_norm, limit))
        if dtype != 'float16' and 4 * max_sq_norm >= limit:
            raise ValueError('squared feature norms up to %.4g: squared distances would exceed the %s range (max '
                             '%.4g) and overflow to inf; rescale the features' % (max_sq_norm, dtype, limit))
