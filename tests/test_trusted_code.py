"""The opt-in path that runs a pickle's own TF1 build code, against the safe rebuild and the official goldens."""
import io
import json
import os
import pickle
import warnings

import numpy as np
import pytest

import dnnlib.tflib as tflib
from conftest import TEST_DATA, listing, shared_path
from dnnlib.tflib import safe_pickle
from network_factory import NVIDIA_STYLE_VGG_SOURCE, nvidia_style_vgg_variables, write_vgg_pickle
from networks import check_pickle
from networks.loading import load_network_file
from test_vgg16 import manual_forward

TF1_STYLEGAN_SOURCE = open(os.path.join(TEST_DATA, 'tf1_stylegan_source.py')).read()


def test_nvidia_style_vgg_trusted_and_safe_paths_agree(tmp_path):
    variables = nvidia_style_vgg_variables(16, seed=5)
    path = write_vgg_pickle(str(tmp_path / 'vgg16.pkl'), variables=variables)
    _, _, safe = load_network_file(path)
    _, _, trusted = load_network_file(path, trust_code=True)
    assert trusted.load_path == 'trusted pickle code' and trusted.output_shape == [None, 256]
    rs = np.random.RandomState(3)
    for shape in [(224, 224), (96, 160), (300, 256)]:
        images = rs.randint(0, 256, size=(3, 3) + shape).astype(np.uint8)
        a, b = safe.run(images, minibatch_size=2), trusted.run(images, minibatch_size=3)
        assert np.abs(a - b).max() <= 1e-5 * np.abs(b).max()
        expected = manual_forward(dict(variables), images)  # the documented pipeline, computed independently
        assert np.abs(b - expected).max() <= 1e-4 * np.abs(expected).max()


def fixture_with_source(fixture, source):
    """Pickle bytes of an official fixture's (G, D, Gs) (folder under ../shared/fixtures) with `source` stored as
    every network's code, as NVIDIA's training code stores it."""
    with open(shared_path('fixtures', *fixture.split('/'), 'network.pkl'), 'rb') as f:
        nets = safe_pickle.read_network_states(f.read())

    def store(net):
        net.build_module_src = source
        for comp in net.components.values():
            store(comp)
    for net in nets:
        store(net)
    return pickle.dumps(nets, protocol=4)


def pickle_with_source(fixture, source, trust):
    """An official fixture pickle with `source` stored as every network's code (`fixture_with_source`).

    Returns (pickle bytes, (G, D, Gs) loaded with or without trusting the code).
    """
    data = fixture_with_source(fixture, source)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # e.g. our test source has no fused up-convolution: the marker check says so
        return data, load_network_file(io.BytesIO(data), trust_code=trust)


def tiny32_with_tf1_source(trust):
    """The official tiny32 pickle with our TF1 StyleGAN source stored in it, as a real pickle stores its source:
    with a BOM and Windows line ends, as NVlabs/stylegan's file and a Windows checkout store it."""
    return pickle_with_source('stylegan_official/tiny32', '\ufeff' + TF1_STYLEGAN_SOURCE.replace('\n', '\r\n'), trust)


def test_tf1_generator_source_reproduces_the_official_goldens_and_the_rebuild():
    folder = shared_path('fixtures', 'stylegan_official', 'tiny32')
    golden = np.load(os.path.join(folder, 'golden.npz'))
    meta = json.load(open(os.path.join(folder, 'meta.json')))
    _, (_, _, trusted) = tiny32_with_tf1_source(trust=True)
    _, (_, _, safe) = tiny32_with_tf1_source(trust=False)
    latents = golden['latents']
    assert trusted.input_shape == [None, 32] and trusted.output_shape == [None, 3, 32, 32]
    np.testing.assert_allclose(trusted.components.mapping.run(latents, None), golden['dlatents_mapping'], atol=1e-5)
    checked = 0
    for setting in meta['settings']:
        kwargs = setting['gs_run_kwargs']
        if kwargs.get('randomize_noise', True) or 'is_validation' in kwargs:
            continue  # our test source implements inference with stored noise only
        ours = trusted.run(latents, None, minibatch_size=3, **kwargs)
        np.testing.assert_allclose(ours, golden[setting['name'] + '/images_float_nchw'], atol=1e-4, rtol=0,
                                   err_msg=setting['name'])
        np.testing.assert_allclose(safe.run(latents, None, **kwargs), ours, atol=1e-4, rtol=0)
        checked += 1
    assert checked >= 15
    images = trusted.run(latents, None, truncation_psi=0.7, randomize_noise=False,
                         output_transform=dict(func=tflib.convert_images_to_uint8))
    assert images.dtype == np.uint8 and images.shape == (8, 3, 32, 32)


