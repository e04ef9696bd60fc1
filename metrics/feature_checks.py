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
