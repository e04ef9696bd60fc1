"""The conventions report: each convention's decisions against independent computations, and placing a port."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import precision_recall
from benchmarks.feature_recipes import vgglike
from conftest import REPO
from metrics import conventions


@pytest.fixture(scope='module')
def vgg_sets():
    return vgglike(300, 1, 700, 512), vgglike(300, 2, 650, 512, latent_scale=0.95, bias=-0.58)


@pytest.fixture(scope='module')
def report(vgg_sets):
    real, fake = vgg_sets
    return conventions.conventions_report(real, fake, [3, 5])


def euclidean_fp16_reference(real, fake, k):
    """Independent emulation of the stylegan2-ada-pytorch family in NumPy: float16 features, Euclidean distances
    rounded to float16, k-th smallest as radius, `<=`."""
    def dist(a, b):
        a, b = a.astype(np.float16).astype(np.float64), b.astype(np.float16).astype(np.float64)
        d2 = (a * a).sum(1)[:, None] - 2 * a @ b.T + (b * b).sum(1)[None]
        return np.sqrt(np.maximum(d2, 0)).astype(np.float16).astype(np.float64)
    real_radii = np.sort(dist(real, real), axis=1)[:, k]
    fake_radii = np.sort(dist(fake, fake), axis=1)[:, k]
    d = dist(fake, real)
    return (d <= real_radii[None]).any(axis=1), (d <= fake_radii[:, None]).any(axis=0)


def test_each_convention_gives_its_implementation_decisions(vgg_sets, report):
    real, fake = vgg_sets
    for dtype, name in (('float32', 'official'), ('float16', 'official_fp16')):
        details = precision_recall.knn_precision_recall_details(real, fake, [3, 5], dtype=dtype, verbose=False)
        c = report['conventions'][name]
        assert c['precision'] == details['precision'].tolist() and c['recall'] == details['recall'].tolist()
        if name == 'official':
            np.testing.assert_array_equal(report['official_fake'], details['precision_pred'].astype(bool))
            np.testing.assert_array_equal(report['official_real'], details['recall_pred'].astype(bool))
    for i, k in enumerate([3, 5]):
        evl, ref = euclidean_fp16_reference(real, fake, k)
        c = report['conventions']['euclidean_fp16']
        assert abs(c['precision'][i] - evl.mean()) <= 2.0 / len(fake)  # float16 rounding of float32 vs float64 sums
        assert abs(c['recall'][i] - ref.mean()) <= 2.0 / len(real)


def test_float16_flips_stay_within_the_predicted_bound(report):
    bound = report['boundary']
    for name in ('official_fp16', 'euclidean_fp16'):
        c = report['conventions'][name]
        for i in range(2):
            assert c['fake_flips'][i] <= bound['fake']['within_fp16'][i]
            assert c['real_flips'][i] <= bound['real']['within_fp16'][i]
    assert sum(report['conventions']['official_fp16']['fake_flips']) > 0  # the synthetic set does show drift


def test_exact_ties_are_exactly_what_the_strict_rule_changes():
    rs = np.random.RandomState(0)
    real = rs.randint(-2, 3, size=(200, 4)).astype(np.float32)  # small integers: many exact ties
    fake = rs.randint(-2, 3, size=(180, 4)).astype(np.float32)
    r = conventions.conventions_report(real, fake, [3])
    ties, strict = r['boundary'], r['conventions']['strict']
    assert ties['fake']['exact_ties'] == strict['fake_flips'] and ties['real']['exact_ties'] == strict['real_flips']
    assert strict['fake_flips'][0] > 10
    from metrics.prdc import compute_prdc
    prdc = compute_prdc(real, fake, nearest_k=3)
    assert strict['precision'][0] == prdc['precision'] and strict['recall'][0] == prdc['recall']


def test_port_numbers_and_per_sample_decisions_are_placed(tmp_path, vgg_sets, report):
    c = report['conventions']['euclidean_fp16']
    numbers = tmp_path / 'port.json'
    numbers.write_text(json.dumps({'precision': c['precision'], 'recall': c['recall']}))
    port = conventions.place_port(conventions.read_port_results(str(numbers)), report,
                                  {'official': (report['official_fake'], report['official_real'])})
    assert port['closest'] == 'euclidean_fp16' and port['distance']['euclidean_fp16'] == 0
    decisions = report['official_fake'][:, 0].copy()
    decisions[[5, 17]] = ~decisions[[5, 17]]
    npz = str(tmp_path / 'port.npz')
    np.savez(npz, precision_pred=decisions.astype(np.uint8), recall_pred=report['official_real'][:, 0].astype(np.uint8))
    real, fake = vgg_sets
    placed = conventions.conventions_report(real, fake, [3], port=conventions.read_port_results(npz))['port']
    assert placed['closest'] == 'official' and placed['distance']['official'] == 2
    assert placed['disagreeing_samples']['official'] == {'fake': [5, 17], 'real': []}
    bad = str(tmp_path / 'bad.npz')
    np.savez(bad, precision_pred=np.full(3, 2))
    with pytest.raises(ValueError, match='0/1 decisions'):
        conventions.read_port_results(bad)


def test_cli_writes_the_report(tmp_path, vgg_sets):
    real, fake = vgg_sets
    np.save(str(tmp_path / 'r.npy'), real)
    np.save(str(tmp_path / 'f.npy'), fake)
    (tmp_path / 'port.json').write_text(json.dumps({'precision': 0.5, 'recall': 0.3}))
    result = subprocess.run([sys.executable, os.path.join(REPO, 'run_metric.py'), '--real_features',
                             str(tmp_path / 'r.npy'), '--fake_features', str(tmp_path / 'f.npy'), '--conventions',
                             '--port_results', str(tmp_path / 'port.json'), '--save_path', str(tmp_path / 'out'),
                             '--quiet'], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'closest convention' in result.stdout and 'within float16 rounding' in result.stdout
    assert result.stderr == ''  # no TensorFlow start-up or retracing lines
    saved = json.loads((tmp_path / 'out' / 'results.json').read_text())['evaluation']['conventions']
    assert set(saved['conventions']) == {'official', 'official_fp16', 'strict', 'euclidean_fp16'}
    assert saved['port']['closest'] in saved['conventions']
    decisions = np.load(str(tmp_path / 'out' / 'conventions_official_decisions.npz'))
    assert decisions['precision_pred'].mean() == saved['conventions']['official']['precision'][0]


def test_a_convention_that_cannot_evaluate_the_features_is_named_not_fatal():
    rs = np.random.RandomState(0)
    real = (rs.rand(60, 64) * 40).astype(np.float32)  # squared norms up to ~4e4: 2 u.v overflows float16
    fake = (rs.rand(50, 64) * 40).astype(np.float32)
    report = conventions.conventions_report(real, fake, [3])
    assert 'float16' in report['conventions']['official_fp16']['error']
    assert 'error' not in report['conventions']['euclidean_fp16']  # square roots stay in the float16 range
    assert 'not computable' in conventions.format_report(report)
