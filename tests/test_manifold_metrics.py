"""Density/coverage (prdc), symmetric P&R (emergent asymmetry) and bootstrap intervals vs independent NumPy."""
import numpy as np
import pytest

from metrics.bootstrap import bootstrap_intervals
from metrics.emergent_asymmetry import compute_symmetric_precision_recall
from metrics.convention import CONVENTIONS

from metrics.manifold_stats import manifold_statistics
from metrics.options import Options

PRDC = CONVENTIONS['prdc']
from metrics.prdc import compute_prdc


def distances(a, b):
    """Plain Euclidean distances in float64 (what prdc gets from sklearn), [len(a), len(b)]."""
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    return np.sqrt(np.maximum(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1), 0))


def prdc_reference(real, fake, k, strict=True):
    """The prdc package's formulas with full matrices."""
    less = np.less if strict else np.less_equal
    r = np.sort(distances(real, real), axis=1)[:, k]
    s = np.sort(distances(fake, fake), axis=1)[:, k]
    d = distances(real, fake)  # [N, M]
    return {'precision': less(d, r[:, None]).any(axis=0).mean(),
            'recall': less(d, s[None, :]).any(axis=1).mean(),
            'density': (1.0 / k) * less(d, r[:, None]).sum(axis=0).mean(),
            'coverage': less(d.min(axis=1), r).mean()}


def symmetric_reference(real, fake, k):
    """ManifoldMetric definitions with squared distances and strict '<'."""
    sq = lambda a, b: distances(a, b) ** 2  # noqa: E731
    r = np.sort(sq(real, real), axis=1)[:, k]
    s = np.sort(sq(fake, fake), axis=1)[:, k]
    d = sq(fake, real)  # [M, N]
    precision = (d < r[None, :]).any(axis=1).mean()
    recall = (d < s[:, None]).any(axis=0).mean()
    comp = (d.min(axis=1) < s).mean()
    coverage = (d.min(axis=0) < r).mean()
    return {'precision': precision, 'recall': recall, 'comp_precision': comp, 'coverage': coverage,
            'sym_precision': min(precision, comp), 'sym_recall': min(recall, coverage),
            'density': (d < r[None, :]).sum() / (k * len(fake))}


def integer_sets(seed, n, m, d, copies=10):
    """Small-integer features (exact distances, many ties) with exact duplicates inside and across sets."""
    rs = np.random.RandomState(seed)
    real = rs.randint(-2, 3, size=(n, d)).astype(np.float32)
    fake = rs.randint(-2, 3, size=(m, d)).astype(np.float32)
    real[:copies] = real[copies:2 * copies]      # duplicates within the real set
    fake[:copies] = real[2 * copies:3 * copies]  # fakes that copy real samples
    fake[copies:copies + 4] = fake[copies + 4:copies + 8]
    return real, fake


@pytest.mark.parametrize('seed,n,m,d,k', [(0, 80, 70, 4, 5), (1, 150, 120, 6, 3), (2, 60, 90, 3, 1)])
def test_prdc_matches_reference_with_ties_and_duplicates(seed, n, m, d, k):
    real, fake = integer_sets(seed, n, m, d)
    for tie, strict in (('<', True), ('<=', False)):
        ours = compute_prdc(real, fake, nearest_k=k, convention=PRDC.replace(rule=tie))
        ref = prdc_reference(real, fake, k, strict)
        for key in ref:
            assert ours[key] == pytest.approx(ref[key], abs=1e-12), (tie, key)
    strict_result = compute_prdc(real, fake, nearest_k=k)
    loose_result = compute_prdc(real, fake, nearest_k=k, convention=PRDC.replace(rule='<='))
    assert strict_result['density'] < loose_result['density']  # ties are frequent: the rule matters


def test_prdc_on_gaussians_float64_matches():
    rs = np.random.RandomState(5)
    real, fake = rs.randn(300, 16), rs.randn(250, 16) * 1.1 + 0.1
    ours = compute_prdc(real, fake, nearest_k=5, convention=PRDC.replace(dtype='float64'))
    ref = prdc_reference(real, fake, 5)
    for key in ref:
        assert ours[key] == pytest.approx(ref[key], abs=1e-12), key


def test_identical_sets_density_coverage_with_both_tie_rules():
    x = np.random.RandomState(6).randn(50, 8).astype(np.float32)
    loose = compute_prdc(x, x.copy(), nearest_k=5, convention=PRDC.replace(rule='<='))
    assert loose['coverage'] == 1.0 and loose['precision'] == 1.0
    ones = np.ones((20, 4), np.float32)
    strict = compute_prdc(ones, ones, nearest_k=5)  # prdc issue 7: all-equal sets give 0 with '<'
    assert strict['density'] == 0.0 and strict['coverage'] == 0.0


@pytest.mark.parametrize('seed,n,m,d,k', [(3, 90, 80, 4, 5), (4, 100, 140, 5, 2)])
def test_symmetric_metrics_match_reference(seed, n, m, d, k):
    real, fake = integer_sets(seed, n, m, d)
    ours = compute_symmetric_precision_recall(real, fake, k=k)
    ref = symmetric_reference(real, fake, k)
    for key in ref:
        assert ours[key] == pytest.approx(ref[key], abs=1e-12), key
    assert ours['sym_precision'] <= ours['precision'] and ours['sym_recall'] <= ours['recall']


