"""The per-sample k-NN pipeline of every manifold metric: validate, radii of both sets, one membership pass.

Official P&R (`precision_recall.py`), density/coverage, the symmetric metrics and the conventions
report are this pipeline under a `Convention`, each reading some of the per-sample arrays. Inside
`metrics/` the two sets are the real and the fake (generated) set; `precision_recall.py` maps
them to the official ref/eval names.
"""
import warnings

import numpy as np

from metrics import convention as conventions
from metrics.distance_block import DistanceBlock
from metrics.feature_checks import as_feature_matrix, as_nhood_sizes, check_distance_range
from metrics.knn import PreparedFeatures, Spheres, content_ids, host_norms, kth_nearest_radii, membership_pass
from metrics.options import DEFAULT
from metrics.resolution import resolution_report


class ResolutionWarning(UserWarning):
    """The distance arithmetic cannot resolve the features (metrics.resolution); the numbers may be wrong."""


class OverflowWarning(UserWarning):
    """float16 distances overflowed and were used as computed (a convention with overflow 'count')."""

# Side field of the pass -> per-sample array name, for the fake rows (tested against the real spheres) and the
# real rows (tested against the fake spheres).
PER_SAMPLE_NAMES = {
    'fake': {'inside': 'fake_in_real', 'count': 'fake_count', 'holds': 'fake_comp', 'realism': 'fake_realism',
             'nn': 'fake_nn', 'nn_dist': 'fake_nn_dist', 'gap': 'fake_gap', 'band': 'fake_band'},
    'real': {'inside': 'real_in_fake', 'count': 'real_count', 'holds': 'real_covered', 'realism': 'real_realism',
             'nn': 'real_nn', 'nn_dist': 'real_nn_dist', 'gap': 'real_gap', 'band': 'real_band'},
}
SET_FIELDS = ('inside', 'count', 'holds')  # what density, coverage and the symmetric metrics read


def manifold_statistics(real_features, fake_features, nhood_sizes, convention='official', options=DEFAULT,
                        fields=SET_FIELDS, names=('real_features', 'fake_features')):
    """Per-sample statistics of fake [M, d] against real [N, d] features for each k.

    Args:
        convention: a Convention or its name (metrics/convention.py): rule, dtype, distance form, ties,
            input rounding.
        options: Options (devices, batch sizes, progress).
        fields: Side fields of the membership pass to compute for both sets (metrics.knn.SIDE_FIELDS).
        names: how errors name the two sets.
    Returns dict of numpy arrays (K = len(nhood_sizes), squared radii): 'nhood_sizes', real_radii [N, K],
    fake_radii [M, K], and per sample, named by PER_SAMPLE_NAMES, e.g.
        fake_in_real bool [M, K]: inside some real sphere (precision);
        real_in_fake bool [N, K]: inside some fake sphere (recall);
        fake_count int [M, K]: number of real spheres containing the fake (density);
        real_covered bool [N, K]: the real sphere contains some fake (coverage);
        fake_comp bool [M, K]: the fake's own sphere contains some real (complement precision).
    """
    convention = conventions.convention(convention)
    real, fake, ks = checked_sets(real_features, fake_features, nhood_sizes, convention, names)
    return statistics_of_checked(real, fake, ks, convention, options, fields)


def checked_sets(real_features, fake_features, nhood_sizes, convention, names=('real_features', 'fake_features')):
    """(real [N, d], fake [M, d] as float32 (float64 for a float64 convention), k list), or ValueError."""
    np_dtype = conventions.array_dtype(convention.dtype)
    real = as_feature_matrix(real_features, names[0], dtype=np_dtype)
    fake = as_feature_matrix(fake_features, names[1], real.shape[1], dtype=np_dtype)
    ks = as_nhood_sizes(nhood_sizes, real.shape[0], names[0])
    as_nhood_sizes(ks, fake.shape[0], names[1])
    return real, fake, ks


