"""The GEMM choice of the distance blocks (metrics/gemm.py): NumPy's BLAS or TensorFlow's, same official results."""
import numpy as np
import pytest
import tensorflow as tf

import precision_recall as pr
from benchmarks.feature_recipes import vgglike
from dnnlib import util as gemm_util
from metrics import gemm, knn
from metrics.distance_block import DistanceBlock, host_distances
from metrics.options import Options
from test_precision_recall_official import CASES, load_case, run_details


def exact_product(u, v):
    return u.astype(np.float64) @ v.astype(np.float64).T


def test_numpy_product_is_tiled_aligned_and_uses_a_symmetric_update_on_diagonal_tiles(monkeypatch):
    monkeypatch.setattr(gemm, 'COLUMN_TILE', 64)
    rs = np.random.RandomState(0)
    x = rs.randn(300, 48).astype(np.float32)
    full = gemm.numpy_product(x[:50], x[:200])  # rows 0..49 are the first rows of the columns: rank-k square
    assert full.ctypes.data % gemm.ALIGN_BYTES == 0 and full.shape == (50, 200)
    np.testing.assert_allclose(full, exact_product(x[:50], x[:200]), rtol=0, atol=2e-5)
    assert np.array_equal(full[:, :50], full[:, :50].T)  # the rank-k update fills a symmetric square
    # Every column tile is one GEMM of its own: the same columns give the same values from another split.
    tail = gemm.numpy_product(x[:50].copy(), x[64:200])
    np.testing.assert_array_equal(full[:, 64:], tail)
    assert gemm.is_row_prefix(x[:50], x[:200]) and not gemm.is_row_prefix(x[1:51], x[:200])
    assert not gemm.is_row_prefix(x[:50].copy(), x[:200])


def test_numpy_results_reach_tensorflow_without_a_copy():
    array = gemm.aligned_empty((33, 17), np.float32)
    array[...] = np.arange(33 * 17, dtype=np.float32).reshape(33, 17)
    tensor = gemm.as_tensor(array)
    assert np.shares_memory(np.asarray(tensor), array)
    np.testing.assert_array_equal(tf.reduce_sum(tensor, axis=1).numpy(), array.sum(axis=1))
    unaligned = np.arange(10, dtype=np.float32)[1:]  # falls back to a copy
    np.testing.assert_array_equal(gemm.as_tensor(unaligned).numpy(), unaligned)


def test_host_distances_follow_the_official_order_and_clamp():
    rs = np.random.RandomState(1)
    u, v = rs.randn(40, 24).astype(np.float32), rs.randn(30, 24).astype(np.float32)
    nu, nv = knn.host_squared_norms(u), knn.host_squared_norms(v)
    G = gemm.numpy_product(u, v)
    expected = np.maximum((nu[:, None] - 2 * G) + nv[None, :], 0)  # NumPy, written as the official code
    np.testing.assert_array_equal(host_distances(u, nu, v, nv), expected)
    exact = ((u.astype(np.float64)[:, None] - v.astype(np.float64)[None]) ** 2).sum(-1)
    np.testing.assert_allclose(expected, exact, rtol=1e-5, atol=1e-4)
    assert host_distances(u, nu, u[:5], nu[:5]).min() == 0  # self distances clamp at 0


def test_resolve_keeps_gpus_float16_and_exact_ties_on_tensorflow():
    assert gemm.resolve('auto', 'float32', ['/device:CPU:0']) == 'auto'  # decided by the first pass's race
    assert gemm.resolve('auto', 'float32', ['/device:GPU:0']) == 'tensorflow'
    assert gemm.resolve('numpy', 'float16', ['/device:CPU:0']) == 'tensorflow'
    assert gemm.resolve('tensorflow', 'float32', ['/device:CPU:0']) == 'tensorflow'
    assert DistanceBlock(8, exact_ties=True, gemm='numpy').gemm == 'tensorflow'
    with pytest.raises(ValueError, match='gemm must be one of'):
        gemm.resolve('blas', 'float32', ['/device:CPU:0'])
    with pytest.raises(ValueError, match='gemm must be one of'):
        Options(gemm='blas')


def test_race_runs_tensorflow_first_and_scales_the_times(monkeypatch):
    clock = iter([0.0, 3.0, 10.0, 12.0])  # TensorFlow 3 s, NumPy 2 s
    monkeypatch.setattr(gemm.time, 'perf_counter', lambda: next(clock))
    order = []
    runs = {name: (lambda name=name: order.append(name) or name.upper()) for name in gemm.GEMMS}
    winner, results, seconds = gemm.race(runs)
    assert order == ['tensorflow', 'numpy'] and winner == 'numpy'
    assert results == {'tensorflow': 'TENSORFLOW', 'numpy': 'NUMPY'} and seconds == {'tensorflow': 3.0, 'numpy': 2.0}
    clock = iter([0.0, 3.0, 10.0, 12.0])
    assert gemm.race(runs, {'numpy': 2.0})[0] == 'tensorflow'  # 2 s counted as 4 s of the whole work


