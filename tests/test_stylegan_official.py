"""StyleGAN generator rebuilt in TF2 against the official generator's outputs (../shared/fixtures/stylegan_official)."""
import json
import os

import numpy as np
import pytest

import dnnlib.tflib as tflib
from networks import loading
from networks.loading import load_network_file
from conftest import shared_path

FULL_CHECK = {'psi1.0_cutoffNone', 'psi0.7_cutoff8', 'defaults_noiseoff', 'psi0.3_cutoff12'}


def load(tag, family='stylegan_official'):
    """((G, D, Gs), golden arrays, meta) of a fixture under ../shared/fixtures/<family>/<tag>."""
    folder = shared_path('fixtures', family, tag)
    nets = load_network_file(os.path.join(folder, 'network.pkl'))
    golden = np.load(os.path.join(folder, 'golden.npz'))
    meta = json.load(open(os.path.join(folder, 'meta.json')))
    return nets, golden, meta


def check_mapping(Gs, golden):
    """The mapping output (within 1e-5) and dlatent_avg (exactly) of Gs against a golden -> (latents, empty labels)."""
    latents = golden['latents']
    np.testing.assert_allclose(Gs.components.mapping.run(latents, None), golden['dlatents_mapping'], atol=1e-5, rtol=0)
    np.testing.assert_array_equal(Gs.get_var('dlatent_avg'), golden['dlatent_avg'])
    return latents, np.zeros([len(latents), 0], np.float32)


def uint8_boundary(images_float):
    """True where 127.5 x + 128 is within 1e-3 of an integer: float round-off may flip floor() there."""
    y = images_float.astype(np.float64) * 127.5 + 128.0
    return np.abs(y - np.round(y)) < 1e-3


def assert_uint8_matches(ours, golden_u8, golden_float):
    diff = np.abs(ours.astype(np.int16) - golden_u8.astype(np.int16))
    assert diff.max() <= 1
    # Every differing pixel sits on a rounding boundary of the official float output.
    assert uint8_boundary(golden_float)[diff > 0].all()
    assert (diff > 0).sum() <= max(4, 2e-4 * diff.size)


@pytest.mark.parametrize('tag', ['tiny32', 'tiny128_fused'])
def test_generator_reproduces_every_golden_setting(tag):
    (G, D, Gs), golden, meta = load(tag)
    assert (G.name, D.name, Gs.name) == ('G', 'D', 'Gs')
    latents, labels = check_mapping(Gs, golden)
    for setting in meta['settings']:
        name, kwargs = setting['name'], setting['gs_run_kwargs']
        truncation = {k: v for k, v in kwargs.items() if k != 'randomize_noise'}
        dlatents = Gs.module.dlatents(latents.astype(np.float32), labels, **truncation).numpy()
        np.testing.assert_allclose(dlatents, golden[name + '/dlatents_synthesis_in'], atol=1e-5, rtol=0, err_msg=name)
        images = Gs.run(latents, None, **kwargs)
        assert images.dtype == np.float32 and images.shape == golden[name + '/images_float_nchw'].shape
        np.testing.assert_allclose(images, golden[name + '/images_float_nchw'], atol=1e-4, rtol=0, err_msg=name)
        u8 = Gs.run(latents, None, output_transform=dict(func=tflib.convert_images_to_uint8), **kwargs)
        assert u8.dtype == np.uint8
        assert_uint8_matches(u8, golden[name + '/images_uint8_nchw'], golden[name + '/images_float_nchw'])
        if name in FULL_CHECK:
            nhwc = Gs.run(latents, None, minibatch_size=3, output_transform=dict(
                func=tflib.convert_images_to_uint8, nchw_to_nhwc=True), **kwargs)
            assert_uint8_matches(nhwc, golden[name + '/images_uint8_nhwc'],
                                 golden[name + '/images_float_nchw'].transpose(0, 2, 3, 1))


def test_layer_intermediates_match_debug_capture():
    """Mapping output and the final image of the debug capture (per-layer tensors of one setting)."""
    (_, _, Gs), _, meta = load('tiny32')
    debug = np.load(shared_path('fixtures', 'stylegan_official', 'tiny32', 'debug_intermediates.npz'))
    latents = debug['latents']
    kwargs = meta['debug_intermediates']['kwargs']
    np.testing.assert_allclose(Gs.components.mapping.run(latents, None)[:, 0],
                               debug['G_mapping/Dense7/leaky_relu'], atol=1e-5)
    images = Gs.run(latents, None, **{k: v for k, v in kwargs.items() if k != 'structure'})
    np.testing.assert_allclose(images, debug['G_synthesis/ToRGB_lod0/apply_bias'], atol=1e-4)


