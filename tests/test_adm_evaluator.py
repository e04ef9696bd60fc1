"""OpenAI's ADM evaluator as a protocol: its five numbers on ../shared/fixtures/adm_evaluator (made by running
evaluator.py unchanged with a stand-in Inception graph; README inside), and its semantics piece by piece."""
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from conftest import REPO, listing, shared_path
from metrics import adm_evaluator_official_tf as adm
from metrics.adm_batches import AdmBatch, BatchError
from metrics.adm_pr import adm_precision_recall

CASE = 'pb_nostats_32'
REL = 1e-5  # IS/FID/sFID: the fixture machine's kernels differ from this one's in the last float32 bits


def fixture(*parts):
    return shared_path('fixtures', 'adm_evaluator', *parts)


def golden():
    return json.load(open(fixture(CASE, 'golden.json')))['golden']


def test_pr_is_and_fid_equal_the_evaluator_on_its_own_activations():
    """From evaluator.py's intermediate arrays (stages.npz): radii, per-sample decisions, P&R, IS, FID and sFID are
    the printed numbers exactly."""
    stages, expected = np.load(fixture(CASE, 'stages.npz')), golden()
    pr = adm_precision_recall(stages['ref_pool'], stages['sample_pool'])
    np.testing.assert_array_equal(pr['ref_radii'], stages['radii_ref'][:, 0])
    np.testing.assert_array_equal(pr['sample_radii'], stages['radii_sample'][:, 0])
    np.testing.assert_array_equal(pr['sample_in_ref'], stages['sample_status'][:, 0])
    np.testing.assert_array_equal(pr['ref_in_sample'], stages['ref_status'][:, 0])
    assert (pr['precision'], pr['recall'], pr['float32_blocks']) == (expected['Precision'], expected['Recall'], 0)
    assert adm.inception_score(stages['sample_softmax']) == expected['Inception Score']
    sample, ref = adm.statistics(stages['sample_pool']), adm.statistics(stages['ref_pool'])
    np.testing.assert_array_equal(sample[0], stages['sample_mu'])
    assert adm.frechet_distance(*sample, *ref) == expected['FID']
    sample_s, ref_s = adm.statistics(stages['sample_spatial']), adm.statistics(stages['ref_spatial'])
    assert adm.frechet_distance(*sample_s, *ref_s) == expected['sFID']


def test_the_command_line_prints_the_evaluators_five_lines(tmp_path):
    result = subprocess.run([sys.executable, '-m', 'metrics.adm_evaluator_official_tf', fixture(CASE, 'ref.npz'),
                             fixture(CASE, 'sample.npz'), '--inception',
                             fixture('graphs', 'standin_main_seed9001.pb'), '--json', str(tmp_path / 'five.json'),
                             '--quiet'], capture_output=True, text=True, cwd=REPO, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line for line in result.stdout.splitlines() if ': ' in line]
    assert [line.split(': ')[0] for line in lines] == list(adm.FIVE)
    printed = {line.split(': ')[0]: float(line.split(': ')[1]) for line in lines}
    assert printed == json.load(open(str(tmp_path / 'five.json')))
    expected = golden()
    assert (printed['Precision'], printed['Recall']) == (expected['Precision'], expected['Recall'])
    for name in ('Inception Score', 'FID', 'sFID'):
        assert printed[name] == pytest.approx(expected[name], rel=REL), name
    assert 'Traceback' not in result.stderr and 'I0000' not in result.stderr