@pytest.mark.parametrize('winner', ['tensorflow', 'numpy'])
def test_auto_races_on_the_first_tiles_and_gives_the_winners_own_numbers(winner, monkeypatch):
    """Whichever library wins the race, every number (radii, decisions, realism, neighbours) is bit for bit what a
    call forced onto that library gives, and the race is decided once per call, on the first pass."""
    monkeypatch.setattr(gemm, 'COLUMN_TILE', 64)  # several column tiles at a test's size
    monkeypatch.setattr(knn, 'ROW_TILE', 64)
    monkeypatch.setattr(gemm, '_decided', {})
    real, fake = vgglike(64, 1, 300, 48), vgglike(64, 2, 290, 48, latent_scale=0.95, bias=-0.58)
    races = []

    def race(runs, scales=None):
        races.append(sorted(runs))
        results = {name: run() for name, run in runs.items()}
        # both race on the whole second column tile of the first block (the real work's shape)
        assert all(tuple(D.shape) == (64, 64) for D, _ in results.values())
        return winner, results, {name: 1.0 for name in runs}
    monkeypatch.setattr(gemm, 'race', race)
    options = Options(row_batch_size=64, col_batch_size=10000)
    auto = pr.knn_precision_recall_details(real, fake, [3, 5], options=options, realism=True,
                                                         neighbors=True, verbose=False)
    assert races == [['numpy', 'tensorflow']] and gemm.choices_made()['float32 d=48']['gemm'] == winner
    forced = pr.knn_precision_recall_details(real, fake, [3, 5], options=options.replace(gemm=winner),
                                                           realism=True, neighbors=True, verbose=False)
    for key in forced:
        np.testing.assert_array_equal(auto[key], forced[key], err_msg=key)


def test_no_choice_outlives_a_call():
    """Nothing of a race is stored: a new block is undecided again (a busy moment cannot slow a later call)."""
    block = DistanceBlock(8)
    block.decide('numpy', {'tensorflow': 2.0, 'numpy': 1.0})
    assert block.gemm == 'numpy' and DistanceBlock(8).gemm == 'auto'
    assert not hasattr(gemm, 'measured_choice') and 'gemm choices' not in gemm_util.CACHE_SUBFOLDERS


def test_gemm_rates_time_both_libraries_in_alternation(monkeypatch):
    order, product = [], gemm.product

    def recorded(name, U, V):
        order.append(name)
        return product(name, U, V)
    monkeypatch.setattr(gemm, 'product', recorded)
    rates = gemm.gemm_rates(32, repeats=2)
    assert set(rates) == {'tensorflow', 'numpy'} and all(rate > 0 for rate in rates.values())
    # one warm-up run each, then rounds of one timed run each: a drift in machine speed touches both alike
    assert order == ['tensorflow', 'numpy'] * 3


def test_shares_rows_finds_repeats_within_and_across_sets_and_signed_zeros():
    block = DistanceBlock(6, gemm='numpy')
    rs = np.random.RandomState(2)
    a, b = rs.randn(50, 6).astype(np.float32), rs.randn(40, 6).astype(np.float32)
    prepared = lambda x: knn.PreparedFeatures(block, x)  # noqa: E731
    assert not knn.shares_rows(prepared(a)) and not knn.shares_rows(prepared(a), prepared(b))
    assert knn.shares_rows(prepared(np.concatenate([a, a[7:8]])))
    b2 = b.copy()
    b2[30] = a[12]
    assert knn.shares_rows(prepared(a), prepared(b2)) and not knn.shares_rows(prepared(b2))
    z = np.zeros((3, 6), np.float32)
    z[1, 2] = -0.0
    z[2] = 1
    assert knn.shares_rows(prepared(z))  # 0.0 and -0.0 are the same value
    # equal fingerprints of unequal rows are compared whole: no false repeat
    c = np.zeros((2, 6), np.float32)
    c[0, :2] = np.array([1, 2], np.uint32).view(np.float32)
    c[1, :2] = np.array([2, 1], np.uint32).view(np.float32)
    pc = prepared(c)
    assert pc.fingerprints()[0] == pc.fingerprints()[1] and not knn.shares_rows(pc)
    # wide rows: the fingerprint reads a sample of the columns; rows equal there and different elsewhere are
    # compared whole, rows equal everywhere (a -0.0 outside the sample too) are repeats
    wide_block = DistanceBlock(600, gemm='numpy')
    w = rs.randn(3, 600).astype(np.float32)
    sampled = knn.fingerprint_columns(np.arange(600)[None, :])[0]
    assert list(sampled) == list(range(16)) + list(range(256, 272)) + list(range(512, 528))
    w[1] = w[0]
    w[1, 20] += 1.0
    pw = knn.PreparedFeatures(wide_block, w)
    assert pw.fingerprints()[0] == pw.fingerprints()[1] and not knn.shares_rows(pw)
    w[2] = w[0]
    w[0, 300] = w[2, 300] = 0.0
    w[2, 300] = -0.0
    assert knn.shares_rows(knn.PreparedFeatures(wide_block, w))


