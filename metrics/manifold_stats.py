"""Per-sample k-NN manifold statistics of a generated set against a real set, in one blocked pass.

Every manifold metric of the project (official P&R, density/coverage, the symmetric
metrics) is a mean of one of these per-sample arrays; they share the distance
machinery of `precision_recall.py` (metrics.knn on metrics.distance_block).
"""
from metrics.distance_block import DistanceBlock
from metrics.feature_checks import as_batch_size, as_feature_matrix, as_nhood_sizes, check_distance_range
from metrics.knn import PreparedFeatures, content_ids, cross_evaluate, kth_nearest_radii


def manifold_statistics(real_features, fake_features, nhood_sizes, strict, dtype='float32', row_batch_size=10000,
                        col_batch_size=50000, num_gpus=1, progress=False, metric='squared', margins=False,
                        exact_ties=False):
    """Per-sample statistics of fake [M, d] against real [N, d] features for each k.

    Args:
        strict: membership by d < r (prdc, emergent-asymmetry code) or d <= r (official P&R).
        dtype: 'float32', 'float16' or 'float64' distance arithmetic.
        metric: 'squared' (official) or 'euclidean_fp16' (see metrics.distance_block.METRICS).
        exact_ties: distances as a pure function of the two vectors (see DistanceBlock), so that ties
            on paper are ties in the computation (prdc / ManifoldMetric semantics on duplicated data);
            False keeps the official evaluation order.
        margins: also the decision margins of metrics.knn.cross_evaluate ('fake_gap', 'fake_band',
            'real_gap', 'real_band').
    Returns dict of numpy arrays (K = len(nhood_sizes), squared radii):
        real_radii [N, K], fake_radii [M, K];
        fake_in_real bool [M, K]: inside some real sphere (precision);
        real_in_fake bool [N, K]: inside some fake sphere (recall);
        fake_count int [M, K]: number of real spheres containing the fake (density);
        real_covered bool [N, K]: the real sphere contains some fake (coverage);
        fake_comp bool [M, K]: the fake's own sphere contains some real (complement precision).
    """
    np_dtype = 'float64' if dtype == 'float64' else 'float32'
    real = as_feature_matrix(real_features, 'real_features', dtype=np_dtype)
    fake = as_feature_matrix(fake_features, 'fake_features', real.shape[1], dtype=np_dtype)
    ks = as_nhood_sizes(nhood_sizes, real.shape[0], 'real_features')
    as_nhood_sizes(ks, fake.shape[0], 'fake_features')
    row_batch_size = as_batch_size(row_batch_size, 'row_batch_size')
    col_batch_size = as_batch_size(col_batch_size, 'col_batch_size')
    block = DistanceBlock(real.shape[1], num_gpus, dtype, metric, exact_ties)
    check_distance_range([real, fake], dtype)
    real_ids, fake_ids = content_ids(real, fake) if exact_ties else (None, None)
    real_p, fake_p = PreparedFeatures(block, real, ids=real_ids), PreparedFeatures(block, fake, ids=fake_ids)
    real_radii = kth_nearest_radii(block, real_p, ks, row_batch_size, col_batch_size, progress, 'real radii')
    fake_radii = kth_nearest_radii(block, fake_p, ks, row_batch_size, col_batch_size, progress, 'fake radii')
    cross = cross_evaluate(block, fake_p, real_p, real_radii, fake_radii, row_batch_size=row_batch_size,
                           col_batch_size=col_batch_size, progress=progress, strict=strict, extras=True,
                           desc='manifold statistics', margins=margins)
    out = {'nhood_sizes': ks, 'real_radii': real_radii, 'fake_radii': fake_radii,
            'fake_in_real': cross['query_in'], 'real_in_fake': cross['ref_in'], 'fake_count': cross['query_count'],
            'real_covered': cross['ref_covered'], 'fake_comp': cross['query_comp']}
    if margins:
        out.update(fake_gap=cross['query_gap'], fake_band=cross['query_band'], real_gap=cross['ref_gap'],
                   real_band=cross['ref_band'])
    return out


def strict_rule(tie):
    """'<' -> True (prdc, ManifoldMetric), '<=' -> False (official P&R)."""
    if tie not in ('<', '<='):
        raise ValueError("tie must be '<' (prdc) or '<=' (official P&R), got %r" % (tie,))
    return tie == '<'


def evaluate_at_k(summarize, real_features, fake_features, k, tie, dtype='float32', num_gpus=1, progress=False,
                  return_per_sample=False):
    """summarize(manifold_statistics(..., [k], tie)) -> dict, plus 'per_sample' statistics when asked."""
    stats = manifold_statistics(real_features, fake_features, [k], strict=strict_rule(tie), dtype=dtype,
                                num_gpus=num_gpus, progress=progress, exact_ties=True)
    result = summarize(stats)
    if return_per_sample:
        result['per_sample'] = stats
    return result
