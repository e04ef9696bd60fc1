"""Bad or unusual inputs a new user tries: a clear error or the right number, never a silent wrong one."""
import json
import os
import stat
import subprocess
import sys

import numpy as np
import PIL.Image
import pytest

import precision_recall
import run_metric
import utils
from dnnlib import output_files
from conftest import REPO, shared_path
from datasets.image_folder import ImageFolder, allow_large_images
from datasets.tfrecords import DatasetError
from metrics import fid_official_tf
from metrics.image_inputs import folder_images
from metrics.manifold_stats import manifold_statistics


def cli(*args, cwd):
    return subprocess.run([sys.executable, os.path.join(REPO, 'run_metric.py')] + list(args), capture_output=True,
                          text=True, timeout=600, cwd=str(cwd))


def features(tmp_path, name, array):
    path = str(tmp_path / name)
    np.save(path, array)
    return path


# ---- silent wrong numbers -----------------------------------------------------------------------------------

def test_features_whose_distances_overflow_float32_are_refused(tmp_path):
    rs = np.random.RandomState(0)
    real, fake = rs.randn(50, 16) * 1e19, rs.randn(50, 16) * 1e19
    for call in (lambda: precision_recall.knn_precision_recall_features(real, fake, verbose=False),
                 lambda: manifold_statistics(real, fake, [3], 'prdc')):
        with pytest.raises(ValueError, match='exceed the float32 range'):
            call()
    result = cli('--real_features', features(tmp_path, 'r.npy', real), '--fake_features',
                 features(tmp_path, 'f.npy', fake), '--save_path', str(tmp_path / 'out'), cwd=tmp_path)
    assert result.returncode == 2 and 'error:' in result.stderr and 'float32 range' in result.stderr
    assert 'Traceback' not in result.stderr and not (tmp_path / 'out' / 'results.json').exists()


def test_the_range_check_from_shared_norms_keeps_its_boundary():
    """Norms finite in float32 but 4 |x|^2 past the float32 maximum: refused, with the pass's norms as without;
    features just inside the range run (the shared norms only skip the exact test far from the limit)."""
    from metrics.feature_checks import check_distance_range
    from metrics.knn import host_norms
    rs = np.random.RandomState(3)
    unit = rs.randn(40, 16).astype(np.float32)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    for scale, refused in ((1.0e19, True), (0.9e19, False)):  # squared norms 1.0e38 / 0.81e38; limit/4 = 0.85e38
        x = (unit * np.float32(scale)).astype(np.float32)
        norms = [host_norms(x, np.float32)]
        assert np.isfinite(norms[0]).all()
        for given in (None, norms):
            if refused:
                with pytest.raises(ValueError, match='exceed the float32 range'):
                    check_distance_range([x], 'float32', given)
            else:
                check_distance_range([x], 'float32', given)
    big = np.full((5000, 40), 3.0, np.float32) + rs.rand(5000, 40).astype(np.float32)
    assert np.array_equal(host_norms(big, np.float32), np.einsum('ij,ij->i', big, big))  # chunks: same sums


def test_complex_and_out_of_range_float64_features_are_named():
    rs = np.random.RandomState(0)
    with pytest.raises(ValueError, match='complex values'):
        precision_recall.knn_precision_recall_features(rs.randn(20, 4) + 1j, rs.randn(20, 4), verbose=False)
    huge = rs.randn(20, 4)
    huge[3, 1] = 1e300
    with pytest.raises(ValueError, match='1 values exceed the float32 range'):
        precision_recall.knn_precision_recall_features(huge, rs.randn(20, 4), verbose=False)
    nan = rs.randn(20, 4)
    nan[2, 2] = np.nan
    with pytest.raises(ValueError, match='non-finite'):
        precision_recall.knn_precision_recall_features(nan, rs.randn(20, 4), verbose=False)


