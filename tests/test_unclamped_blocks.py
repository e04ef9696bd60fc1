"""NumPy's distance blocks skip the clamp at 0 (metrics.knn): every radius and per-sample statistic must still be
what the clamped distances give, for both membership rules, on data whose unclamped distances go negative."""
import numpy as np
import pytest

from metrics import knn
from metrics.convention import convention
from metrics.distance_block import DistanceBlock, host_distances
from metrics.options import Options

FIELDS = ('inside', 'count', 'holds', 'realism', 'nn', 'nn_dist', 'gap')
KS = [1, 3]


def near_twins():
    """(real [120, 32], fake [120, 32]) float32: 60 rows far from the origin (large norms, so |u|^2 - 2 u.v + |v|^2
    rounds below 0 between near-equal rows), each with a twin one ulp away in one coordinate; the fake rows are the
    60 and their twins moved one ulp the other way in another coordinate. No row repeats exactly."""
    rs = np.random.RandomState(7)
    base = (rs.randn(60, 32) + 40).astype(np.float32)
    twins = base.copy()
    twins[:, 3] = np.nextafter(twins[:, 3], np.float32(np.inf))
    real = np.concatenate([base, twins])
    fake = real.copy()
    fake[:, 11] = np.nextafter(fake[:, 11], np.float32(-np.inf))
    return real, fake


def clamped_reference(u, v):
    """The clamped official distances of u against v by the same NumPy product the single-block pass runs."""
    return host_distances(u, knn.host_squared_norms(u), v, knn.host_squared_norms(v))


def side_reference(D, other_radii, strict, eps=1e-5):
    """Per-row statistics of the rows of D [n, m] against the spheres (radii [m, K]) of its columns."""
    inside = (D[:, :, None] < other_radii[None]) if strict else (D[:, :, None] <= other_radii[None])
    return {'inside': inside.any(1), 'count': inside.sum(1), 'realism': (other_radii[None, :, 0] / (D + eps)).max(1),
            'nn': D.argmin(1), 'nn_dist': D.min(1), 'gap': (D[:, :, None] - other_radii[None]).min(1)}


def test_sphere_bounds_give_the_clamped_comparison():
    radii = np.array([[-1.0, 0.0, 2.0, np.nan]], np.float32)
    np.testing.assert_array_equal(knn.sphere_bounds(radii, strict=False), [[-np.inf, 0, 2, -np.inf]])
    np.testing.assert_array_equal(knn.sphere_bounds(radii, strict=True), [[-np.inf, -np.inf, 2, -np.inf]])
    unclamped = np.array([-3.0, -1e-3, 0.0, 1.0, 2.0, 5.0], np.float32)
    for strict in (False, True):
        compare = np.less if strict else np.less_equal
        bounds = knn.sphere_bounds(radii, strict)[0]
        for r, bound in zip(radii[0], bounds):
            with np.errstate(invalid='ignore'):
                assert np.array_equal(compare(unclamped, bound), compare(np.maximum(unclamped, 0), r)), (strict, r)


@pytest.mark.parametrize('name', ['official', 'strict'])
def test_numpy_passes_equal_the_clamped_distances(name):
    real, fake = near_twins()
    assert clamped_reference(real, real).min() == 0
    raw = host_distances(real, knn.host_squared_norms(real), real, knn.host_squared_norms(real), clamp=False)
    assert (raw < 0).sum() > 60  # the data exercises the skipped clamp, within the set and across
    raw_cross = host_distances(fake, knn.host_squared_norms(fake), real, knn.host_squared_norms(real), clamp=False)
    assert (raw_cross < 0).sum() > 60

    conv = convention(name)
    block = DistanceBlock.for_convention(conv, real.shape[1], Options(gemm='numpy'))
    real_p, fake_p = knn.PreparedFeatures(block, real), knn.PreparedFeatures(block, fake)
    assert knn.pass_gemm(block, real_p, fake_p) == 'numpy'
    radii = {}
    for key, x, p in (('real', real, real_p), ('fake', fake, fake_p)):
        radii[key] = knn.kth_nearest_radii(block, p, KS)
        expected = np.partition(clamped_reference(x, x), max(KS), axis=1)[:, KS]
        np.testing.assert_array_equal(radii[key], expected)
        assert (radii[key][:, 0] == 0).sum() >= 60  # k = 1: the twin, at a distance that rounds below 0

    fake_side, real_side = knn.membership_pass(block, knn.Spheres(fake_p, radii['fake']),
                                               knn.Spheres(real_p, radii['real']), conv, fields=FIELDS)
    D = clamped_reference(fake, real)
    for side, matrix, other, own in ((fake_side, D, radii['real'], radii['fake']),
                                     (real_side, D.T, radii['fake'], radii['real'])):
        expected = side_reference(matrix, other, conv.strict)
        for field, value in expected.items():
            np.testing.assert_array_equal(getattr(side, field), value, err_msg='%s %s' % (name, field))
        within = (matrix[:, :, None] < own[:, None]) if conv.strict else (matrix[:, :, None] <= own[:, None])
        np.testing.assert_array_equal(side.holds, within.any(1))  # the row's own sphere holds a row of the other
    zero = radii['fake'][:, 0] == 0
    assert (raw_cross[zero] < 0).any(axis=1).sum() > 10  # rows with radius 0 and a raw distance below 0 ...
    assert (not fake_side.holds[zero, 0].any()) if conv.strict else fake_side.holds[zero, 0].all()  # '<=' only
