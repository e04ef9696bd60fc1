"""run_metric.py end to end on miniature assets: tiny StyleGAN, tiny VGG-format pickle, tfrecords and folders."""
import json
import os
import re
import subprocess
import sys

import numpy as np
import PIL.Image
import pytest

import dnnlib.tflib as tflib
import precision_recall
from conftest import REPO, listing, shared_path
from datasets.tfrecords import DatasetError, TFRecordImages, write_tfrecords
from networks.loading import load_network_file
from network_factory import write_vgg_pickle

NUM_REAL = 40


@pytest.fixture(scope='module')
def assets(tmp_path_factory):
    root = tmp_path_factory.mktemp('assets')
    stylegan = shared_path('fixtures', 'stylegan_official', 'tiny32', 'network.pkl')
    vgg = write_vgg_pickle(str(root / 'vgg16.pkl'), width_divisor=16, seed=0)
    _, _, Gs = load_network_file(stylegan)
    images = Gs.run(np.random.RandomState(7).randn(NUM_REAL, 32), None, truncation_psi=1.0, randomize_noise=True,
                    output_transform=dict(func=tflib.convert_images_to_uint8))
    write_tfrecords(str(root / 'ffhq'), images)
    folder = root / 'reals'
    folder.mkdir()
    for i, image in enumerate(images):
        PIL.Image.fromarray(image.transpose(1, 2, 0)).save(str(folder / ('%03d.png' % i)))
    return {'root': root, 'stylegan': stylegan, 'vgg': vgg, 'images': images, 'tfrecords': str(root / 'ffhq'),
            'folder': str(folder)}


def run_metric(*args, cwd):
    result = subprocess.run([sys.executable, os.path.join(REPO, 'run_metric.py')] + list(args),
                            capture_output=True, text=True, timeout=900, cwd=str(cwd))
    return result


def common(assets, out):
    return ['--network', assets['stylegan'], '--feature_network', assets['vgg'], '--save_path', str(out),
            '--cache_dir', str(assets['root'] / 'cache'), '--quiet']


def vgg_features(assets, images):
    _, _, vgg = load_network_file(assets['vgg'])
    return vgg.run(images, minibatch_size=8)


def test_tfrecords_written_in_dataset_tool_layout(assets):
    names = sorted(os.listdir(assets['tfrecords']))
    assert names == ['ffhq-r02.tfrecords', 'ffhq-r03.tfrecords', 'ffhq-r04.tfrecords', 'ffhq-r05.tfrecords']
    reader = TFRecordImages(assets['tfrecords'], verbose=False)
    assert reader.path.endswith('ffhq-r05.tfrecords') and reader.num_images == NUM_REAL
    assert reader.shape == [3, 32, 32]
    images = np.stack(list(reader.iterate(5)))
    np.testing.assert_array_equal(images, assets['images'][5:])
    small = TFRecordImages.__new__(TFRecordImages)
    first = next(iter(small._dataset(os.path.join(assets['tfrecords'], 'ffhq-r04.tfrecords'))))
    assert len(first) > 16 * 16 * 3  # the 16x16 level holds box-averaged images