def test_16bit_pngs_give_the_8bit_image(tmp_path):
    rs = np.random.RandomState(1)
    eight, sixteen = tmp_path / 'eight', tmp_path / 'sixteen'
    eight.mkdir()
    sixteen.mkdir()
    for i in range(3):
        gray = rs.randint(0, 256, size=(20, 24)).astype(np.uint8)
        PIL.Image.fromarray(gray).save(str(eight / ('%d.png' % i)))
        PIL.Image.fromarray(gray.astype(np.uint16) * 257).save(str(sixteen / ('%d.png' % i)))  # mode I;16
    assert PIL.Image.open(str(sixteen / '0.png')).mode.startswith('I')
    with pytest.warns(UserWarning, match='converted to RGB'):  # the 8-bit grayscale copy: PIL's L -> RGB
        expected = [ImageFolder(str(eight), verbose=False).load(i) for i in range(3)]
    folder = ImageFolder(str(sixteen), verbose=False)
    for i in range(3):
        np.testing.assert_array_equal(folder.load(i), expected[i])
    images, count = folder_images(str(sixteen), verbose=False)  # the IS/FID reader
    assert count == 3 and np.array_equal(next(images), expected[0].transpose(1, 2, 0).astype(np.float32))


def test_more_requested_reals_than_given_is_refused(tmp_path):
    rs = np.random.RandomState(0)
    result = cli('--real_features', features(tmp_path, 'r.npy', rs.randn(30, 8)), '--fake_features',
                 features(tmp_path, 'f.npy', rs.randn(30, 8)), '--num_images', '1000', '--save_path',
                 str(tmp_path / 'out'), cwd=tmp_path)
    assert result.returncode == 2 and '--num_images 1000 is larger than the 30 real samples' in result.stderr


@pytest.mark.parametrize('values', [['--truncations', '1.0', 'nan'], ['--truncations', 'inf'], ['--truncations=-inf']])
def test_non_finite_truncation_is_refused_before_any_work(tmp_path, values):
    result = cli('--real_features', 'missing.npy', '--truncation_sweep', *values,
                 '--save_path', str(tmp_path / 'out'), cwd=tmp_path)
    assert result.returncode == 2 and '--truncations must be finite' in result.stderr
    assert not (tmp_path / 'out').exists()


# ---- tracebacks and lost work -------------------------------------------------------------------------------

def test_unwritable_outputs_are_refused_before_computing(tmp_path):
    rs = np.random.RandomState(0)
    args = ['--real_features', features(tmp_path, 'r.npy', rs.randn(30, 8)), '--fake_features',
            features(tmp_path, 'f.npy', rs.randn(30, 8))]
    a_file = tmp_path / 'a_file'
    a_file.write_text('x')
    for save_path in (a_file, a_file / 'below'):
        result = cli(*args, '--save_path', str(save_path), cwd=tmp_path)
        assert result.returncode == 2 and '--save_path %s cannot be written' % save_path in result.stderr
        assert 'Traceback' not in result.stderr and 'Evaluating' not in result.stdout
    images = tmp_path / 'images'
    images.mkdir()
    result = cli('--real_dir', str(images), '--fake_dir', str(images), '--cache_dir', str(a_file / 'cache'),
                 '--save_path', str(tmp_path / 'out'), cwd=tmp_path)
    assert result.returncode == 2 and '--cache_dir' in result.stderr and 'cannot be written' in result.stderr


@pytest.mark.skipif(not hasattr(os, 'geteuid') or os.geteuid() == 0, reason='root writes into read-only folders')
def test_read_only_save_path_is_refused(tmp_path):
    folder = tmp_path / 'ro'
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    with pytest.raises(ValueError, match='cannot be written'):
        output_files.check_writable_folder(str(folder), '--save_path')


def test_images_above_the_decompression_bomb_limit_are_named(tmp_path, monkeypatch):
    PIL.Image.fromarray(np.zeros([60, 60, 3], np.uint8)).save(str(tmp_path / 'big.png'))
    monkeypatch.setattr(PIL.Image, 'MAX_IMAGE_PIXELS', 1000)  # 3600 pixels > 2 x 1000
    folder = ImageFolder(str(tmp_path), verbose=False)
    with pytest.raises(DatasetError, match=r'big\.png is larger than PIL.s decompression-bomb limit of 2000 pixels'):
        folder.load(0)
    allow_large_images(True)
    try:
        assert folder.load(0).shape == (3, 60, 60)
    finally:
        allow_large_images(False)


def test_symlink_loop_is_named(tmp_path):
    if not hasattr(os, 'symlink'):
        pytest.skip('no symlinks here')
    PIL.Image.fromarray(np.zeros([8, 8, 3], np.uint8)).save(str(tmp_path / 'ok.png'))
    os.symlink(str(tmp_path / 'b.png'), str(tmp_path / 'a.png'))
    os.symlink(str(tmp_path / 'a.png'), str(tmp_path / 'b.png'))
    with pytest.raises(DatasetError, match=r'cannot read image .*a\.png'):
        ImageFolder(str(tmp_path), verbose=False)
    result = cli('--real_dir', str(tmp_path), '--fake_dir', str(tmp_path), '--save_path', str(tmp_path.parent / (tmp_path.name + '_out')),
                 cwd=tmp_path)
    assert result.returncode == 2 and 'a.png' in result.stderr and 'Traceback' not in result.stderr