MARKER_SOURCE = '''
import tensorflow as tf
open(MARKER, "w").write("executed")

def features(images_in, **_kwargs):
    images_in.set_shape([None, 3, None, None])
    return tf.reduce_mean(images_in, axis=[2, 3])
'''


def test_stored_code_runs_only_with_the_flag(tmp_path):
    marker = tmp_path / 'executed'
    source = 'MARKER = %r\n' % str(marker) + NVIDIA_STYLE_VGG_SOURCE + MARKER_SOURCE.replace('import tensorflow as tf\n',
                                                                                           '')
    path = write_vgg_pickle(str(tmp_path / 'vgg16.pkl'), width_divisor=64, source=source)
    _, _, net = load_network_file(path)
    net.run(np.zeros([1, 3, 8, 8], np.uint8))
    assert not marker.exists()
    _, _, trusted = load_network_file(path, trust_code=True)
    trusted.run(np.zeros([1, 3, 8, 8], np.uint8))
    assert marker.read_text() == 'executed'


def test_unknown_networks_load_only_with_the_flag(tmp_path):
    state_net = tflib.Network.__new__(tflib.Network)
    source = MARKER_SOURCE.replace('MARKER', repr(str(tmp_path / 'ran')))
    state_net.__setstate__({'version': 4, 'name': 'pooled', 'static_kwargs': {}, 'components': {},
                            'build_module_src': source, 'build_func_name': 'features', 'variables': []})
    data = pickle.dumps((state_net, state_net, state_net), protocol=4)
    with pytest.raises(tflib.NetworkPickleError, match="unknown build function 'features'"):
        load_network_file(io.BytesIO(data))
    _, _, net = load_network_file(io.BytesIO(data), trust_code=True)
    images = np.random.RandomState(0).rand(2, 3, 5, 7).astype(np.float32)
    np.testing.assert_allclose(net.run(images), images.mean(axis=(2, 3)), rtol=1e-6)
    assert net.output_shape == [None, 3]
    # As the feature network of a run: refused by the safe path, used when its code is trusted.
    import utils
    path = tmp_path / 'pooled.pkl'
    path.write_bytes(data)
    with pytest.raises(tflib.NetworkPickleError, match='unknown build function'):
        utils.initialize_feature_extractor(str(path), str(tmp_path / 'cache'), verbose=False)
    trusted = utils.initialize_feature_extractor(str(path), str(tmp_path / 'cache'), trust_code=True, verbose=False)
    np.testing.assert_allclose(trusted.run(images), images.mean(axis=(2, 3)), rtol=1e-6)


def test_a_source_without_the_build_function_is_a_clear_error(tmp_path):
    path = write_vgg_pickle(str(tmp_path / 'vgg16.pkl'), width_divisor=64, source='import tensorflow as tf\n')
    _, _, net = load_network_file(path, trust_code=True)
    with pytest.raises(ValueError, match="defines no function 'perceptual_features'"):
        net.run(np.zeros([1, 3, 8, 8], np.uint8))


