"""Opt-in: NVIDIA's own scripts, unchanged, on our dnnlib give NVIDIA's images.

With a local checkout named by STYLEGAN_REPO (NVlabs/stylegan) or STYLEGAN2_REPO (NVlabs/stylegan2), as in
tests/test_real_nvidia_sources.py (skipped with a message otherwise): the shared fixture pickles get the checkout's
network source stored in them (as NVIDIA's training code stores it), then tests/nvidia_scripts_harness.py runs the
scripts' functions twice in fresh processes -- on NVIDIA's own dnnlib (TF1 graph mode on TensorFlow 2 with the
fixtures' shims; oneDNN on, which NVIDIA's NCHW graphs need on a CPU) and on ours (this process's kernel setting) --
and every PNG must agree to 1 uint8 value on at most 0.1% of values.
"""
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from test_trusted_code import fixture_with_source

HARNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'nvidia_scripts_harness.py')
CASES = [('STYLEGAN_REPO', 'stylegan', 'training/networks_stylegan.py', 'stylegan_official/tiny32'),
         ('STYLEGAN_REPO', 'stylegan', 'training/networks_stylegan.py', 'stylegan_official/tiny128_fused'),
         ('STYLEGAN2_REPO', 'stylegan2', 'training/networks_stylegan2.py', 'stylegan2_official/tiny32_skip'),
         ('STYLEGAN2_REPO', 'stylegan2', 'training/networks_stylegan2.py', 'stylegan2_official/tiny64_resnet')]


def checkout(variable, relative):
    root = os.environ.get(variable)
    if not root:
        pytest.skip("set %s to a local checkout to run NVIDIA's scripts on our dnnlib" % variable)
    if not os.path.isfile(os.path.join(root, relative)):
        pytest.skip('%s=%s has no %s' % (variable, root, relative))
    return root


def pickle_with_source(fixture, source_path, out_path):
    """The fixture's (G, D, Gs) with NVIDIA's network source stored in every network (as inspect.getsource gives
    it to NVIDIA's training code: no BOM), written to out_path."""
    with open(source_path, encoding='utf-8') as f:
        source = f.read().lstrip('\ufeff')
    with open(out_path, 'wb') as f:
        f.write(fixture_with_source(fixture, source))


def run_harness(which, repo, generation, pickle_path, out, onednn):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')
    if onednn is not None:
        env['TF_ENABLE_ONEDNN_OPTS'] = onednn
    done = subprocess.run([sys.executable, HARNESS, '--dnnlib', which, '--repo', repo, '--generation', generation,
                           '--pickle', pickle_path, '--out', out], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.parametrize('variable, generation, source, fixture', CASES, ids=[c[3] for c in CASES])
def test_nvidias_script_functions_on_our_dnnlib_write_nvidias_images(variable, generation, source, fixture, tmp_path):
    repo = checkout(variable, source)
    pickle_path = str(tmp_path / 'network.pkl')
    pickle_with_source(fixture, os.path.join(repo, source), pickle_path)
    run_harness('nvidia', repo, generation, pickle_path, str(tmp_path / 'nvidia'), '1')
    printed = run_harness('ours', repo, generation, pickle_path, str(tmp_path / 'ours'), None)
    names = sorted(os.listdir(tmp_path / 'nvidia'))
    assert names and names == sorted(os.listdir(tmp_path / 'ours'))
    off = total = 0
    for name in names:
        theirs = np.asarray(Image.open(tmp_path / 'nvidia' / name)).astype(int)
        ours = np.asarray(Image.open(tmp_path / 'ours' / name)).astype(int)
        assert theirs.shape == ours.shape, name
        diff = np.abs(theirs - ours)
        assert diff.max() <= 1, name
        off, total = off + int((diff > 0).sum()), total + diff.size
    assert off <= 1e-3 * total, (off, total)
    if generation == 'stylegan':  # pretrained_example's Gs.print_layers() ran on ours too
        assert 'Total' in printed and 'G_mapping/Dense0' in printed


def test_run_generator_main_through_the_launcher_writes_a_run_folder(tmp_path):
    """`python tools/nvidia_script.py run_generator.py generate-images ...`: NVIDIA's main(), its submit_run and
    make_run_dir_path, on our dnnlib; the images equal generate_images' own (run by the harness above)."""
    repo = checkout('STYLEGAN2_REPO', 'run_generator.py')
    pickle_path = str(tmp_path / 'network.pkl')
    pickle_with_source('stylegan2_official/tiny32_skip', os.path.join(repo, 'training/networks_stylegan2.py'),
                       pickle_path)
    (tmp_path / 'results' / '00003-earlier').mkdir(parents=True)
    launcher = os.path.join(os.path.dirname(os.path.dirname(HARNESS)), 'tools', 'nvidia_script.py')
    done = subprocess.run([sys.executable, launcher, os.path.join(repo, 'run_generator.py'), 'generate-images',
                           '--network=' + pickle_path, '--seeds=6600-6602', '--truncation-psi=0.5',
                           '--result-dir=' + str(tmp_path / 'results')], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    run_dir = tmp_path / 'results' / '00004-generate-images'
    assert sorted(os.listdir(run_dir)) == ['seed6600.png', 'seed6601.png', 'seed6602.png']
    run_harness('ours', repo, 'stylegan2', pickle_path, str(tmp_path / 'harness'), None)
    for name in os.listdir(run_dir):
        np.testing.assert_array_equal(np.asarray(Image.open(run_dir / name)),
                                      np.asarray(Image.open(tmp_path / 'harness' / name)))