def test_protocol_row_with_a_statistics_reference(tmp_path):
    """--protocol adm: a reference batch carrying dataset statistics gives FID/sFID from them and P&R from its
    images; the decisions file, the activations and the conventions report with the adm row are written."""
    stages = np.load(fixture(CASE, 'stages.npz'))
    with np.load(fixture(CASE, 'ref.npz')) as ref:
        images = ref['arr_0']
    other = stages['sample_pool'][:200], stages['sample_spatial'][:200]  # statistics of another set of images
    stats = dict(mu=other[0].mean(0), sigma=np.cov(other[0], rowvar=False), mu_s=other[1].mean(0),
                 sigma_s=np.cov(other[1], rowvar=False))
    np.savez(str(tmp_path / 'ref_stats.npz'), arr_0=images, **stats)
    out = tmp_path / 'out'
    result = subprocess.run([sys.executable, os.path.join(REPO, 'run_metric.py'), '--protocol', 'adm', '--real',
                             str(tmp_path / 'ref_stats.npz'), '--fake', fixture(CASE, 'sample.npz'), '--inception',
                             fixture('graphs', 'standin_main_seed9001.pb'), '--save_path', str(out), '--quiet',
                             '--conventions', '--save_features'], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    entry = json.load(open(str(out / 'results.json')))['adm']
    assert entry['statistics_from_file'] is True and entry['num_reference'] == 300 and entry['num_sample'] == 400
    assert (entry['Precision'], entry['Recall']) == (golden()['Precision'], golden()['Recall'])
    saved = np.load(str(out / 'features' / 'adm_sample.npz'))
    sample_stats = adm.statistics(saved['pool'])
    assert entry['FID'] == adm.frechet_distance(*sample_stats, stats['mu'], stats['sigma'])
    assert 'FID: %s' % entry['FID'] in result.stdout
    decisions = np.load(str(out / 'adm_decisions.npz'))
    np.testing.assert_array_equal(decisions['precision_pred'], stages['sample_status'][:, 0])
    np.testing.assert_array_equal(decisions['recall_pred'], stages['ref_status'][:, 0])
    adm_row = entry['conventions']['conventions']['adm']
    assert (adm_row['precision'], adm_row['recall']) == ([golden()['Precision']], [golden()['Recall']])
    assert listing(out) == ['adm_decisions.npz', 'conventions_official_decisions.npz', 'features', 'results.json']


def write_npz(path, **arrays):
    np.savez(str(path), **arrays)
    return str(path)


@pytest.mark.parametrize('arrays, message', [
    (dict(images=np.zeros([4, 8, 8, 3], np.uint8)), 'has no arr_0'),
    (dict(arr_0=np.zeros([4, 8, 8, 3], np.float32)), 'must be uint8 images'),
    (dict(arr_0=np.zeros([4, 8, 8, 4], np.uint8)), r'uint8 images \[N, H, W, 3\]'),
    (dict(arr_0=np.zeros([4, 8, 8, 3], np.uint8), mu=np.zeros(2048)), 'all four statistics or none'),
    (dict(arr_0=np.zeros([4, 8, 8, 3], np.uint8), mu=np.zeros(2048), sigma=np.zeros([2048, 2047]),
          mu_s=np.zeros(2023), sigma_s=np.zeros([2023, 2023])), r'sigma must be a float array of shape \[2048, 2048\]'),
    (dict(arr_0=np.zeros([4, 8, 8, 3], np.uint8), mu=np.full(2048, np.nan), sigma=np.zeros([2048, 2048]),
          mu_s=np.zeros(2023), sigma_s=np.zeros([2023, 2023])), 'mu holds NaN'),
])
def test_bad_batches_are_refused_naming_the_problem(tmp_path, arrays, message):
    with pytest.raises(BatchError, match=message):
        AdmBatch(write_npz(tmp_path / 'b.npz', **arrays), 'reference batch')


def test_a_truncated_batch_is_refused_before_any_work(tmp_path):
    images = np.random.RandomState(0).randint(0, 255, [20, 16, 16, 3]).astype(np.uint8)
    with zipfile.ZipFile(str(tmp_path / 'short.npz'), 'w') as archive:  # a member shorter than its header declares
        with archive.open('arr_0.npy', 'w') as member:
            np.lib.format.write_array(member, images)
    data = open(str(tmp_path / 'short.npz'), 'rb').read()
    (tmp_path / 'cut.npz').write_bytes(data[:len(data) // 2])
    with pytest.raises(BatchError, match='not a readable .npz batch'):
        AdmBatch(str(tmp_path / 'cut.npz'))
    batch = AdmBatch(write_npz(tmp_path / 'ok.npz', arr_0=images))
    got = np.concatenate(list(batch.batches(6)))
    np.testing.assert_array_equal(got, images)
    assert [len(b) for b in batch.batches(6)] == [6, 6, 6, 2]
    result = subprocess.run([sys.executable, '-m', 'metrics.adm_evaluator_official_tf', str(tmp_path / 'cut.npz'),
                             str(tmp_path / 'ok.npz')], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert result.returncode == 2 and 'not a readable .npz batch' in result.stderr
    assert 'Traceback' not in result.stderr


def test_a_block_whose_float16_distances_overflow_is_recomputed_in_float32():
    """Integer features whose squared norms exceed 65504 in one block: that block is recomputed by the float32
    formula (exact on these integers), the others stay float16; the decisions equal exact arithmetic."""
    rs = np.random.RandomState(4)
    ref = rs.randint(0, 5, size=(60, 8)).astype(np.float32)
    sample = rs.randint(0, 5, size=(50, 8)).astype(np.float32)
    sample[:5] += 100  # squared norms > 65504: every block touching the sample overflows in float16
    pr = adm_precision_recall(ref, sample)
    assert pr['float32_blocks'] == 2  # the sample's radii block and the reference x sample block

    def squared(a, b):
        return ((a[:, None, :].astype(np.float64) - b[None, :, :]) ** 2).sum(-1)
    ref_radii = np.sort(squared(ref, ref), axis=1)[:, 3]
    sample_radii = np.sort(squared(sample, sample), axis=1)[:, 3]
    np.testing.assert_array_equal(pr['ref_radii'], ref_radii)  # small integers: exact in float16 too
    np.testing.assert_array_equal(pr['sample_radii'], sample_radii)
    np.testing.assert_array_equal(pr['sample_in_ref'], (squared(sample, ref) <= ref_radii[None, :]).any(1))
    np.testing.assert_array_equal(pr['ref_in_sample'], (squared(ref, sample) <= sample_radii[None, :]).any(1))


def test_a_folder_or_zip_of_images_gives_the_batchs_activations(tmp_path):
    """The same images as PNG files in a folder and in a .zip give the .npz batch's activations exactly."""
    import PIL.Image
    with np.load(fixture(CASE, 'ref.npz')) as data:
        images = data['arr_0'][:70]
    np.savez(str(tmp_path / 'ref.npz'), arr_0=images)
    (tmp_path / 'pngs').mkdir()
    with zipfile.ZipFile(str(tmp_path / 'pngs.zip'), 'w') as archive:
        for i, image in enumerate(images):
            PIL.Image.fromarray(image).save(str(tmp_path / 'pngs' / ('%03d.png' % i)))
            archive.write(str(tmp_path / 'pngs' / ('%03d.png' % i)), 'images/%03d.png' % i)
    net = adm.inception_graph(fixture('graphs', 'standin_main_seed9001.pb'))
    expected = adm.activations_of(adm.open_input(str(tmp_path / 'ref.npz'), 'reference batch'), net, False)
    for source in ('pngs', 'pngs.zip'):
        got = adm.activations_of(adm.open_input(str(tmp_path / source), 'reference batch'), net, False)
        np.testing.assert_array_equal(got.pool, expected.pool)
        np.testing.assert_array_equal(got.spatial, expected.spatial)
    with zipfile.ZipFile(str(tmp_path / 'empty.zip'), 'w') as archive:
        archive.writestr('readme.txt', 'no images here')
    with pytest.raises(BatchError, match='zip without PNG/JPEG images'):
        adm.open_input(str(tmp_path / 'empty.zip'), 'reference batch')


def test_the_graph_is_cached_from_a_pb_or_a_tgz_source(tmp_path):
    """graph_path keeps OpenAI's .pb as it is and extracts TensorFlow's .tgz (sources given as local files: no
    network in tests); a source that is not the graph is refused and nothing is cached."""
    import tarfile
    from metrics import inception_graph
    pb = fixture('graphs', 'standin_main_seed9001.pb')
    with tarfile.open(str(tmp_path / 'inception.tgz'), 'w:gz') as archive:
        archive.add(pb, arcname='classify_image_graph_def.pb')
    for source, folder in ((pb, tmp_path / 'from_pb'), (str(tmp_path / 'inception.tgz'), tmp_path / 'from_tgz')):
        cached = inception_graph.graph_path(str(folder), url=source)
        assert open(cached, 'rb').read() == open(pb, 'rb').read()
    (tmp_path / 'junk.pb').write_bytes(b'not a graph')
    with pytest.raises(inception_graph.InceptionGraphError):
        inception_graph.graph_path(str(tmp_path / 'junk'), url=str(tmp_path / 'junk.pb'))
    assert not os.path.exists(str(tmp_path / 'junk' / 'classify_image_graph_def.pb'))