def test_comp_precision_is_coverage_with_roles_swapped():
    rs = np.random.RandomState(7)
    real, fake = rs.randn(120, 6).astype(np.float32), (rs.randn(100, 6) * 0.7).astype(np.float32)
    a = compute_symmetric_precision_recall(real, fake, k=4)
    b = compute_symmetric_precision_recall(fake, real, k=4)
    assert a['comp_precision'] == b['coverage'] and a['coverage'] == b['comp_precision']
    assert a['precision'] == b['recall']


def test_statistics_multiple_k_and_official_rule():
    import precision_recall
    rs = np.random.RandomState(8)
    real, fake = rs.randn(200, 10).astype(np.float32), rs.randn(180, 10).astype(np.float32)
    stats = manifold_statistics(real, fake, [3, 5], 'official', Options(row_batch_size=37, col_batch_size=53))
    official = precision_recall.knn_precision_recall_details(real, fake, [3, 5], verbose=False)
    np.testing.assert_array_equal(stats['fake_in_real'], official['precision_pred'].astype(bool))
    np.testing.assert_array_equal(stats['real_in_fake'], official['recall_pred'].astype(bool))
    np.testing.assert_allclose(stats['real_radii'], official['ref_radii'], rtol=1e-6)  # other tiles: last bits


def test_bootstrap_intervals():
    rs = np.random.RandomState(9)
    real, fake = rs.randn(400, 8).astype(np.float32), (rs.randn(300, 8) * 0.9).astype(np.float32)
    stats = manifold_statistics(real, fake, [5], 'prdc')
    ci = bootstrap_intervals(stats, num_resamples=500, seed=1)
    result = compute_prdc(real, fake, nearest_k=5)
    for key in ('precision', 'recall', 'density', 'coverage'):
        assert ci[key]['value'] == pytest.approx(result[key], abs=1e-12)
        assert ci[key]['low'] <= ci[key]['value'] <= ci[key]['high']
    # Standard error of a mean of 0/1 indicators: sqrt(p (1 - p) / n).
    p = ci['precision']['value']
    assert ci['precision']['std'] == pytest.approx(np.sqrt(p * (1 - p) / 300), rel=0.15)
    assert bootstrap_intervals(stats, 500, seed=1) == ci  # seeded: reproducible
    with pytest.raises(ValueError):
        bootstrap_intervals(stats, num_resamples=1)


def duplicated_float_sets(kind, n_unique=300, d=256, seed=0):
    """Real-valued (non-integer) features with exact duplicates: ties exist on paper, not in naive arithmetic."""
    rs = np.random.RandomState(seed)
    base = np.maximum(rs.randn(n_unique, d) + 0.3 * rs.randn(1, d), 0).astype(np.float32) * 2.5
    if kind == 'duplicated rows':
        return base[rs.randint(0, n_unique, 2 * n_unique)], base[rs.randint(0, n_unique, 2 * n_unique)]
    if kind == 'identical sets':
        return base, base.copy()
    return base[rs.randint(0, 25, n_unique)], base[rs.randint(0, 25, n_unique)]  # heavy duplication


@pytest.mark.parametrize('kind', ['duplicated rows', 'identical sets', 'heavy duplication'])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_peer_metrics_are_tie_exact_on_duplicated_data(kind, dtype):
    """A distance tied with a radius on paper is tied in the computation, wherever it is computed."""
    real, fake = duplicated_float_sets(kind)
    for k in (3, 5):
        expected = prdc_reference(real, fake, k)
        ours = compute_prdc(real, fake, nearest_k=k, convention=PRDC.replace(dtype=dtype))
        # ratios of integer counts: equal up to the last bit of the division (1e-12), i.e. every decision equal
        assert ours == pytest.approx(expected, rel=1e-12, abs=0), (kind, dtype, k)
        symmetric = compute_symmetric_precision_recall(real, fake, k=k, convention=PRDC.replace(dtype=dtype))
        assert symmetric == pytest.approx(symmetric_reference(real, fake, k), rel=1e-12, abs=0)
    if kind == 'identical sets':
        assert ours['precision'] == ours['recall'] == ours['coverage'] == 1.0 and ours['density'] == 1.0


def test_tie_exactness_does_not_depend_on_block_sizes():
    real, fake = duplicated_float_sets('duplicated rows', n_unique=700, d=64, seed=3)
    expected = prdc_reference(real, fake, 3)
    from metrics.prdc import prdc_from_statistics
    for row_batch, col_batch in ((10000, 50000), (300, 700), (1024, 1000), (97, 131)):
        stats = manifold_statistics(real, fake, [3], 'prdc', Options(row_batch_size=row_batch, col_batch_size=col_batch))
        assert prdc_from_statistics(stats) == pytest.approx(expected, rel=1e-12, abs=0), (row_batch, col_batch)
