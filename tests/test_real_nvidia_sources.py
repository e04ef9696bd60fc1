"""Opt-in: NVIDIA's real network sources through the trusted path, against the official goldens.

NVIDIA's code is under a non-commercial licence and is not part of this project. Point these
variables at local checkouts to run the tests (each is skipped with a message otherwise):

    STYLEGAN_REPO=/path/to/NVlabs/stylegan          (training/networks_stylegan.py, commit 1e0d5c7)
    STYLEGAN2_REPO=/path/to/NVlabs/stylegan2        (training/networks_stylegan2.py, commit bf0fe0b)
    STYLEGAN2_ADA_REPO=/path/to/NVlabs/stylegan2-ada (training/networks.py, the TensorFlow version)

The file is stored unchanged (BOM included) as `build_module_src` in the shared fixture pickles,
exactly as NVIDIA's training code stores it in every network pickle.
"""
import hashlib
import json
import os

import numpy as np
import pytest
import tensorflow as tf

import dnnlib.tflib as tflib
from conftest import shared_path
from dnnlib.tflib import nchw, trusted_exec
from networks import check_pickle
from test_trusted_code import pickle_with_source


def real_source(variable, relative):
    root = os.environ.get(variable)
    if not root:
        pytest.skip('set %s to a local checkout to run NVIDIA\'s real %s' % (variable, relative))
    path = os.path.join(root, relative)
    if not os.path.isfile(path):
        pytest.skip('%s=%s has no %s' % (variable, root, relative))
    with open(path, encoding='utf-8') as f:
        return f.read()


def check_goldens(fixture, source):
    """Every golden setting of the fixture: float images within 1e-4, uint8 +-1 on at most 0.02% of values.

    The goldens come from oneDNN kernels on an AVX-512 CPU; oneDNN forced on a CPU without AVX-512 (its AVX2
    kernels) rounds differently: measured 49 of 466,944 tiny32 values off by 1 (1.05e-4) on a 2-core AMD EPYC,
    with the same count at 661e0df, before this test's network code changed."""
    folder = shared_path('fixtures', *fixture.split('/'))
    meta = json.load(open(os.path.join(folder, 'meta.json')))
    recorded = {n['official_build_module_src_sha256'] for n in meta['pickle']['networks'].values()}
    assert recorded == {hashlib.sha256(source.lstrip('\ufeff').encode()).hexdigest()}, 'not the recorded source'
    golden = np.load(os.path.join(folder, 'golden.npz'))
    _, (_, _, gs) = pickle_with_source(fixture, source, trust=True)
    latents = golden['latents']
    np.testing.assert_allclose(gs.components.mapping.run(latents, None), golden['dlatents_mapping'], atol=1e-5)
    worst, off, total = 0.0, 0, 0
    for setting in meta['settings']:
        kwargs = setting['gs_run_kwargs']
        images = gs.run(latents, None, minibatch_size=3, **kwargs)
        worst = max(worst, float(np.abs(images - golden[setting['name'] + '/images_float_nchw']).max()))
        uint8 = gs.run(latents, None, output_transform=dict(func=tflib.convert_images_to_uint8), **kwargs)
        diff = np.abs(uint8.astype(int) - golden[setting['name'] + '/images_uint8_nchw'])
        assert diff.max() <= 1, setting['name']
        off, total = off + int((diff > 0).sum()), total + diff.size
    assert worst <= 1e-4 and off <= 2e-4 * total, (worst, off, total)
    return worst, off


@pytest.mark.parametrize('fixture', ['tiny32', 'tiny128_fused'])
def test_real_stylegan_source(fixture):
    check_goldens('stylegan_official/' + fixture,
                  real_source('STYLEGAN_REPO', os.path.join('training', 'networks_stylegan.py')))


@pytest.mark.parametrize('fixture', ['tiny32_skip', 'tiny64_resnet'])
def test_real_stylegan2_source(fixture, tmp_path, capsys):
    source = real_source('STYLEGAN2_REPO', os.path.join('training', 'networks_stylegan2.py'))
    check_goldens('stylegan2_official/' + fixture, source)
    # The check tool runs the safe rebuild and the real code on the same latents and finds them in agreement.
    data, _ = pickle_with_source('stylegan2_official/' + fixture, source, trust=False)
    path = tmp_path / 'network.pkl'
    path.write_bytes(data)
    assert check_pickle.main([str(path), '--trust_pickle_code', '--cache_dir', str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert 'AGREEMENT within tolerance' in out and 'contradicts' not in out.replace(
        'nothing in the stored source contradicts', '')


def test_real_stylegan2_ada_source_builds_and_runs_a_tiny_generator(monkeypatch):
    """ADA's G_main (skip, resnet, conv_clamp, float16 layers) built from random weights: the NHWC fallback
    gives the output of the kernels this process picks (no golden exists for ADA)."""
    source = real_source('STYLEGAN2_ADA_REPO', os.path.join('training', 'networks.py'))
    module = trusted_exec._exec_source(source, 'stylegan2-ada')
    latents = np.random.RandomState(0).randn(4, 32)

    def generate(**kwargs):
        graph = tf.Graph()
        with graph.as_default(), trusted_exec.tf1_shapes():
            tf.compat.v1.set_random_seed(1)
            g = trusted_exec.GraphNetwork('G', module.G_main, num_channels=3, resolution=32, label_size=0,
                                          latent_size=32, dlatent_size=32, mapping_fmaps=32, fmap_base=256,
                                          fmap_max=64, **kwargs)
            z = tf.compat.v1.placeholder(tf.float32, [None, 32])
            out = g.get_output_for(z, None, truncation_psi=0.7, randomize_noise=False)
            with tf.compat.v1.Session(graph=graph) as session:
                session.run(tf.compat.v1.global_variables_initializer())
                return session.run(out, {z: latents})

    for kwargs, tol in [({}, 1e-5), ({'architecture': 'resnet'}, 1e-5),
                        ({'conv_clamp': 256, 'num_fp16_res': 2}, 2e-3)]:
        auto = generate(**kwargs)
        assert auto.shape == (4, 3, 32, 32) and np.isfinite(auto).all() and auto.std() > 0.01
        with monkeypatch.context() as m:
            m.setattr(nchw, 'native', lambda op, dtype='float32': False)
            fallback = generate(**kwargs)
        assert np.abs(fallback - auto).max() <= tol * np.abs(auto).max(), kwargs
