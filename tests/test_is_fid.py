"""Official IS / FID / KID ports: formulas against independent computations, and the frozen-graph runner."""
import os
import subprocess
import sys
import warnings

import numpy as np
import PIL.Image
import pytest
from scipy import linalg

from conftest import REPO, listing
from inception_standin import build_graph_def, reference_pool3, write_graph
from metrics import fid_official_tf as fid
from metrics import inception_score_official_tf as isc
from metrics.inception_graph import InceptionGraphError, InceptionNet


@pytest.fixture(scope='module')
def graph_file(tmp_path_factory):
    return write_graph(str(tmp_path_factory.mktemp('inception') / 'classify_image_graph_def.pb'))


@pytest.fixture(scope='module')
def net(graph_file):
    return InceptionNet(graph_file)


def is_reference(preds, splits):
    """Independent float64 IS: mean/std over floor-bounded splits of exp(mean KL(p_j || p_bar))."""
    preds = np.asarray(preds, np.float64)
    n = len(preds)
    bounds = [(i * n) // splits for i in range(splits + 1)]
    scores = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        part = preds[a:b]
        pbar = part.mean(0)
        kl = [np.sum(p[p > 0] * np.log(p[p > 0] / pbar[p > 0])) for p in part]
        scores.append(np.exp(np.mean(kl)))
    return np.mean(scores), np.std(scores)


@pytest.mark.parametrize('n,splits', [(100, 10), (23, 10), (7, 3), (50, 1)])
def test_inception_score_formula(n, splits):
    rs = np.random.RandomState(n)
    logits = rs.randn(n, 1008).astype(np.float32) * 3
    preds = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    mean, std = isc.inception_score_from_probabilities(preds.astype(np.float32), splits)
    ref_mean, ref_std = is_reference(preds, splits)
    assert isinstance(mean, np.floating) and mean.dtype == np.float32  # official arithmetic is float32
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-4)
    np.testing.assert_allclose(std, ref_std, rtol=1e-3, atol=1e-5)
    if n == 23:  # floor boundaries (2,2,3,2,...) differ from np.array_split (3,3,3,2,...): the test can tell
        alt = np.mean([np.exp(np.mean([np.sum(p * np.log(p / part.mean(0))) for p in part]))
                       for part in np.array_split(preds.astype(np.float64), splits)])
        assert abs(alt - ref_mean) > 1e-4


