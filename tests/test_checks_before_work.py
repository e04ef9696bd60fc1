"""Refusals that come before any work, named as `error: ...` with exit 2 (issue: files that are not ours, items
8 and 10-14): overlapping input and output folders, output names taken, FIFOs, a full disk, tool --help."""
import json
import os
import subprocess
import sys

import numpy as np
import PIL.Image
import pytest

from conftest import REPO, shared_path


def run(script, *args, cwd, timeout=300, **kwargs):
    return subprocess.run([sys.executable, os.path.join(REPO, script)] + list(args), capture_output=True, text=True,
                          timeout=timeout, cwd=str(cwd), **kwargs)


def image_folder(folder, count=6, size=16):
    folder.mkdir(parents=True)
    for i in range(count):
        PIL.Image.fromarray(np.full((size, size, 3), 30 * i, np.uint8)).save(str(folder / ('%02d.png' % i)))
    return str(folder)


def feature_files(tmp_path, n=40):
    rs = np.random.RandomState(0)
    np.save(str(tmp_path / 'r.npy'), rs.randn(n, 8))
    np.save(str(tmp_path / 'f.npy'), rs.randn(n, 8))
    return ['--real_features', str(tmp_path / 'r.npy'), '--fake_features', str(tmp_path / 'f.npy')]


def test_an_output_folder_inside_an_input_folder_is_refused(tmp_path):
    reals = image_folder(tmp_path / 'reals')
    fakes = image_folder(tmp_path / 'fakes')
    for save_path in (reals, os.path.join(reals, 'out'), str(tmp_path)):  # the same, inside, and holding it
        result = run('run_metric.py', '--real_dir', reals, '--fake_dir', fakes, '--save_path', save_path,
                     '--cache_dir', str(tmp_path / 'cache'), cwd=tmp_path)
        assert result.returncode == 2 and 'overlap' in result.stderr and '--real_dir' in result.stderr, result.stderr
    assert sorted(os.listdir(reals)) == ['%02d.png' % i for i in range(6)]
    result = run('run_metric.py', '--real_dir', reals, '--fake_dir', fakes, '--save_path', str(tmp_path / 'o'),
                 '--cache_dir', str(tmp_path / 'o'), cwd=tmp_path)
    assert result.returncode == 2 and '--save_path and --cache_dir are the same folder' in result.stderr


def test_output_names_taken_by_folders_or_user_files_are_refused_before_the_work(tmp_path):
    args = feature_files(tmp_path)
    out = tmp_path / 'out'
    (out / 'results.json').mkdir(parents=True)
    result = run('run_metric.py', *args, '--save_path', str(out), cwd=tmp_path)
    assert result.returncode == 2 and 'results.json is a folder' in result.stderr
    assert 'Evaluating' not in result.stdout and 'Traceback' not in result.stderr
    (out / 'results.json').rmdir()
    (out / 'features').write_text('a file of the user')
    result = run('run_metric.py', *args, '--save_features', '--save_path', str(out), cwd=tmp_path)
    assert result.returncode == 2 and 'features is not a folder' in result.stderr and 'Evaluating' not in result.stdout
    (out / 'features').unlink()
    (out / 'results.json').write_text('{"mine": 1}')
    result = run('run_metric.py', *args, '--save_path', str(out), cwd=tmp_path)
    assert result.returncode == 2 and 'not recorded as written by this tool' in result.stderr
    assert (out / 'results.json').read_text() == '{"mine": 1}'


def test_a_full_disk_is_an_error_not_a_traceback(tmp_path):
    import resource
    args = feature_files(tmp_path, n=400)

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
    result = run('run_metric.py', *args, '--save_features', '--save_path', str(tmp_path / 'out'), '--quiet',
                 cwd=tmp_path, preexec_fn=small_files)
    assert result.returncode == 2 and 'Traceback' not in result.stderr
    assert result.stderr.startswith('error: File too large (while writing): %s' % (tmp_path / 'out' / 'features')), \
        result.stderr
    leftovers = [n for _, _, names in os.walk(str(tmp_path / 'out')) for n in names if n.startswith('.tmp_')]
    assert leftovers == []