def statistics_of_checked(real, fake, ks, convention, options=DEFAULT, fields=SET_FIELDS):
    """manifold_statistics of sets that passed `checked_sets` (convention: a Convention value).

    Raises ValueError when the convention's arithmetic cannot represent these features (float16 range); warns
    (ResolutionWarning, and out['resolution']) when it cannot resolve them (metrics.resolution).
    """
    if convention.overflow == 'float32_block':  # the ADM evaluator's own block grid and orientation
        from metrics.adm_pr import adm_statistics
        return adm_statistics(real, fake, ks, fields)
    if convention.round_inputs:
        real, fake = (_as_float16_values(x, name) for x, name in ((real, 'real_features'), (fake, 'fake_features')))
    block = DistanceBlock.for_convention(convention, real.shape[1], options)
    norms = shared_norms(block, real, fake)
    if convention.overflow == 'refuse':
        check_distance_range([real, fake], convention.dtype, norms)
    real_ids, fake_ids = content_ids(real, fake) if convention.exact_ties else (None, None)
    real_norms, fake_norms = norms or (None, None)
    real_p = PreparedFeatures(block, real, ids=real_ids, norms=real_norms)
    fake_p = PreparedFeatures(block, fake, ids=fake_ids, norms=fake_norms)
    real_radii = kth_nearest_radii(block, real_p, ks, options, 'real radii')
    fake_radii = kth_nearest_radii(block, fake_p, ks, options, 'fake radii')
    fake_side, real_side = membership_pass(block, Spheres(fake_p, fake_radii), Spheres(real_p, real_radii),
                                           convention, options, fields, desc='manifold statistics')
    out = {'nhood_sizes': ks, 'real_radii': real_radii, 'fake_radii': fake_radii}
    unresolved = resolution_report(real, fake, real_radii[:, 0], fake_radii[:, 0], ks[0], convention.dtype, norms)
    if unresolved:
        warnings.warn(unresolved['message'], ResolutionWarning, stacklevel=2)
        out['resolution'] = unresolved
    overflow = overflow_report(block, real_radii, fake_radii)
    if overflow:
        warnings.warn(overflow['message'], OverflowWarning, stacklevel=2)
        out['overflow'] = overflow
    for name, side in (('fake', fake_side), ('real', real_side)):
        out.update((PER_SAMPLE_NAMES[name][field], value) for field, value in side._asdict().items()
                   if value is not None)
    return out


def shared_norms(block, *feature_sets):
    """[squared norms (knn.host_norms) of each set] when NumPy may do the block's products, else None: computed
    once for the pass, the range check and the resolution report alike (each read of a set costs ~6 ms at
    5,000 x 4,096)."""
    if block.gemm == 'tensorflow':
        return None
    return [host_norms(x, block.tf_dtype.as_numpy_dtype) for x in feature_sets]


def overflow_report(block, real_radii, fake_radii):
    """None, or {'nonfinite_distances', 'nonfinite_real_radii', 'nonfinite_fake_radii', 'message'} when a block
    with overflow 'count' computed distances as inf or NaN (each pass's distances counted once per pass)."""
    if block.overflow != 'count' or not block.nonfinite:
        return None
    report = {'nonfinite_distances': int(block.nonfinite),
              'nonfinite_real_radii': int((~np.isfinite(real_radii)).sum()),
              'nonfinite_fake_radii': int((~np.isfinite(fake_radii)).sum())}
    report['message'] = ('float16 overflow: %(nonfinite_distances)d distances were inf or NaN and were used as '
                         'computed (as NVIDIA\'s pr50k3 code uses them); %(nonfinite_real_radii)d real and '
                         '%(nonfinite_fake_radii)d generated k-NN radii are not finite. These are the protocol\'s '
                         'numbers, but they do not measure the features: evaluate them in float32 as well' % report)
    return report


def _as_float16_values(x, name):
    """x [n, d] float32 rounded to float16 values (kept as float32); ValueError when some leave its range."""
    with np.errstate(over='ignore'):
        rounded = x.astype(np.float16).astype(np.float32)
    beyond = int((~np.isfinite(rounded)).sum())
    if beyond:
        raise ValueError('%s: %d values lie beyond the float16 range (max 65504) this convention rounds to'
                         % (name, beyond))
    return rounded


def evaluate_at_k(summarize, real_features, fake_features, k, convention='prdc', options=DEFAULT,
                  return_per_sample=False):
    """summarize(manifold_statistics(..., [k], convention)) -> dict, plus 'per_sample' statistics when asked."""
    stats = manifold_statistics(real_features, fake_features, [k], convention, options)
    result = summarize(stats)
    if return_per_sample:
        result['per_sample'] = stats
    return result