def test_inception_score_closed_forms():
    uniform = np.full((40, 1008), 1.0 / 1008, np.float32)
    mean, std = isc.inception_score_from_probabilities(uniform, 10)
    np.testing.assert_allclose([mean, std], [1.0, 0.0], atol=1e-6)
    # Each split holds 4 images, each sure of a different class: IS = 4 per split.
    eye = np.full((40, 1008), 1e-9, np.float32)
    for j in range(40):
        eye[j, j % 4 + 4 * (j // 4)] = 1.0
    eye /= eye.sum(1, keepdims=True)
    mean, std = isc.inception_score_from_probabilities(eye, 10)
    np.testing.assert_allclose(mean, 4.0, rtol=1e-4)


def test_inception_score_zero_probabilities_are_finite_with_warning():
    preds = np.zeros((20, 1008), np.float32)
    preds[np.arange(20), np.arange(20) % 5] = 1.0
    with pytest.warns(UserWarning, match='exactly 0'):
        mean, _ = isc.inception_score_from_probabilities(preds, 2)
    np.testing.assert_allclose(mean, 5.0, rtol=1e-6)


def test_graph_runner_batches_like_the_batch1_graph(net, graph_file):
    graph_def = build_graph_def()
    images = np.random.RandomState(1).randint(0, 256, (6, 37, 41, 3)).astype(np.float32)
    pool = net.run(images)
    assert pool.shape == (6, 2048) and pool.dtype == np.float32
    for i in (0, 5):
        ref, _ = reference_pool3(graph_def, images[i])
        # Batched = one image at a time up to GEMM rounding: Eigen kernels (CPUs without oneDNN) sum the
        # convolutions of a batch of 6 and of 1 in different orders (1 ulp on ~8% of values, measured).
        np.testing.assert_allclose(pool[i], ref, rtol=1e-6, atol=1e-6 * np.abs(ref).max())
    probs = net.run(images, want='probabilities')
    weights = [n for n in graph_def.node if n.name == 'softmax/weights'][0]
    import tensorflow as tf
    w = tf.make_ndarray(weights.attr['value'].tensor)
    logits = pool.astype(np.float64) @ w  # IS uses no bias
    expected = np.exp(logits - logits.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(probs, expected, rtol=1e-4, atol=1e-7)
    # Different image sizes in one call are batched separately.
    mixed = [images[0], images[1], np.zeros((20, 20, 3), np.float32) + 100]
    out = net.run_all(mixed, batch_size=8, progress=False)
    np.testing.assert_allclose(out[:2], pool[:2], rtol=1e-6, atol=1e-6 * np.abs(pool).max())


def test_get_inception_score_matches_formula_on_graph_outputs(net):
    images = list(np.random.RandomState(2).randint(0, 256, (23, 32, 32, 3)).astype(np.float32))
    mean, std = isc.get_inception_score(images, splits=10, batch_size=7, inception=net, progress=False)
    # The same batches of 7 as the script: the formula is checked on exactly the probabilities it used.
    probs = net.run_all(images, want='probabilities', batch_size=7, progress=False)
    np.testing.assert_allclose([mean, std], isc.inception_score_from_probabilities(probs, 10), rtol=1e-6)
    with pytest.raises(ValueError, match='0..255'):
        isc.get_inception_score([img / 255.0 for img in images], inception=net, progress=False)


def test_graph_checks_refuse_other_graphs(tmp_path):
    graph_def = build_graph_def()
    for node in graph_def.node:
        if node.name == 'pool_3':
            node.op = 'MaxPool'
    path = tmp_path / 'other.pb'
    path.write_bytes(graph_def.SerializeToString())
    with pytest.raises(InceptionGraphError, match="'pool_3' is a MaxPool, expected AvgPool"):
        InceptionNet(str(path))
    (tmp_path / 'junk.pb').write_bytes(b'\x00\x01garbage' * 10)
    with pytest.raises(InceptionGraphError):
        InceptionNet(str(tmp_path / 'junk.pb'))


def fid_reference(mu1, s1, mu2, s2):
    """Independent FID: trace of sqrt(s1 s2) from the eigenvalues of s1 s2 (all real, >= 0 for SPD inputs)."""
    eig = np.linalg.eigvals(s1 @ s2)
    return np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.sum(np.sqrt(np.abs(eig.real)))


def test_fid_identical_statistics_is_zero():
    act = np.random.RandomState(3).randn(300, 16)
    mu, sigma = fid.calculate_activation_statistics(act)
    assert abs(fid.calculate_frechet_distance(mu, sigma, mu, sigma)) < 1e-9


def test_fid_diagonal_gaussians_closed_form():
    rs = np.random.RandomState(4)
    mu1, mu2 = rs.randn(10), rs.randn(10)
    v1, v2 = rs.rand(10) + 0.1, rs.rand(10) + 0.1
    value = fid.calculate_frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2))
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(v1 + v2 - 2 * np.sqrt(v1 * v2))
    np.testing.assert_allclose(value, expected, rtol=1e-10)


def test_fid_general_covariances_against_eigenvalues():
    rs = np.random.RandomState(5)
    a, b = rs.randn(500, 32), rs.randn(400, 32) @ rs.randn(32, 32) * 0.3 + 0.2
    mu1, s1 = fid.calculate_activation_statistics(a)
    mu2, s2 = fid.calculate_activation_statistics(b)
    np.testing.assert_allclose(s1, np.cov(a.T), rtol=1e-12)  # unbiased (N - 1), like TTUR
    np.testing.assert_allclose(fid.calculate_frechet_distance(mu1, s1, mu2, s2), fid_reference(mu1, s1, mu2, s2),
                               rtol=1e-7)


def test_fid_singular_covariances_n_smaller_than_d():
    rs = np.random.RandomState(6)
    a, b = rs.randn(20, 64), rs.randn(25, 64) + 0.5
    mu1, s1 = fid.calculate_activation_statistics(a)
    mu2, s2 = fid.calculate_activation_statistics(b)
    assert np.linalg.matrix_rank(s1) < 64
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        value = fid.calculate_frechet_distance(mu1, s1, mu2, s2)
    assert np.isfinite(value)
    np.testing.assert_allclose(value, fid_reference(mu1, s1, mu2, s2), rtol=1e-3)


def test_fid_eps_branch_when_root_is_not_finite(monkeypatch):
    calls = []
    real_sqrtm = linalg.sqrtm

    def flaky(matrix):
        calls.append(matrix.copy())
        return np.full_like(matrix, np.nan) if len(calls) == 1 else real_sqrtm(matrix)
    monkeypatch.setattr(fid.linalg, 'sqrtm', flaky)
    s = np.eye(3)
    with pytest.warns(UserWarning, match='adding 1e-06 to diagonal'):
        value = fid.calculate_frechet_distance(np.zeros(3), s, np.zeros(3), s)
    np.testing.assert_allclose(calls[1], (s + 1e-6 * np.eye(3)) @ (s + 1e-6 * np.eye(3)))
    np.testing.assert_allclose(value, 6 - 2 * 3 * (1 + 1e-6), atol=1e-9)


def test_fid_imaginary_component_check(monkeypatch):
    monkeypatch.setattr(fid.linalg, 'sqrtm', lambda m: np.eye(2) * (1 + 0.5j))
    with pytest.raises(ValueError, match='Imaginary component'):
        fid.calculate_frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.eye(2))
    monkeypatch.setattr(fid.linalg, 'sqrtm', lambda m: np.eye(2) + np.array([[0, 0.5j], [0, 0]]))
    fid.calculate_frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.eye(2))  # off-diagonal only: accepted