def test_a_feature_network_given_as_generator_is_a_clear_cli_error(tmp_path):
    from network_factory import write_vgg_pickle
    vgg = write_vgg_pickle(str(tmp_path / 'vgg16.pkl'), width_divisor=64)
    (tmp_path / 'reals').mkdir()
    PIL.Image.fromarray(np.zeros([8, 8, 3], np.uint8)).save(str(tmp_path / 'reals' / 'x.png'))
    result = cli('--real_dir', str(tmp_path / 'reals'), '--truncation_sweep', '--network', vgg, '--feature_network', vgg,
                 '--save_path', str(tmp_path / 'o'), '--cache_dir', str(tmp_path / 'c'), '--quiet', cwd=tmp_path)
    assert result.returncode == 2 and 'holds a feature network' in result.stderr and 'not a generator' in result.stderr


@pytest.mark.parametrize('arrays,message', [
    (dict(mu=np.float64(1.0), sigma=np.float64(2.0)), 'mu must be a vector'),
    (dict(mu=np.zeros(3), sigma=np.eye(2)), r'sigma must be \[3, 3\]'),
    (dict(mu=np.zeros(3), sigma=np.full([3, 3], np.nan)), 'sigma contains NaN'),
    (dict(sigma=np.eye(3)), 'has no mu array'),
])
def test_fid_statistics_files_are_validated(tmp_path, capsys, arrays, message):
    bad = str(tmp_path / 'bad.npz')
    np.savez(bad, **arrays)
    good = str(tmp_path / 'good.npz')
    np.savez(good, mu=np.zeros(3), sigma=np.eye(3))
    assert fid_official_tf.main([good, bad]) == 2
    err = capsys.readouterr().err
    assert 'error:' in err and __import__('re').search(message, err), err


