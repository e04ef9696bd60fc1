"""Whether the distance arithmetic can resolve the features at all: a loud warning instead of a silent number.

The official squared distance |u|^2 - 2 u.v + |v|^2 loses what the norms do not leave to the dtype's
precision: features with a large common offset, one enormous row, or values near the dtype's smallest
normal number give distances (and so radii and decisions) that are rounding noise, and precision/recall
come out near 1.000 where exact arithmetic gives something else. The official code has the same weakness,
so its numbers stay the default; this check says when they cannot be trusted and what to do.

For the sphere of sample i (squared radius R_i at the first k), a computed distance from a point near it
(whose squared norm is about |x_i|^2) is off by about
    err_i = eps * 2 |x_i|^2 * sqrt(d)      (float16: without sqrt(d); its products accumulate in float32, and
                                            what is lost is the float16 rounding of |u|^2, 2 u.v and their sum)
and the decisions near that sphere turn on differences of about
    g_i = min(R_i, 2 sqrt(R_i s^2))                                (s^2: the median radius of both sets)
(the second term: how fast a distance changes across a typical neighbourhood, for a sphere far from the
others). The sphere is unresolved when err_i >= TOLERANCE[dtype] * g_i, unless its radius is exactly 0 because
the row has more than k exact copies. Separately, when every squared norm lies below tiny / eps the
arithmetic runs in the dtype's subnormal range and nothing is resolved. Measured margin: the official
fixtures (VGG-like, 4,096-d) stay below 2e-5 of TOLERANCE's scale; a common offset of 100 at d = 16 (which
moves P/R in the third decimal) is flagged.
"""
import collections

import numpy as np

# Rounding error allowed against the deciding differences. float16 is only used to reproduce protocols that
# chose it (pre-2021 official, pr50k3), whose rounding noise is part of their numbers: it is flagged only where
# the noise exceeds the differences themselves (and in its subnormal range).
TOLERANCE = {'float16': 1.0, 'float32': 0.01, 'float64': 0.01}


def squared_norms(x):
    """float64 [n] squared row norms of x [n, d] (float32 accumulation is enough for an error estimate)."""
    return np.einsum('ij,ij->i', x, x).astype(np.float64)


def _copies(x, rows):
    """int [len(rows)]: how many rows of x [n, d] equal each of x[rows] exactly."""
    counts = collections.Counter(row.tobytes() for row in np.ascontiguousarray(x))
    return np.array([counts[np.ascontiguousarray(x[i]).tobytes()] for i in rows], np.int64)


def unresolved_spheres(x, radii, norms_x, k, scale2, dtype):
    """int: spheres of x [n, d] (squared radii [n] at k, squared norms [n]) whose decisions the arithmetic
    cannot resolve (scale2: the typical squared radius)."""
    info = np.finfo(dtype)
    radii = np.asarray(radii, np.float64)
    growth = 1.0 if np.dtype(dtype) == np.float16 else np.sqrt(x.shape[1])  # see the module docstring
    err = info.eps * 2 * norms_x * growth
    gap = np.minimum(radii, 2 * np.sqrt(radii * scale2))
    flagged = np.flatnonzero(err >= TOLERANCE[np.dtype(dtype).name] * gap)
    if len(flagged):
        flagged = flagged[_copies(x, flagged) <= k]  # more than k copies: the radius is exactly 0 on paper too
    return int(len(flagged))


def resolution_report(real, fake, real_radii, fake_radii, k, dtype, norms=None):
    """None when the arithmetic resolves the features, else a dict: 'dtype', 'k', 'unresolved_real',
    'unresolved_fake' (sphere counts), 'subnormal' (bool), 'max_squared_norm', 'median_radius', 'message'.
    norms: [real, fake] squared norms the caller has (the same einsum as `squared_norms`), or None."""
    norms_real, norms_fake = ((squared_norms(real), squared_norms(fake)) if norms is None else
                              (np.asarray(n, np.float64) for n in norms))
    info = np.finfo(dtype)
    radii = np.concatenate([np.asarray(real_radii, np.float64), np.asarray(fake_radii, np.float64)])
    positive = radii[radii > 0]
    scale2 = float(np.median(positive)) if len(positive) else 0.0
    peak = float(max(norms_real.max(), norms_fake.max()))
    subnormal = peak < info.tiny / info.eps
    counts = (unresolved_spheres(real, real_radii, norms_real, k, scale2, dtype),
              unresolved_spheres(fake, fake_radii, norms_fake, k, scale2, dtype))
    if not subnormal and not any(counts):
        return None
    why = ('every squared norm (at most %.3g) lies in %s\'s subnormal range, where it keeps almost no digits'
           % (peak, dtype) if subnormal else
           'squared norms up to %.3g against a median squared radius of %.3g leave the differences that decide '
           'membership to %s rounding (a large common offset, or rows far from the rest)' % (peak, scale2, dtype))
    message = ('%s distance arithmetic cannot resolve these features: %d of %d real and %d of %d generated '
               'spheres (k=%d) are decided by rounding, since %s. The precision/recall printed may be far from the '
               'exact ones. Use exact arithmetic (--dtype float64; dtype=\'float64\' in the API), or center and '
               'rescale the features.' % (dtype, counts[0], len(real), counts[1], len(fake), k, why))
    return {'dtype': str(dtype), 'k': int(k), 'unresolved_real': counts[0], 'unresolved_fake': counts[1],
            'subnormal': bool(subnormal), 'max_squared_norm': peak, 'median_radius': scale2, 'message': message}