def test_get_activations_drops_remainder_like_ttur(net):
    images = list(np.random.RandomState(7).randint(0, 256, (23, 16, 16, 3)).astype(np.float32))
    act = fid.get_activations(images, net, batch_size=10, progress=False)
    assert act.shape == (20, 2048) and act.dtype == np.float64
    full = fid.get_activations(images, net, batch_size=10, keep_remainder=True, progress=False)
    assert full.shape == (23, 2048)
    np.testing.assert_array_equal(full[:20], act)


def kid_reference(x, y):
    m = len(x)
    k = lambda a, b: (a @ b.T / a.shape[1] + 1) ** 3  # noqa: E731
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    return (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2 * kxy.sum() / m ** 2


def test_kid_against_direct_formula():
    rs = np.random.RandomState(8)
    x, y = rs.randn(60, 12), rs.randn(60, 12) + 0.3
    mean, std = fid.kernel_inception_distance(x, y, subsets=3, subset_size=60)
    np.testing.assert_allclose(mean, kid_reference(x, y), rtol=1e-10)  # full-size subsets: permutations only
    assert std < 1e-12
    mean, std = fid.kernel_inception_distance(x, y, subsets=20, subset_size=30)
    rng = np.random.RandomState(2020)
    values = []
    for _ in range(20):
        a = x[rng.choice(60, 30, replace=False)]
        b = y[rng.choice(60, 30, replace=False)]
        values.append(kid_reference(a, b))
    np.testing.assert_allclose([mean, std], [np.mean(values), np.std(values)], rtol=1e-10)
    with pytest.raises(ValueError, match='larger than'):
        fid.kernel_inception_distance(x, y, subset_size=100)


def write_folder(path, seed, n, size=24):
    path.mkdir()
    images = np.random.RandomState(seed).randint(0, 256, (n, size, size, 3)).astype(np.uint8)
    for i, image in enumerate(images):
        PIL.Image.fromarray(image).save(str(path / ('%03d.png' % i)))
    return images


def run_script(name, *args):
    return subprocess.run([sys.executable, os.path.join(REPO, 'metrics', name)] + list(args), capture_output=True,
                          text=True, timeout=600)


def test_command_lines(tmp_path, graph_file, net):
    a = write_folder(tmp_path / 'a', 1, 12)
    b = write_folder(tmp_path / 'b', 2, 10)
    result = run_script('precalc_stats_official_tf.py', str(tmp_path / 'a'), str(tmp_path / 'a.npz'),
                        '--batch_size', '5', '-i', graph_file, '--quiet')
    assert result.returncode == 0, result.stderr[-2000:]
    stats = np.load(str(tmp_path / 'a.npz'))
    assert sorted(stats.files) == ['mu', 'sigma'] and stats['sigma'].shape == (2048, 2048)
    # The scripts' batches of 5 (GEMM rounding depends on the batch on some CPU kernels); TTUR drops the last 2.
    expected_mu, expected_sigma = fid.calculate_activation_statistics(
        net.run_all(list(a.astype(np.float32)), batch_size=5, progress=False)[:10])
    np.testing.assert_allclose(stats['mu'], expected_mu, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(stats['sigma'], expected_sigma, rtol=1e-5, atol=1e-9)
    folders = run_script('fid_official_tf.py', str(tmp_path / 'a'), str(tmp_path / 'b'), '--batch_size', '5',
                         '-i', graph_file, '--quiet', '--kid', '--kid_subset_size', '5', '--kid_subsets', '4')
    mixed = run_script('fid_official_tf.py', str(tmp_path / 'a.npz'), str(tmp_path / 'b'), '--batch_size', '5',
                       '-i', graph_file, '--quiet')
    for result in (folders, mixed):
        assert result.returncode == 0, result.stderr[-2000:]
    value = float(folders.stdout.split('FID:')[1].split()[0])
    mu2, sigma2 = fid.calculate_activation_statistics(net.run_all(list(b.astype(np.float32)), batch_size=5,
                                                                  progress=False))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        expected = fid.calculate_frechet_distance(expected_mu, expected_sigma, mu2, sigma2)
    np.testing.assert_allclose(value, expected, rtol=1e-4)
    assert float(mixed.stdout.split('FID:')[1].split()[0]) == pytest.approx(value, rel=1e-9)
    fid.save_statistics(str(tmp_path / 'b.npz'), mu2, sigma2)
    both = run_script('fid_official_tf.py', str(tmp_path / 'a.npz'), str(tmp_path / 'b.npz'), '--quiet')
    assert both.returncode == 0, both.stderr[-2000:]
    assert float(both.stdout.split('FID:')[1].split()[0]) == pytest.approx(value, rel=1e-4)
    assert 'KID:' in folders.stdout
    result = run_script('inception_score_official_tf.py', str(tmp_path / 'b'), '--splits', '2', '-i', graph_file,
                        '--quiet')
    assert result.returncode == 0, result.stderr[-2000:]
    mean = float(result.stdout.split('Inception Score:')[1].split()[0])
    probs = net.run(b.astype(np.float32), want='probabilities')
    np.testing.assert_allclose(mean, isc.inception_score_from_probabilities(probs, 2)[0], rtol=1e-5)
    (tmp_path / 'empty').mkdir()
    result = run_script('fid_official_tf.py', str(tmp_path / 'empty'), str(tmp_path / 'a.npz'), '-i', graph_file)
    assert result.returncode == 2 and 'no PNG or JPEG images' in result.stderr


def test_graph_is_fetched_from_the_tgz_with_open_url(tmp_path, graph_file):
    import tarfile
    from metrics import inception_graph
    archive = tmp_path / 'inception-2015-12-05.tgz'
    with tarfile.open(str(archive), 'w:gz') as tar:
        tar.add(graph_file, arcname='classify_image_graph_def.pb')
        tar.add(graph_file, arcname='imagenet_synset_to_human_label_map.txt')
    model_dir = tmp_path / 'model'
    path = inception_graph.graph_path(str(model_dir), url='file://' + str(archive))
    assert open(path, 'rb').read() == open(graph_file, 'rb').read()
    assert listing(model_dir) == ['classify_image_graph_def.pb']
    empty = tmp_path / 'empty.tgz'
    with tarfile.open(str(empty), 'w:gz') as tar:
        tar.add(graph_file, arcname='something_else.pb')
    with pytest.raises(InceptionGraphError, match='has no classify_image_graph_def.pb'):
        inception_graph.graph_path(str(tmp_path / 'model2'), url='file://' + str(empty))
