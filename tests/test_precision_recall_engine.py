"""precision_recall.py against independent NumPy computations, its input checks and device splitting."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import precision_recall as pr
from metrics.options import Options
from conftest import REPO


def brute_force(ref, evl, ks, eps=1e-5):
    """Official semantics in float64 with full matrices: (precision_pred, recall_pred, realism, nn)."""
    def sq(a, b):
        a = a.astype(np.float64)
        b = b.astype(np.float64)
        return ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    d_rr, d_ee, d_er = sq(ref, ref), sq(evl, evl), sq(evl, ref)
    r_ref = np.sort(d_rr, axis=1)[:, ks]
    r_eval = np.sort(d_ee, axis=1)[:, ks]
    precision_pred = (d_er[:, :, None] <= r_ref[None]).any(1).astype(np.int32)
    recall_pred = (d_er.T[:, :, None] <= r_eval[None]).any(1).astype(np.int32)
    realism = (r_ref[None, :, 0] / (d_er + eps)).max(1)
    return precision_pred, recall_pred, realism, d_er.argmin(1), r_ref


@pytest.mark.parametrize('seed,n,m,d,ks', [(0, 60, 45, 5, [1, 3]), (1, 130, 170, 16, [3]), (2, 33, 33, 2, [1, 2, 7])])
def test_matches_float64_brute_force_on_integer_grid(seed, n, m, d, ks):
    # Small integers: every distance is exact in float32, so ties (d == radius) are frequent and must use '<='.
    rs = np.random.RandomState(seed)
    ref = rs.randint(-2, 3, size=(n, d)).astype(np.float32)
    evl = rs.randint(-2, 3, size=(m, d)).astype(np.float32)
    evl[:5] = ref[:5]  # exact copies
    got = pr.knn_precision_recall_details(ref, evl, ks, options=Options(row_batch_size=7, col_batch_size=11),
                                          realism=True, neighbors=True, verbose=False)
    p, r, realism, nn, r_ref = brute_force(ref, evl, ks)
    np.testing.assert_array_equal(got['precision_pred'], p)
    np.testing.assert_array_equal(got['recall_pred'], r)
    np.testing.assert_array_equal(got['precision_nn'], nn)  # ties: first index, like np.argmin
    np.testing.assert_array_equal(got['ref_radii'], r_ref)
    np.testing.assert_allclose(got['precision_realism'], realism, rtol=1e-6)
    # A strict '<' (the prdc rule) would give a different answer here: the test can tell them apart.
    assert ((np.sort(((evl[:, None] - ref[None]) ** 2).sum(-1), 1)[:, :1] < 0).sum() == 0)
    d_er = ((evl[:, None].astype(np.float64) - ref[None]) ** 2).sum(-1)
    strict = (d_er[:, :, None] < r_ref[None]).any(1)
    assert (strict != p.astype(bool)).any()


def test_identical_sets_give_full_precision_and_recall():
    x = np.random.RandomState(3).randn(50, 8).astype(np.float32)
    state = pr.knn_precision_recall_features(x, x.copy(), nhood_sizes=[1, 3], verbose=False)
    np.testing.assert_array_equal(state['precision'], [1.0, 1.0])
    np.testing.assert_array_equal(state['recall'], [1.0, 1.0])


def test_disjoint_sets_give_zero():
    rs = np.random.RandomState(4)
    ref = rs.randn(40, 4).astype(np.float32)
    evl = ref + 1000.0
    state = pr.knn_precision_recall_features(ref, evl, verbose=False)
    np.testing.assert_array_equal(state['precision'], [0.0])
    np.testing.assert_array_equal(state['recall'], [0.0])


def test_batch_pairwise_distances_and_distance_block():
    rs = np.random.RandomState(5)
    u = rs.randn(7, 9).astype(np.float32)
    v = rs.randn(5, 9).astype(np.float32)
    expected = ((u[:, None].astype(np.float64) - v[None]) ** 2).sum(-1)
    np.testing.assert_allclose(pr.batch_pairwise_distances(u, v).numpy(), expected, rtol=1e-5, atol=1e-5)
    block = pr.DistanceBlock(9, num_gpus=1)
    out = block.pairwise_distances(u, v)
    assert out.shape == (7, 5) and out.dtype == np.float32
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    d_self = block.pairwise_distances(u, u)
    assert (d_self >= 0).all()  # clamped at 0 like the official max(., 0)
    half = pr.DistanceBlock(9, num_gpus=1, dtype='float16').pairwise_distances(u, v)
    assert half.dtype == np.float16
    np.testing.assert_allclose(half, expected, rtol=1e-2, atol=2e-2)


def test_manifold_estimator_official_return_order():
    rs = np.random.RandomState(6)
    ref = rs.randn(30, 3).astype(np.float32)
    evl = rs.randn(20, 3).astype(np.float32)
    m = pr.ManifoldEstimator(pr.DistanceBlock(3, 1), ref, nhood_sizes=[2, 4])
    assert m.D.shape == (30, 2) and m.num_nhoods == 2 and m.eps == 1e-5
    pred = m.evaluate(evl)
    assert isinstance(pred, np.ndarray) and pred.shape == (20, 2) and pred.dtype == np.int32
    pred2, realism = m.evaluate(evl, return_realism=True)
    pred3, nn = m.evaluate(evl, return_neighbors=True)
    pred4, realism4, nn4 = m.evaluate(evl, True, True)
    p, _, r, n, _ = brute_force(ref, evl, [2, 4])
    for got in (pred, pred2, pred3, pred4):
        np.testing.assert_array_equal(got, p)
    np.testing.assert_array_equal(nn, n)
    np.testing.assert_array_equal(nn4, n)
    np.testing.assert_allclose(realism, r, rtol=1e-5)


def test_clamp_sets_radii_above_percentile_to_zero():
    rs = np.random.RandomState(7)
    ref = rs.randn(101, 4).astype(np.float32)
    plain = pr.ManifoldEstimator(pr.DistanceBlock(4, 1), ref)
    clamped = pr.ManifoldEstimator(pr.DistanceBlock(4, 1), ref, clamp_to_percentile=50)
    threshold = np.percentile(plain.D, 50, axis=0)
    expected = np.where(plain.D > threshold, 0, plain.D)
    np.testing.assert_array_equal(clamped.D, expected)
    assert (clamped.D == 0).sum() == 50


BAD_INPUTS = [
    (np.full((10, 3), np.nan, np.float32), np.ones((10, 3), np.float32), 'non-finite'),
    (np.ones((10, 3), np.float32), np.array([[np.inf, 0, 0]] * 10, np.float32), 'non-finite'),
    (np.ones((0, 3), np.float32), np.ones((10, 3), np.float32), '0 rows'),
    (np.ones((10, 3), np.float32), np.ones((10, 4), np.float32), 'feature widths must match'),
    (np.ones((3, 3), np.float32), np.ones((10, 3), np.float32), 'k=3 needs more than 3 samples'),
    (np.ones((10, 3), np.float32), np.ones((2, 3), np.float32), 'k=3 needs more than 2 samples'),
    (np.ones((10,), np.float32), np.ones((10, 3), np.float32), '2-D'),
    (np.ones((10, 3, 1), np.float32), np.ones((10, 3), np.float32), '2-D'),
    (np.array([['a'] * 3] * 10), np.ones((10, 3), np.float32), 'numeric'),
]


@pytest.mark.parametrize('ref,evl,message', BAD_INPUTS)
def test_bad_input_is_a_clear_error(ref, evl, message):
    with pytest.raises(ValueError, match=message):
        pr.knn_precision_recall_features(ref, evl, verbose=False)


@pytest.mark.parametrize('kwargs,message', [({'nhood_sizes': []}, 'at least one'),
                                            ({'nhood_sizes': [0]}, 'positive'),
                                            ({'row_batch_size': 0}, 'row_batch_size'),
                                            ({'num_gpus': 0}, 'num_gpus'),
                                            ({'dtype': 'bfloat16'}, 'dtype')])
def test_bad_parameters_are_clear_errors(kwargs, message):
    x = np.random.RandomState(0).randn(20, 3).astype(np.float32)
    with pytest.raises(ValueError, match=message):
        pr.knn_precision_recall_features(x, x, verbose=False, **kwargs)


def test_float16_refuses_features_that_would_overflow():
    x = np.full((20, 4), 100.0, np.float32) + np.arange(20, dtype=np.float32)[:, None]
    with pytest.raises(ValueError, match='float16'):
        pr.knn_precision_recall_features(x, x, dtype='float16', verbose=False)
    pr.knn_precision_recall_features(x, x, dtype='float32', verbose=False)


def test_num_gpus_splits_columns_over_logical_devices_even_when_uneven():
    """Logical CPU devices stand in for GPUs; odd column batches (the official code fails) work.

    Columns are split over devices in whole COLUMN_TILEs (64 here, so that 201 columns make 4 tiles
    over 2 or 3 devices), so every output is bit-identical to one device by construction, on oneDNN
    and Eigen kernels alike, with TensorFlow's GEMM and with NumPy's.
    """
    script = textwrap.dedent('''
        import sys, numpy as np, tensorflow as tf
        cpu = tf.config.list_physical_devices('CPU')[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 3)
        sys.path.insert(0, %r)
        import precision_recall as pr
        import metrics.distance_block as db
        import metrics.gemm
        from metrics.options import Options
        metrics.gemm.COLUMN_TILE = 64
        assert db.column_parts(201, 3) == [(0, 128), (128, 192), (192, 201)]
        from dnnlib.tflib.tfutil import compute_devices
        assert [d.split('device:')[-1] for d in compute_devices(4)] == ['CPU:0', 'CPU:1', 'CPU:2', 'CPU:0']
        rs = np.random.RandomState(0)
        ref = rs.randn(525, 32).astype(np.float32); evl = rs.randn(499, 32).astype(np.float32)
        # row tiles of 64 (= COLUMN_TILE): NumPy does the diagonal squares as symmetric rank-k updates
        for gemm, rows in (('tensorflow', 128), ('numpy', 128), ('numpy', 64)):
            one = pr.knn_precision_recall_details(ref, evl, [3], options=Options(1, rows, 201, gemm=gemm),
                                                  neighbors=True, verbose=False)
            for g in (2, 3):
                many = pr.knn_precision_recall_details(ref, evl, [3], options=Options(g, rows, 201, gemm=gemm),
                                                       neighbors=True, verbose=False)
                for key in ('precision_pred', 'recall_pred', 'precision_nn', 'recall_nn', 'ref_radii', 'eval_radii'):
                    assert np.array_equal(one[key], many[key]), (gemm, rows, g, key)
        d = pr.DistanceBlock(32, num_gpus=2).pairwise_distances(ref[:5], evl[:7])
        assert d.shape == (5, 7)
        print('OK')
    ''' % REPO)
    result = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith('OK')


@pytest.mark.parametrize('gemm', ['tensorflow', 'numpy'])
@pytest.mark.parametrize('host_dtype', [np.float32, np.float64])
def test_streamed_feature_sets_give_identical_results(monkeypatch, gemm, host_dtype):
    """Sets above RESIDENT_BYTES_LIMIT stay in host memory and are converted per block: same answers, with
    either GEMM library, also when the host arrays are float64 (converted per block, not held twice)."""
    import metrics.knn as knn
    rs = np.random.RandomState(11)
    ref = rs.randn(300, 20).astype(host_dtype)
    evl = rs.randn(260, 20).astype(host_dtype)
    options = Options(1, 64, 100, gemm=gemm)
    resident = pr.knn_precision_recall_details(ref, evl, [1, 3], options=options, realism=True,
                                               neighbors=True, verbose=False)
    monkeypatch.setattr(knn, 'RESIDENT_BYTES_LIMIT', 1000)
    streamed_set = knn.PreparedFeatures(pr.DistanceBlock(20, gemm=gemm), ref)
    assert not streamed_set.resident and streamed_set.host is ref  # the caller's array, not a copy
    streamed = pr.knn_precision_recall_details(ref, evl, [1, 3], options=options, realism=True,
                                               neighbors=True, verbose=False)
    for key, value in resident.items():
        np.testing.assert_array_equal(streamed[key], value, err_msg=key)