def test_truncation_sweep_and_realism_end_to_end(assets, tmp_path):
    out = tmp_path / 'out'
    result = run_metric('--data_dir', assets['tfrecords'], '--truncation_sweep', '--realism_score',
                        '--num_images', '24', '--num_gen_images', '16', '--show_n_images', '4', '--save_features',
                        '--bootstrap', '30', *common(assets, out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr == ''  # no TensorFlow start-up lines, retracing warnings or tracebacks
    assert 'precision 95% CI' in result.stdout and 'official README' not in result.stdout  # not the official setup
    # Official text file.
    lines = (out / 'stylegan_truncation.txt').read_text().splitlines()
    assert lines[0] == 'truncation_psi,precision,recall' and len(lines) == 4
    table = np.loadtxt(str(out / 'stylegan_truncation.txt'), delimiter=',', skiprows=1)
    assert re.match(r'^1\.000000000000000000e\+00,', lines[1])
    np.testing.assert_array_equal(table[:, 0].astype(np.float32), np.float32([1.0, 0.7, 0.3]))
    summary = json.loads((out / 'results.json').read_text())
    sweep = summary['truncation_sweep']
    # The stream is shared and realism runs first: windows start at 24, 48 % 40, 72 % 40.
    assert summary['realism']['real_window_start'] == 0
    assert [row['real_window_start'] for row in sweep] == [24, 8, 32]
    reals = assets['images']
    for row, line in zip(sweep, table):
        saved = np.load(str(out / 'features' / ('truncation_%0.2f.npz' % row['truncation_psi'])))
        ref, evl = saved['real_features'], saved['fake_features']
        window = reals[(row['real_window_start'] + np.arange(24)) % NUM_REAL]
        np.testing.assert_allclose(ref, vgg_features(assets, window), rtol=1e-4, atol=1e-4)
        state = precision_recall.knn_precision_recall_features(ref, evl, verbose=False)
        assert line[1] == np.float32(state['precision'][0]) and line[2] == np.float32(state['recall'][0])
        assert row['precision'] == state['precision'].tolist()
    # Realism: 4 highest and 4 lowest with the official names, and a grid.
    realism_dir = out / 'stylegan_realism' / 'truncation1.00'
    names = listing(realism_dir)
    assert len([n for n in names if re.match(r'high_realism_\d+\.\d{6}_\d\.png$', n)]) == 4
    assert len([n for n in names if re.match(r'low_realism_\d+\.\d{6}_\d\.png$', n)]) == 4
    assert 'realism_grid.png' in names and (out / 'truncation_sweep.png').exists()
    highest = summary['realism']['scores_highest']
    assert highest == sorted(highest, reverse=True) and min(highest) >= max(summary['realism']['scores_lowest'])
    with PIL.Image.open(str(realism_dir / names[0])) as image:
        assert image.size == (32, 32) and image.mode == 'RGB'
    # Real features were cached: a second run reads them instead of recomputing.
    again = run_metric('--data_dir', assets['tfrecords'], '--truncation_sweep', '--num_images', '24',
                       '--truncations', '1.0', *common(assets, tmp_path / 'again'), cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert 'Features of 40 images from cache' in again.stdout


def test_folders_and_feature_files(assets, tmp_path):
    out = tmp_path / 'out'
    fakes = tmp_path / 'fakes'
    fakes.mkdir()
    gray = PIL.Image.fromarray(assets['images'][0, 0])  # grayscale and RGBA are converted with a warning
    gray.save(str(fakes / 'a_gray.png'))
    PIL.Image.fromarray(assets['images'][1].transpose(1, 2, 0)).convert('RGBA').save(str(fakes / 'b_rgba.png'))
    for i in range(2, 12):
        PIL.Image.fromarray(assets['images'][i].transpose(1, 2, 0)).resize((48, 48)).save(str(fakes / ('%02d.jpg' % i)))
    result = run_metric('--real_dir', assets['folder'], '--fake_dir', str(fakes), '--realism_score',
                        '--save_features', '--show_n_images', '3', *common(assets, out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'converted to RGB' in result.stderr
    summary = json.loads((out / 'results.json').read_text())['evaluation']
    assert summary['num_real'] == NUM_REAL and summary['num_fake'] == 12
    saved = np.load(str(out / 'features' / 'evaluation.npz'))
    state = precision_recall.knn_precision_recall_features(saved['real_features'], saved['fake_features'], verbose=False)
    assert summary['precision'] == state['precision'].tolist() and summary['recall'] == state['recall'].tolist()
    assert len([n for n in os.listdir(str(out / 'realism')) if n.startswith('high_realism_')]) == 3
    # The same numbers from feature files.
    np.savez(str(tmp_path / 'real.npz'), features=saved['real_features'])
    np.save(str(tmp_path / 'fake.npy'), saved['fake_features'])
    result = run_metric('--real_features', str(tmp_path / 'real.npz'), '--fake_features', str(tmp_path / 'fake.npy'),
                        '--save_path', str(tmp_path / 'out2'), '--quiet', '--bootstrap', '200', '--prdc', '3',
                        '--nhood_sizes', '3', '5', cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    summary2 = json.loads((tmp_path / 'out2' / 'results.json').read_text())['evaluation']
    assert summary2['precision'][0] == summary['precision'][0] and summary2['recall'][0] == summary['recall'][0]
    from metrics.emergent_asymmetry import compute_symmetric_precision_recall
    from metrics.prdc import compute_prdc
    assert summary2['extras']['prdc'] == compute_prdc(saved['real_features'], saved['fake_features'], nearest_k=3)
    symmetric = compute_symmetric_precision_recall(saved['real_features'], saved['fake_features'], k=3)
    assert summary2['extras']['symmetric'] == symmetric
    state5 = precision_recall.knn_precision_recall_features(saved['real_features'], saved['fake_features'], [3, 5],
                                                            verbose=False)
    assert sorted(summary2['bootstrap']) == ['k=3', 'k=5']  # intervals for every k, labelled
    for i, label in enumerate(['k=3', 'k=5']):
        for name in ('precision', 'recall'):
            ci = summary2['bootstrap'][label][name]
            assert ci['value'] == pytest.approx(state5[name][i]) and ci['low'] <= ci['value'] <= ci['high']
        assert '%s  precision' % label in result.stdout
    assert set(summary2['extras']['bootstrap']) >= {'precision', 'recall', 'density', 'coverage'}


def test_ms_ssim_of_a_fake_folder(assets, tmp_path):
    from metrics.ms_ssim import ms_ssim_diversity
    result = run_metric('--real_dir', assets['folder'], '--fake_dir', assets['folder'], '--ms_ssim',
                        '--ms_ssim_filter_size', '2', *common(assets, tmp_path / 'out'), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((tmp_path / 'out' / 'results.json').read_text())['evaluation']
    expected = ms_ssim_diversity(assets['images'].transpose(0, 2, 3, 1), filter_size=2)
    assert summary['ms_ssim'] == expected
    assert summary['precision'] == [1.0] and summary['recall'] == [1.0]  # the same folder on both sides


def test_bad_inputs_give_clear_messages(assets, tmp_path):
    empty = tmp_path / 'empty'
    empty.mkdir()
    broken = tmp_path / 'broken'
    broken.mkdir()
    for i in range(5):  # more than k images, so that reading them is what fails
        (broken / ('x%d.png' % i)).write_bytes(b'not an image at all')
    np.save(str(tmp_path / 'wide.npy'), np.ones((10, 7), np.float32))
    np.save(str(tmp_path / 'narrow.npy'), np.ones((10, 5), np.float32))
    cases = [
        (['--real_dir', str(empty), '--fake_dir', assets['folder']], 'no PNG or JPEG images'),
        (['--real_dir', assets['folder'], '--fake_dir', str(broken)], 'cannot read image'),
        (['--real_features', str(tmp_path / 'wide.npy'), '--fake_features', str(tmp_path / 'narrow.npy')],
         'feature widths must match'),
        (['--data_dir', str(tmp_path / 'missing'), '-t'], 'does not exist'),
        (['--data_dir', str(empty), '-t'], 'no \\*.tfrecords files'),
        (['--data_dir', assets['tfrecords']], 'nothing to do'),
        (['--real_dir', assets['folder'], '--data_dir', assets['tfrecords'], '-t'], 'only one of'),
        (['--real_dir', assets['folder'], '--fake_dir', assets['folder'], '-t'], 'cannot be combined'),
    ]
    for args, message in cases:
        result = run_metric(*args, *common(assets, tmp_path / 'o'), cwd=tmp_path)
        assert result.returncode == 2, (args, result.stderr[-2000:])
        assert re.search(message, result.stderr), (message, result.stderr[-2000:])
        assert 'Traceback' not in result.stderr


def test_corrupt_and_truncated_tfrecords(assets, tmp_path):
    source = os.path.join(assets['tfrecords'], 'ffhq-r05.tfrecords')
    data = open(source, 'rb').read()
    truncated = tmp_path / 'truncated'
    truncated.mkdir()
    (truncated / 'ffhq-r05.tfrecords').write_bytes(data[:len(data) - 100])
    with pytest.raises(DatasetError, match='truncated'):
        TFRecordImages(str(truncated), verbose=False)
    corrupt = tmp_path / 'corrupt'
    corrupt.mkdir()
    from datasets.tfrecords import _scan_records
    offsets = _scan_records(source)
    damaged = bytearray(data)
    damaged[offsets[3] + 12 + 200] ^= 0xFF  # a byte inside record 3's body: its CRC no longer matches
    (corrupt / 'ffhq-r05.tfrecords').write_bytes(bytes(damaged))
    reader = TFRecordImages(str(corrupt), verbose=False)
    with pytest.raises(DatasetError, match='corrupt record'):
        list(reader.iterate())
    header = bytearray(data)
    header[offsets[5] + 2] ^= 0x01  # a length byte: the header CRC catches it
    (corrupt / 'ffhq-r05.tfrecords').write_bytes(bytes(header))
    with pytest.raises(DatasetError, match='corrupt header of record 5'):
        TFRecordImages(str(corrupt), verbose=False)
    garbage = tmp_path / 'garbage'
    garbage.mkdir()
    (garbage / 'x.tfrecords').write_bytes(b'hello world, not a tfrecord file')
    with pytest.raises(DatasetError):
        TFRecordImages(str(garbage), verbose=False)


def test_more_images_than_the_dataset_wraps_like_the_official_stream(assets, tmp_path):
    result = run_metric('--data_dir', assets['tfrecords'], '-t', '--num_images', '50', '--truncations', '1.0',
                        '--save_features', *common(assets, tmp_path / 'out'), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'the stream wraps around' in result.stdout
    ref = np.load(str(tmp_path / 'out' / 'features' / 'truncation_1.00.npz'))['real_features']
    np.testing.assert_array_equal(ref[40:], ref[:10])


def test_torchscript_feature_network_and_trusted_pickle_code_end_to_end(assets, tmp_path):
    """--feature_network vgg16.pt (no PyTorch) and --trust_pickle_code give the numbers of their networks."""
    from networks import loading
    pt = shared_path('fixtures', 'vgg16_torchscript', 'vgg16_tiny.pt')
    out = tmp_path / 'pt'
    result = run_metric('--real_dir', assets['folder'], '--fake_dir', assets['folder'], '--feature_network', pt,
                        '--save_features', '--save_path', str(out), '--cache_dir', str(tmp_path / 'cache'),
                        '--num_images', '30', cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'layers.fc2.weight [256, 256] -> fc2/weight [out,in]' in result.stdout
    assert 'Traceback' not in result.stderr and 'torch' not in result.stderr.replace('torchscript', '')
    summary = json.loads((out / 'results.json').read_text())
    record = summary['networks']['feature_network']
    assert record['load_path'] == 'TorchScript weights' and record['source'] == pt
    saved = np.load(str(out / 'features' / 'evaluation.npz'))
    expected = loading.load_network_file(pt).run(assets['images'][:30], minibatch_size=8)
    np.testing.assert_allclose(saved['real_features'], expected, rtol=1e-5, atol=1e-5)
    # The same evaluation through the pickle's own code gives the numbers of the safe rebuild.
    runs = {}
    for flag in ([], ['--trust_pickle_code']):
        target = tmp_path / ('trusted' if flag else 'safe')
        result = run_metric('--real_dir', assets['folder'], '--fake_dir', assets['folder'], '--num_images', '30',
                            *common(assets, target), *flag, cwd=tmp_path)
        assert result.returncode == 0, result.stderr[-3000:]
        assert ('executing the Python source stored inside' in result.stderr) == bool(flag)
        runs[bool(flag)] = json.loads((target / 'results.json').read_text())
    assert runs[True]['evaluation']['precision'] == runs[False]['evaluation']['precision']
    assert runs[True]['networks']['feature_network']['load_path'] == 'trusted pickle code'
    assert runs[True]['networks']['feature_network']['fingerprint'] == \
        runs[False]['networks']['feature_network']['fingerprint']
    # --clear_cache alone empties the cache folder of what the tool wrote.
    cache = tmp_path / 'cache'
    assert (cache / 'features').is_dir() and (cache / 'network_sources').is_dir()
    result = run_metric('--clear_cache', '--cache_dir', str(cache), cwd=tmp_path)
    assert result.returncode == 0 and 'Removed 3 files this tool wrote' in result.stdout  # features, 2 notes
    assert '.build_module_src.py' in result.stdout and os.listdir(str(cache)) == []