def test_random_noise_changes_images_but_not_their_scale():
    (_, _, Gs), golden, _ = load('tiny32')
    latents = golden['latents']
    a = Gs.run(latents, None, truncation_psi=1.0, randomize_noise=True)
    b = Gs.run(latents, None, truncation_psi=1.0, randomize_noise=True)
    fixed = golden['psi1.0_cutoffNone/images_float_nchw']
    assert np.abs(a - b).max() > 1e-3  # fresh noise each call, like tf.random_normal in TF1
    assert abs(a.std() - fixed.std()) < 0.25 * fixed.std()


def test_truncation_rules():
    (_, _, Gs), _, _ = load('tiny32')
    g = Gs.module
    assert g.truncation_coefs(1.0, 18) is None and g.truncation_coefs(None, 8) is None
    assert g.truncation_coefs(0.7, 0) is None and g.truncation_coefs(0.7, None) is None
    np.testing.assert_array_equal(g.truncation_coefs(0.5, 3), np.float32([0.5, 0.5, 0.5, 1, 1, 1, 1, 1]))
    np.testing.assert_array_equal(g.truncation_coefs('default', 'default'), np.float32([0.7] * 8))
    assert g.truncation_coefs(0.5, 4, is_validation=True) is None


def test_run_api_shapes_and_batching():
    (_, _, Gs), golden, _ = load('tiny32')
    latents = golden['latents'][:5]
    assert Gs.input_shape == [None, 32] and Gs.output_shape == [None, 3, 32, 32]
    assert Gs.input_names == ['latents_in', 'labels_in']
    full = Gs.run(latents, None, truncation_psi=0.7, randomize_noise=False)
    batched = Gs.run(latents, None, truncation_psi=0.7, randomize_noise=False, minibatch_size=2)
    # the same images in other batch shapes: oneDNN forced on a CPU without AVX-512 picks other convolution
    # kernels per batch size (measured 1.1e-5 absolute, 9e-6 relative on values near 2.3), Eigen none
    np.testing.assert_allclose(batched, full, rtol=2e-5, atol=1e-5)
    listed = Gs.run(latents, None, randomize_noise=False, return_as_list=True)
    assert isinstance(listed, list) and listed[0].shape == (5, 3, 32, 32)
    with pytest.raises(ValueError, match='inputs'):
        Gs.run(latents)
    with pytest.raises(ValueError, match='shape'):
        Gs.run(latents[:, :10], None)
    assert 'G_synthesis/4x4/Conv/weight' in Gs.vars and 'dlatent_avg' in Gs.own_vars


def ffhq_structure():
    return json.load(open(shared_path('fixtures', 'stylegan_official', 'ffhq1024_structure.json')))


def state_from_structure(structure, key, components):
    entry = structure[key]
    variables = [(v['name'], np.zeros(v['shape'], np.float32)) for v in entry['own_vars']]
    return {'version': 3, 'name': entry['name'], 'static_kwargs': entry['static_kwargs'],
            'components': components, 'build_module_src': '# network source omitted from this fixture',
            'build_func_name': entry['build_func_name'], 'variables': variables}


def make_network(state):
    net = tflib.Network.__new__(tflib.Network)
    net.__setstate__(state)
    loading.attach_rebuilds(net)
    return net


def test_ffhq1024_variable_list_is_fully_accounted_for():
    structure = ffhq_structure()
    synthesis = make_network(state_from_structure(structure, "Gs.components['synthesis'].G_synthesis", {}))
    mapping = make_network(state_from_structure(structure, "Gs.components['mapping'].G_mapping", {}))
    Gs = make_network(state_from_structure(structure, 'Gs', {'synthesis': synthesis, 'mapping': mapping}))
    for net, key in ((Gs, 'Gs'), (synthesis, "Gs.components['synthesis'].G_synthesis"),
                     (mapping, "Gs.components['mapping'].G_mapping")):
        expected = [(v['name'], v['shape']) for v in structure[key]['own_vars']]
        built = [(name, var.shape.as_list()) for name, var in net.module.named_vars.items()]
        assert built == expected, key  # same names, shapes and creation order
        assert net.input_shapes == structure[key]['input_shapes']
        assert net.output_shapes == structure[key]['output_shapes']
        trainable = {v['name'] for v in structure[key]['own_vars'] if v['trainable']}
        assert net.module.trainable_names == trainable
    assert list(Gs.vars) == structure['Gs']['vars']
    # Smoke run at batch 1 through the full 1024x1024 graph (zero weights -> finite output of the right shape).
    out = Gs.run(np.random.RandomState(0).randn(1, 512), None, truncation_psi=0.7, truncation_cutoff=18,
                 randomize_noise=True, output_transform=dict(func=tflib.convert_images_to_uint8))
    assert out.shape == (1, 3, 1024, 1024) and out.dtype == np.uint8
