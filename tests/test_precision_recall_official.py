"""precision_recall.py against the outputs of the official code (../shared/fixtures/pr_official)."""
import json
import os

import numpy as np
import pytest

from conftest import shared_path
import precision_recall as pr
from metrics.options import Options

CASES = ['gauss_n1000_d64', 'shift_n1500_m1000_d512', 'vgglike_n600_d4096', 'dup_gauss_n525_m500_d32',
         'dup_int_n525_m500_d32', 'multik_n800_d128']
REALISM_CASE = 'realism_n1000_m250_d4096'
RADII_RTOL_FP32 = 1e-5
RADII_RTOL_FP16 = 2e-3       # ~4 float16 ulps: our float16 kernels are not the TF1 graph's (see README)
FP16_DECISION_DIFF = 0.002   # at most 0.2% of in/out decisions may differ from the official float16 run
FP16_NN_DIFF = 0.005


def load_case(case):
    folder = shared_path('fixtures', 'pr_official')
    info = json.load(open(os.path.join(folder, case + '.json')))
    inputs = np.load(os.path.join(folder, case + '.inputs.npz'))
    outputs = np.load(os.path.join(folder, case + '.outputs.npz'))
    return info, inputs['ref_features'], inputs['eval_features'], outputs


def nearest_sq_dist(query, ref):
    """float64 squared distance from each query row to its nearest ref row."""
    q = query.astype(np.float64)
    r = ref.astype(np.float64)
    d = (q * q).sum(1)[:, None] - 2 * q @ r.T + (r * r).sum(1)[None]
    return d.min(axis=1)


def assert_rel_close(actual, expected, rtol, where=None, what=''):
    actual = np.asarray(actual, np.float64)
    expected = np.asarray(expected, np.float64)
    assert actual.shape == expected.shape, what
    if where is not None:
        actual, expected = actual[where], expected[where]
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=0, err_msg=what)


def run_details(info, ref, evl, dtype, **overrides):
    p = dict(info['params'])
    p.update(overrides)
    options = Options(p.get('num_gpus', 1), p['row_batch_size'], p['col_batch_size'])
    return pr.knn_precision_recall_details(ref, evl, p['nhood_sizes'], dtype, options, realism=True, neighbors=True,
                                           verbose=False)


@pytest.mark.parametrize('case', CASES)
def test_fp32_matches_official_exactly(case):
    info, ref, evl, out = load_case(case)
    d = run_details(info, ref, evl, 'float32')
    official = info['official_fp32']
    np.testing.assert_array_equal(d['precision'], official['precision'])
    np.testing.assert_array_equal(d['recall'], official['recall'])
    for key in ('precision_pred', 'recall_pred', 'precision_nn', 'recall_nn'):
        np.testing.assert_array_equal(d[key], out['official_fp32__' + key], err_msg=key)
    assert d['precision_pred'].dtype == np.int32 and d['precision_nn'].dtype == np.int32
    # Radii: relative agreement where they are not pure round-off of exact duplicates.
    for key in ('ref_radii', 'eval_radii'):
        expected = out['official_fp32__' + key]
        assert d[key].dtype == np.float32
        assert_rel_close(d[key], expected, RADII_RTOL_FP32, expected > 1e-3, key)
    # Realism: where the nearest distance is not round-off (README: copies vary ~60% between kernels).
    for key, query, refs in (('precision_realism', evl, ref), ('recall_realism', ref, evl)):
        mask = nearest_sq_dist(query, refs) > 1e-3
        assert mask.mean() > 0.7
        assert_rel_close(d[key], out['official_fp32__' + key], RADII_RTOL_FP32, mask, key)


@pytest.mark.parametrize('case', CASES)
def test_official_api_returns_official_dict(case):
    info, ref, evl, _ = load_case(case)
    p = info['params']
    state = pr.knn_precision_recall_features(ref, evl, nhood_sizes=p['nhood_sizes'],
                                             row_batch_size=p['row_batch_size'],
                                             col_batch_size=p['col_batch_size'], num_gpus=1)
    assert sorted(state) == ['precision', 'recall']
    assert state['precision'].dtype == np.float64 and state['precision'].shape == (len(p['nhood_sizes']),)
    np.testing.assert_array_equal(state['precision'], info['official_fp32']['precision'])
    np.testing.assert_array_equal(state['recall'], info['official_fp32']['recall'])


def test_fp16_integer_case_identical_to_pre2021_official():
    info, ref, evl, out = load_case('dup_int_n525_m500_d32')
    d = run_details(info, ref, evl, 'float16')
    assert d['ref_radii'].dtype == np.float16
    for key in ('precision_pred', 'recall_pred', 'precision_nn', 'recall_nn', 'ref_radii', 'eval_radii',
                'precision_realism', 'recall_realism'):
        np.testing.assert_array_equal(d[key], out['official_fp16_pre2021__' + key], err_msg=key)
    np.testing.assert_array_equal(d['precision'], info['official_fp16_pre2021']['precision'])