def test_check_tool_reports_agreement_on_the_test_pickles(tmp_path, capsys):
    vgg = write_vgg_pickle(str(tmp_path / 'vgg16.pkl'), seed=2)
    assert check_pickle.main([vgg, '--trust_pickle_code', '--num', '2', '--cache_dir', str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.count(' OK') == 4 and 'AGREEMENT within tolerance' in out
    assert "build function 'perceptual_features'" in out and 'conv1/conv1 [3, 3, 3, 4] -> conv1/weight (HWIO)' in out
    saved = listing(tmp_path / 'network_sources')
    assert any(n.endswith('.build_module_src.py') for n in saved) and any(n.endswith('.layout.txt') for n in saved)
    src = [n for n in saved if n.endswith('.py')][0]
    assert (tmp_path / 'network_sources' / src).read_text() == NVIDIA_STYLE_VGG_SOURCE

    data, _ = tiny32_with_tf1_source(trust=False)
    gen = tmp_path / 'tiny32_tf1.pkl'
    gen.write_bytes(data)
    assert check_pickle.main([str(gen), '--trust_pickle_code', '--cache_dir', str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.count('  OK') == 2 and 'AGREEMENT within tolerance' in out
    assert "network 'Gs', build function 'G_style'" in out


def test_check_tool_flags_a_disagreeing_rebuild(tmp_path, capsys):
    # The stored code uses Caffe-style preprocessing; the rebuild (ImageNet mean/std) must be reported as different.
    source = NVIDIA_STYLE_VGG_SOURCE.replace('* (1.0 / 255)', '* (1.0 / 128)')
    vgg = write_vgg_pickle(str(tmp_path / 'vgg16.pkl'), seed=2, source=source)
    assert check_pickle.main([vgg, '--trust_pickle_code', '--num', '1', '--cache_dir', str(tmp_path)]) == 1
    assert 'DISAGREEMENT' in capsys.readouterr().out


def test_check_tool_fails_on_a_network_the_rebuild_cannot_load(tmp_path, capsys):
    net = tflib.Network.__new__(tflib.Network)
    net.__setstate__({'version': 4, 'name': 'mystery', 'static_kwargs': {}, 'components': {},
                      'build_module_src': 'x = 1\n', 'build_func_name': 'mystery_net',
                      'variables': [('w', np.ones([3, 3], np.float32))]})
    path = str(tmp_path / 'mystery.pkl')
    with open(path, 'wb') as f:
        pickle.dump(net, f, protocol=4)
    assert check_pickle.main([path, '--cache_dir', str(tmp_path)]) == 1
    assert 'no TF2 rebuild recognises this network' in capsys.readouterr().out


FAILING_SOURCE = '''
import tensorflow as tf

def features(images_in, fail_at_build=False, **_kwargs):
    images_in.set_shape([None, 3, None, None])
    if fail_at_build:
        raise TypeError('an unsupported argument')
    x = tf.reduce_mean(images_in, axis=[2, 3])
    with tf.control_dependencies([tf.debugging.assert_less(x, 100.0, name='values_below_100')]):
        return tf.identity(x)
'''


def failing_pickle(tmp_path, **static_kwargs):
    net = tflib.Network.__new__(tflib.Network)
    net.__setstate__({'version': 4, 'name': 'fragile', 'static_kwargs': static_kwargs, 'components': {},
                      'build_module_src': FAILING_SOURCE, 'build_func_name': 'features', 'variables': []})
    path = tmp_path / ('fragile%d.pkl' % len(static_kwargs))
    path.write_bytes(pickle.dumps((net, net, net), protocol=4))
    return str(path)


def test_failures_of_stored_code_are_clean_errors_naming_the_network_and_the_op(tmp_path, capsys):
    from dnnlib.tflib.trusted_exec import StoredCodeError
    _, _, net = load_network_file(failing_pickle(tmp_path), trust_code=True)
    np.testing.assert_allclose(net.run(np.ones([2, 3, 4, 4], np.float32)), np.ones([2, 3]))
    with pytest.raises(StoredCodeError, match=r"network 'fragile' failed while running, at op \S*Assert\S*: "
                                              r"assertion failed: \[Condition x < y"):
        net.run(np.full([1, 3, 4, 4], 500, np.float32))
    _, _, broken = load_network_file(failing_pickle(tmp_path, fail_at_build=True), trust_code=True)
    with pytest.raises(StoredCodeError, match=r"failed while building its graph at line 7 of its source \(features\): "
                                              r"TypeError: an unsupported argument"):
        broken.run(np.ones([1, 3, 4, 4], np.float32))
    # check_pickle: "could not run" is exit 2 with an error line, never 1 ("the rebuild disagrees").
    source = NVIDIA_STYLE_VGG_SOURCE.replace("    images_in.set_shape([None, 3, None, None])\n",
                                             "    images_in.set_shape([None, 3, None, None])\n"
                                             "    raise TypeError('an unsupported argument')\n", 1)
    vgg = write_vgg_pickle(str(tmp_path / 'vgg16.pkl'), seed=2, source=source)
    capsys.readouterr()
    assert check_pickle.main([vgg, '--trust_pickle_code', '--num', '1', '--cache_dir', str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert 'error: ' in err and 'TypeError: an unsupported argument' in err and 'Traceback' not in err