def test_a_fifo_among_the_images_is_refused_not_waited_on(tmp_path):
    reals = image_folder(tmp_path / 'reals')
    os.mkfifo(os.path.join(reals, 'zz.png'))
    result = run('run_metric.py', '--real_dir', reals, '--fake_dir', image_folder(tmp_path / 'fakes'), '--save_path',
                 str(tmp_path / 'out'), '--cache_dir', str(tmp_path / 'cache'), cwd=tmp_path, timeout=120)
    assert result.returncode == 2 and 'zz.png is not a regular file' in result.stderr


def test_port_results_of_the_wrong_length_are_refused_before_the_features(tmp_path):
    port = tmp_path / 'port.npz'
    np.savez(str(port), precision_pred=np.ones(7, np.uint8))
    reals = image_folder(tmp_path / 'reals')
    fakes = image_folder(tmp_path / 'fakes')
    from network_factory import write_vgg_pickle
    vgg = write_vgg_pickle(str(tmp_path / 'vgg.pkl'))
    result = run('run_metric.py', '--real_dir', reals, '--fake_dir', fakes, '--feature_network', vgg, '--conventions',
                 '--port_results', str(port), '--save_path', str(tmp_path / 'out'), '--cache_dir',
                 str(tmp_path / 'cache'), '--quiet', cwd=tmp_path)
    assert result.returncode == 2 and 'precision_pred has 7 samples, the evaluation has 6 generated' in result.stderr
    assert 'Evaluating' not in result.stdout and not (tmp_path / 'cache' / 'features').exists()


def test_a_speed_setting_never_changes_the_conventions_report(tmp_path):
    """--gemm numpy on duplicated float data: the same report as TensorFlow's products (item 10). OpenBLAS's
    Haswell kernels (what a CPU without AVX-512 runs) give a duplicated column a position-dependent product."""
    case = shared_path('fixtures', 'pr_official', 'dup_gauss_n525_m500_d32.inputs.npz')
    with np.load(case) as data:
        np.save(str(tmp_path / 'r.npy'), data['ref_features'])
        np.save(str(tmp_path / 'f.npy'), data['eval_features'])
    reports = {}
    for gemm in ('tensorflow', 'numpy'):
        result = run('run_metric.py', '--real_features', str(tmp_path / 'r.npy'), '--fake_features',
                     str(tmp_path / 'f.npy'), '--conventions', '--nhood_sizes', '1', '3', '--gemm', gemm,
                     '--save_path', str(tmp_path / gemm), '--quiet', cwd=tmp_path,
                     env=dict(os.environ, OPENBLAS_CORETYPE='Haswell'))
        assert result.returncode == 0, result.stderr[-2000:]
        report = json.loads((tmp_path / gemm / 'results.json').read_text())['evaluation']['conventions']
        reports[gemm] = report
    assert reports['numpy'] == reports['tensorflow']


@pytest.mark.parametrize('script', ['tools/record_outputs.py', 'tools/check_structure.py', 'precision_recall.py',
                                    'benchmarks/bench_scale.py', 'run_metric.py'])
def test_every_tool_answers_help_at_once_and_writes_nothing(tmp_path, script):
    result = run(script, '--help', cwd=tmp_path, timeout=120)
    assert result.returncode == 0 and result.stdout.startswith('usage:') and os.listdir(str(tmp_path)) == []
    assert 'I0000' not in result.stderr and 'oneDNN' not in result.stderr, result.stderr


def test_tools_refuse_missing_or_unknown_arguments(tmp_path):
    for script, args in (('tools/record_outputs.py', []), ('tools/check_structure.py', ['--bogus'])):
        result = run(script, *args, cwd=tmp_path, timeout=120)
        assert result.returncode == 2 and 'usage:' in result.stderr and 'Traceback' not in result.stderr