@pytest.mark.parametrize('script', ['fid_official_tf.py', 'inception_score_official_tf.py'])
def test_zero_batch_size_is_a_usage_error(tmp_path, script):
    args = [str(tmp_path), str(tmp_path)] if script.startswith('fid') else [str(tmp_path)]
    result = subprocess.run([sys.executable, os.path.join(REPO, 'metrics', script)] + args + ['--batch_size', '0'],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and 'must be >= 1' in result.stderr and 'Traceback' not in result.stderr


# ---- smaller things ------------------------------------------------------------------------------------------

def test_outputs_get_the_normal_permissions(tmp_path):
    path = str(tmp_path / 'results.json')
    output_files.save_json(path, {'a': 1})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~output_files.current_umask()


def test_ctrl_c_prints_interrupted_and_exits_130(tmp_path, monkeypatch, capsys):
    rs = np.random.RandomState(0)
    args = ['--real_features', features(tmp_path, 'r.npy', rs.randn(30, 8)), '--fake_features',
            features(tmp_path, 'f.npy', rs.randn(30, 8)), '--save_path', str(tmp_path / 'out')]

    def interrupted(*_args):
        raise KeyboardInterrupt
    monkeypatch.setattr(run_metric, 'run_experiments', interrupted)
    assert run_metric.main(args) == 130
    assert capsys.readouterr().err.strip() == 'interrupted'
    assert not (tmp_path / 'out' / 'results.json').exists()


def test_a_rerun_leaves_only_its_own_outputs(tmp_path):
    rs = np.random.RandomState(0)
    args = ['--real_features', features(tmp_path, 'r.npy', rs.randn(40, 8)), '--fake_features',
            features(tmp_path, 'f.npy', rs.randn(40, 8)), '--save_path', str(tmp_path / 'out'), '--quiet']
    first = cli(*args, '--realism_score', '--show_n_images', '4', cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    assert (tmp_path / 'out' / 'realism_scores.npy').exists()
    (tmp_path / 'out' / 'my_notes.txt').write_text('kept')
    (tmp_path / 'out' / 'features').mkdir()  # a user's folder that happens to share an output name: kept
    (tmp_path / 'out' / 'features' / 'mine.npy').write_text('kept')
    second = cli(*args, cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-2000:]
    assert sorted(os.listdir(str(tmp_path / 'out'))) == ['.written_by_this_tool.jsonl', 'features', 'my_notes.txt',
                                                         'results.json']
    assert 'realism' not in json.loads((tmp_path / 'out' / 'results.json').read_text())['evaluation']


def test_a_rerun_that_stops_on_bad_input_keeps_the_previous_results(tmp_path):
    rs = np.random.RandomState(1)
    real = features(tmp_path, 'r.npy', rs.randn(40, 8))
    out = tmp_path / 'out'
    first = cli('--real_features', real, '--fake_features', features(tmp_path, 'f.npy', rs.randn(40, 8)),
                '--save_path', str(out), '--quiet', '--save_features', '--realism_score', '--show_n_images', '4',
                cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    before = sorted(os.path.relpath(os.path.join(d, f), str(out)) for d, _, fs in os.walk(str(out)) for f in fs)
    assert 'results.json' in before and any(p.startswith('features') for p in before)
    bad = rs.randn(40, 8)
    bad[3, 2] = np.nan
    second = cli('--real_features', real, '--fake_features', features(tmp_path, 'nan.npy', bad),
                 '--save_path', str(out), '--quiet', cwd=tmp_path)
    assert second.returncode == 2 and 'error:' in second.stderr
    after = sorted(os.path.relpath(os.path.join(d, f), str(out)) for d, _, fs in os.walk(str(out)) for f in fs)
    assert after == before  # nothing of the previous run was removed by the run that failed


def test_a_rerun_removes_files_never_a_folder_holding_yours(tmp_path):
    """An output folder of the tool (features/ here; stylegan_realism/ alike) is removed only when emptied."""
    rs = np.random.RandomState(2)
    args = ['--real_features', features(tmp_path, 'r.npy', rs.randn(40, 8)), '--fake_features',
            features(tmp_path, 'f.npy', rs.randn(40, 8)), '--save_path', str(tmp_path / 'out'), '--quiet']
    first = cli(*args, '--save_features', cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    folder = tmp_path / 'out' / 'features'
    ours = [p for p in folder.rglob('*') if p.is_file()]
    assert ours
    (folder / 'my_pick.npy').write_text('kept')
    second = cli(*args, cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-2000:]
    assert (folder / 'my_pick.npy').read_text() == 'kept' and not any(p.exists() for p in ours)
    third = cli(*args, '--save_features', cwd=tmp_path)  # and a folder that held only the tool's files goes
    assert third.returncode == 0
    (folder / 'my_pick.npy').unlink()
    fourth = cli(*args, cwd=tmp_path)
    assert fourth.returncode == 0 and not folder.exists()


def test_quiet_download_prints_no_progress_bar(tmp_path, capsys):
    import http.server
    import threading
    data = open(shared_path('fixtures', 'vgg16_torchscript', 'vgg16_tiny.pt'), 'rb').read()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = 'http://127.0.0.1:%d/vgg16.pt' % httpd.server_address[1]
        net = utils.initialize_feature_extractor(url, str(tmp_path), verbose=False)
    finally:
        httpd.shutdown()
        httpd.server_close()
    captured = capsys.readouterr()
    assert net.kind == 'feature network' and captured.err == '' and '%' not in captured.out


@pytest.mark.parametrize('flags, named', [(['--truncations', '0.5'], '--truncations'),
                                          (['--truncations', 'nan'], '--truncations'),
                                          (['--bootstrap', '10', '--prdc', '3'], '--bootstrap, --prdc'),
                                          (['--nhood_sizes', '5'], '--nhood_sizes')])
def test_the_embedded_demo_refuses_settings_it_would_ignore(tmp_path, flags, named):
    result = cli(*flags, '--save_path', str(tmp_path / 'out'), cwd=tmp_path)
    assert result.returncode == 2 and named in result.stderr and 'would ignore' in result.stderr
    assert not (tmp_path / 'out').exists()  # refused before any work


def test_a_save_path_that_is_a_file_is_refused_before_the_demo(tmp_path):
    target = tmp_path / 'results'
    target.write_text('a file')
    result = cli('--save_path', str(target), cwd=tmp_path)
    assert result.returncode == 2 and 'cannot be written' in result.stderr and 'Traceback' not in result.stderr
    assert 'Precision' not in result.stdout  # nothing was computed


def test_saved_feature_sets_are_read_by_role_and_ambiguous_files_refused(tmp_path):
    rs = np.random.RandomState(5)
    real, fake = rs.randn(40, 8), rs.randn(40, 8) + 0.5
    out = tmp_path / 'out'
    first = cli('--real_features', features(tmp_path, 'r.npy', real), '--fake_features',
                features(tmp_path, 'f.npy', fake), '--save_path', str(out), '--quiet', '--save_features', cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    saved = str(out / 'features' / 'evaluation.npz')
    with np.load(saved) as data:
        assert sorted(data.files) == ['fake_features', 'real_features']
        np.testing.assert_array_equal(data['real_features'], real.astype(np.float32))
    # The same file as both inputs: each role gets its own array, so the numbers are the first run's.
    again = cli('--real_features', saved, '--fake_features', saved, '--save_path', str(tmp_path / 'o2'), '--quiet',
                cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads((tmp_path / 'o2' / 'results.json').read_text())['evaluation']['precision'] == \
        json.loads((out / 'results.json').read_text())['evaluation']['precision']
    # A file of several arrays without roles (e.g. the pre-role format) is refused unless the key is named.
    old = str(tmp_path / 'old.npz')
    np.savez(old, features=fake, ref_features=real)
    refused = cli('--real_features', old, '--fake_features', old, '--save_path', str(tmp_path / 'o3'), cwd=tmp_path)
    assert refused.returncode == 2 and 'holds several arrays' in refused.stderr and ':KEY' in refused.stderr
    named = cli('--real_features', old + ':ref_features', '--fake_features', old + ':features', '--save_path',
                str(tmp_path / 'o4'), '--quiet', cwd=tmp_path)
    assert named.returncode == 0, named.stderr[-2000:]
    garbage = tmp_path / 'garbage.npy'
    garbage.write_text('hello, not numpy')
    bad = cli('--real_features', str(garbage), '--fake_features', old + ':features', '--save_path',
              str(tmp_path / 'o5'), cwd=tmp_path)
    assert bad.returncode == 2 and 'not a NumPy feature file' in bad.stderr and str(garbage) in bad.stderr


def test_port_results_outside_the_unit_interval_or_malformed_are_named_errors(tmp_path):
    from metrics.conventions import read_port_results
    cases = [('{"precision": 1.7, "recall": -0.2}', r'fractions in \[0, 1\]'),
             ('{"precision": 0.5, "recall": ', 'not valid JSON'),
             ('{"precision": "high", "recall": 0.2}', 'numbers or lists of numbers')]
    for i, (text, message) in enumerate(cases):
        path = tmp_path / ('port%d.json' % i)
        path.write_text(text)
        with pytest.raises(ValueError, match=message) as info:
            read_port_results(str(path))
        assert str(path) in str(info.value)
    npz = str(tmp_path / 'port.npz')
    np.savez(npz, precision_pred=np.array([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match='integers or booleans, got dtype float64'):
        read_port_results(npz)
    ok = tmp_path / 'ok.json'
    ok.write_text('{"precision": [0.5], "recall": 0.25}')
    assert read_port_results(str(ok))['recall'].tolist() == [0.25]


def test_fid_refuses_statistics_that_are_not_a_covariance(tmp_path):
    from metrics import fid_official_tf as fid
    rs = np.random.RandomState(0)
    x = rs.randn(50, 6)
    mu, sigma = x.mean(0), np.cov(x, rowvar=False)
    fid.save_statistics(str(tmp_path / 'good.npz'), mu, sigma)
    for name, bad, message in [('asym.npz', sigma + np.triu(np.ones_like(sigma), 1) * 0.3, 'not symmetric'),
                               ('neg.npz', sigma - 5 * np.eye(6), 'negative eigenvalue')]:
        np.savez(str(tmp_path / name), mu=mu, sigma=bad)
        result = subprocess.run([sys.executable, os.path.join(REPO, 'metrics', 'fid_official_tf.py'),
                                 str(tmp_path / name), str(tmp_path / 'good.npz')], capture_output=True, text=True,
                                timeout=300)
        assert result.returncode == 2 and message in result.stderr and name in result.stderr, result.stderr[-500:]
        assert 'FID:' not in result.stdout
    assert fid.calculate_frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0, abs=1e-9)


def test_checks_known_before_the_work_come_before_it(tmp_path):
    """Each of these is refused before any feature is computed or any network is loaded (none exists here)."""
    rs = np.random.RandomState(6)
    real = features(tmp_path, 'r.npy', rs.randn(30, 8))
    few = features(tmp_path, 'few.npy', rs.randn(3, 8))
    result = cli('--real_features', real, '--fake_features', few, '--save_path', str(tmp_path / 'o'), cwd=tmp_path)
    assert result.returncode == 2 and '--nhood_sizes 3 needs more than 3 samples' in result.stderr
    assert 'there are 30 real and 3 generated' in result.stderr and 'Evaluating' not in result.stdout
    result = cli('--real_features', real, '--fake_features', features(tmp_path, 'f.npy', rs.randn(20, 8)),
                 '--prdc', '25', '--save_path', str(tmp_path / 'o'), cwd=tmp_path)
    assert result.returncode == 2 and '--prdc 25 needs more than 25 samples' in result.stderr
    assert 'Evaluating' not in result.stdout
    bad_port = tmp_path / 'port.json'
    bad_port.write_text('{"precision": 2, "recall": 0.1}')
    result = cli('--real_features', real, '--fake_features', real, '--conventions', '--port_results', str(bad_port),
                 '--save_path', str(tmp_path / 'o'), cwd=tmp_path)
    assert result.returncode == 2 and str(bad_port) in result.stderr and 'Evaluating' not in result.stdout
    # A fake folder of mixed sizes with --ms_ssim: named before any network is needed (the default one would be
    # downloaded here, and cannot be).
    fakes = tmp_path / 'fakes'
    fakes.mkdir()
    for i, size in enumerate([(16, 16), (16, 16), (20, 12)]):
        PIL.Image.fromarray(np.zeros(size[::-1] + (3,), np.uint8)).save(str(fakes / ('%d.png' % i)))
    result = cli('--real_features', real, '--fake_dir', str(fakes), '--ms_ssim', '--save_path', str(tmp_path / 'o'),
                 '--cache_dir', str(tmp_path / 'cache'), cwd=tmp_path)
    assert result.returncode == 2 and 'needs images of one size' in result.stderr
    assert '16x16: 2 images' in result.stderr and '20x12: 1 images (e.g. 2.png)' in result.stderr
    as_file = tmp_path / 'not_a_folder.png'
    as_file.write_bytes(b'x')
    result = cli('--real_features', real, '--fake_dir', str(as_file), '--save_path', str(tmp_path / 'o'),
                 '--cache_dir', str(tmp_path / 'cache'), cwd=tmp_path)
    assert result.returncode == 2 and 'is a file, not a folder' in result.stderr


def test_fid_tools_check_kid_subsets_and_outputs_before_inception(tmp_path):
    """No Inception graph is given or downloadable here: each error must come before it is needed."""
    folder = tmp_path / 'imgs'
    folder.mkdir()
    for i in range(7):
        PIL.Image.fromarray(np.full((8, 8, 3), i * 30, np.uint8)).save(str(folder / ('%d.png' % i)))
    script = lambda name, *a: subprocess.run(  # noqa: E731
        [sys.executable, os.path.join(REPO, 'metrics', name)] + list(a), capture_output=True, text=True, timeout=300)
    result = script('fid_official_tf.py', str(folder), str(folder), '--kid', '--kid_subset_size', '6',
                    '--batch_size', '5', '-i', str(tmp_path / 'missing.pb'))
    assert result.returncode == 2 and '--kid_subset_size 6 is larger than the 5 images' in result.stderr
    assert 'FID:' not in result.stdout
    (tmp_path / 'stats').mkdir()
    result = script('precalc_stats_official_tf.py', str(folder), str(tmp_path / 'stats'), '-i',
                    str(tmp_path / 'missing.pb'))
    assert result.returncode == 2 and 'is a folder' in result.stderr


def test_garbage_statistics_and_too_few_images_for_k_are_named(tmp_path):
    garbage = tmp_path / 'stats.npz'
    garbage.write_text('plain text, not numpy')
    result = subprocess.run([sys.executable, os.path.join(REPO, 'metrics', 'fid_official_tf.py'), str(garbage),
                             str(garbage)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and 'not a NumPy statistics file' in result.stderr and str(garbage) in result.stderr
    real = features(tmp_path, 'r.npy', np.random.RandomState(0).randn(30, 8))
    result = cli('--real_features', real, '--truncation_sweep', '--num_images', '3', '--save_path',
                 str(tmp_path / 'o'), cwd=tmp_path)
    assert result.returncode == 2 and '--num_images 3 is too few for k = 3' in result.stderr