def test_every_choice_runs_passes_over_repeated_rows_with_tensorflow(monkeypatch):
    """'numpy' too: a speed setting never changes a number (OpenBLAS's position-dependent products would)."""
    rs = np.random.RandomState(3)
    a, b = rs.randn(30, 5).astype(np.float32), rs.randn(20, 5).astype(np.float32)
    auto, forced = DistanceBlock(5), DistanceBlock(5, gemm='numpy')
    assert auto.gemm == 'auto' and forced.gemm == 'numpy'
    pa, pb = knn.PreparedFeatures(auto, a), knn.PreparedFeatures(auto, b)
    assert knn.pass_gemm(auto, pa, pb) == 'auto' and knn.pass_gemm(auto, pa) == 'auto'  # raced on the first block
    dup = knn.PreparedFeatures(auto, np.concatenate([b, a[:1]]))
    assert knn.pass_gemm(auto, pa, dup) == 'tensorflow' and knn.pass_gemm(auto, dup) == 'auto'
    assert knn.pass_gemm(forced, knn.PreparedFeatures(forced, a), knn.PreparedFeatures(forced, a)) == 'tensorflow'
    assert knn.pass_gemm(forced, knn.PreparedFeatures(forced, a), knn.PreparedFeatures(forced, b)) == 'numpy'
    assert knn.pass_gemm(DistanceBlock(5, gemm='tensorflow'), pa, pb) == 'tensorflow'


@pytest.mark.parametrize('case', CASES)
def test_official_fixtures_with_numpy_products(case, monkeypatch):
    """Every official fp32 fixture, exactly (decisions, neighbours, P&R), when 'auto' picks NumPy: the
    fixtures with duplicated rows run their passes with TensorFlow (OpenBLAS would give a copy a different
    dot product by its column, and the first copy would no longer be the nearest neighbour)."""
    monkeypatch.setattr(gemm, 'COLUMN_TILE', 16)  # fixture sets span several tiles: 'auto' races
    monkeypatch.setattr(gemm, '_decided', {})
    monkeypatch.setattr(gemm, 'race', lambda runs, scales=None: ('numpy', {n: r() for n, r in runs.items()}, {}))
    info, ref, evl, out = load_case(case)
    d = run_details(info, ref, evl, 'float32')
    np.testing.assert_array_equal(d['precision'], info['official_fp32']['precision'])
    np.testing.assert_array_equal(d['recall'], info['official_fp32']['recall'])
    for key in ('precision_pred', 'recall_pred', 'precision_nn', 'recall_nn'):
        np.testing.assert_array_equal(d[key], out['official_fp32__' + key], err_msg=key)
    block = DistanceBlock(ref.shape[1])
    uses = knn.pass_gemm(block, knn.PreparedFeatures(block, ref), knn.PreparedFeatures(block, evl))
    assert uses == ('tensorflow' if case.startswith('dup_') else 'auto')
    assert case.startswith('dup_') or gemm.choices_made()['float32 d=%d' % ref.shape[1]]['gemm'] == 'numpy'


def test_both_libraries_give_identical_decisions_on_vgg_like_features():
    from benchmarks.feature_recipes import vgglike
    ref, evl = vgglike(300, 1, 700, 512), vgglike(300, 2, 600, 512, latent_scale=0.95, bias=-0.58)
    results = [pr.knn_precision_recall_details(ref, evl, [3, 5], options=Options(1, 256, 500, gemm=name),
                                               realism=True, neighbors=True, verbose=False)
               for name in ('tensorflow', 'numpy')]
    for key in ('precision', 'recall', 'precision_pred', 'recall_pred', 'precision_nn', 'recall_nn'):
        np.testing.assert_array_equal(results[0][key], results[1][key], err_msg=key)
    for key in ('ref_radii', 'eval_radii', 'precision_realism'):
        np.testing.assert_allclose(results[0][key], results[1][key], rtol=1e-5, err_msg=key)


def test_host_tensor_shares_aligned_memory_and_copies_the_rest():
    aligned = gemm.aligned_empty((8, 16), np.float32)
    aligned[:] = np.arange(128, dtype=np.float32).reshape(8, 16)
    shared = gemm.host_tensor(aligned)
    aligned[0, 0] = -7.0  # the tensor is a view of this memory
    assert float(shared[0, 0]) == -7.0
    raw = np.zeros(8 * 16 + 1, np.float32)
    unaligned = raw[1:].reshape(8, 16) if raw[1:].ctypes.data % gemm.ALIGN_BYTES else raw[:-1].reshape(8, 16)
    unaligned[:] = 3.0
    read_only = np.full((8, 16), 5.0, np.float32)
    read_only.flags.writeable = False  # DLPack cannot export it: copied
    for source in (unaligned, read_only, [[1.5] * 16] * 8):
        tensor = gemm.host_tensor(source)
        np.testing.assert_array_equal(tensor.numpy(), np.asarray(source, np.float32))
    copied = gemm.host_tensor(unaligned)
    unaligned[0, 0] = 9.0
    assert float(copied[0, 0]) == 3.0