@pytest.mark.parametrize('case', [c for c in CASES if c != 'dup_int_n525_m500_d32'])
def test_fp16_within_stated_tolerance_of_pre2021_official(case):
    info, ref, evl, out = load_case(case)
    d = run_details(info, ref, evl, 'float16')
    pre = 'official_fp16_pre2021__'
    for key in ('precision_pred', 'recall_pred'):
        differing = (d[key] != out[pre + key]).sum()
        assert differing <= FP16_DECISION_DIFF * d[key].size, (key, differing)
    for key in ('precision_nn', 'recall_nn'):
        assert (d[key] != out[pre + key]).sum() <= FP16_NN_DIFF * d[key].size, key
    for key in ('ref_radii', 'eval_radii'):
        expected = out[pre + key].astype(np.float64)
        assert_rel_close(d[key], expected, RADII_RTOL_FP16, expected > 1e-2, key)
    # The float16 study: precision/recall within one decision of the official pre-2021 numbers.
    n_eval, n_ref = len(evl), len(ref)
    np.testing.assert_allclose(d['precision'], info['official_fp16_pre2021']['precision'], atol=1.5 / n_eval)
    np.testing.assert_allclose(d['recall'], info['official_fp16_pre2021']['recall'], atol=1.5 / n_ref)


@pytest.mark.parametrize('dtype,prefix,rtol', [('float32', 'official_fp32__', RADII_RTOL_FP32),
                                               ('float16', 'official_fp16_pre2021__', RADII_RTOL_FP16)])
def test_realism_with_clamp_matches_official(dtype, prefix, rtol):
    info, ref, evl, out = load_case(REALISM_CASE)
    p = info['params']
    block = pr.DistanceBlock(ref.shape[1], 1, dtype=dtype)
    manifold = pr.ManifoldEstimator(block, ref, p['row_batch_size'], p['col_batch_size'], p['nhood_sizes'],
                                    clamp_to_percentile=50)
    pred, realism, nn = manifold.evaluate(evl, return_realism=True, return_neighbors=True)
    expected_radii = out[prefix + 'radii_clamped'].astype(np.float64)
    assert ((manifold.D == 0) == (expected_radii == 0)).all()  # same spheres pruned
    assert_rel_close(manifold.D, expected_radii, rtol, expected_radii > 0, 'radii_clamped')
    np.testing.assert_array_equal(pred, out[prefix + 'pred'])
    np.testing.assert_array_equal(nn, out[prefix + 'nn'])
    assert realism.dtype == np.float32
    assert_rel_close(realism, out[prefix + 'realism'], rtol, None, 'realism')
    if dtype == 'float32':
        assert pred.mean() == info['official_fp32']['fraction_in_manifold_after_clamp'][0]
        unclamped = pr.ManifoldEstimator(block, ref, 97, 131, p['nhood_sizes'])
        pred2, realism2, nn2 = unclamped.evaluate(evl, True, True)
        np.testing.assert_array_equal(pred2, out[prefix + 'noclamp_pred'])
        np.testing.assert_array_equal(nn2, out[prefix + 'noclamp_nn'])
        assert_rel_close(realism2, out[prefix + 'noclamp_realism'], rtol, None, 'noclamp_realism')


@pytest.mark.parametrize('row,col', [(97, 131), (1, 5000), (10000, 50000)])
def test_batch_sizes_do_not_change_decisions(row, col):
    info, ref, evl, out = load_case('multik_n800_d128')
    d = run_details(info, ref, evl, 'float32', row_batch_size=row, col_batch_size=col)
    for key in ('precision_pred', 'recall_pred', 'precision_nn', 'recall_nn'):
        np.testing.assert_array_equal(d[key], out['official_fp32__' + key], err_msg=key)


def test_fp16_runs_on_vgg_scale_features_within_stated_tolerance():
    """Features with squared norms up to ~3.2e4 (VGG fc2 scale) run in float16 and match the pre-2021 run.

    Scaling inputs by 2 scales every float16 operation of the official order exactly by 4 (powers of two
    change no rounding while nothing overflows), so the official float16 outputs x4 are the reference.
    """
    info, ref, evl, out = load_case('vgglike_n600_d4096')
    ref, evl = ref * 2, evl * 2
    assert 16376 < float(np.max(np.sum(ref.astype(np.float64) ** 2, axis=1))) < 65504  # refused before
    d = run_details(info, ref, evl, 'float16')
    pre = 'official_fp16_pre2021__'
    for key in ('precision_pred', 'recall_pred'):
        assert (d[key] != out[pre + key]).sum() <= FP16_DECISION_DIFF * d[key].size, key
    for key in ('ref_radii', 'eval_radii'):
        expected = 4 * out[pre + key].astype(np.float64)
        assert_rel_close(d[key], expected, RADII_RTOL_FP16, expected > 1e-2, key)
    np.testing.assert_allclose(d['precision'], info['official_fp16_pre2021']['precision'], atol=1.5 / len(evl))
    np.testing.assert_allclose(d['recall'], info['official_fp16_pre2021']['recall'], atol=1.5 / len(ref))


def test_fp16_overflow_inside_the_arithmetic_is_refused_not_a_number():
    # Nearly parallel vectors with squared norms ~5.3e4: |u|^2 fits float16, 2 u.v does not.
    rs = np.random.RandomState(0)
    x = (np.full([20, 4096], 3.6) + rs.randn(20, 4096) * 0.01).astype(np.float32)
    with pytest.raises(ValueError, match="dtype='float16': the distance arithmetic overflowed"):
        pr.knn_precision_recall_features(x, x + 0.01, dtype='float16', verbose=False)
    with pytest.raises(ValueError, match='reach the float16 maximum'):
        pr.knn_precision_recall_features(x * 2, x, dtype='float16', verbose=False)
