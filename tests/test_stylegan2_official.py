"""StyleGAN2 G_main rebuilt in TF2 against the official generator's outputs (../shared/fixtures/stylegan2_official)."""
import json
import os
import pickle

import numpy as np
import pytest

import dnnlib.tflib as tflib
from conftest import shared_path
from networks import check_pickle, loading
from networks.loading import load_network_file
from test_stylegan_official import assert_uint8_matches

CONFIGS = ['tiny32_skip', 'tiny64_resnet']


def load(tag):
    folder = shared_path('fixtures', 'stylegan2_official', tag)
    nets = load_network_file(os.path.join(folder, 'network.pkl'))
    golden = np.load(os.path.join(folder, 'golden.npz'))
    meta = json.load(open(os.path.join(folder, 'meta.json')))
    return nets, golden, meta


@pytest.mark.parametrize('tag', CONFIGS)
def test_g_main_reproduces_every_golden_setting(tag):
    (G, D, Gs), golden, meta = load(tag)
    assert (G.kind, D.kind, Gs.kind) == ('generator', 'discriminator', 'generator')
    assert Gs.components.mapping.rebuild.name == 'G_mapping (StyleGAN2)'  # not StyleGAN's G_mapping
    latents = golden['latents']
    np.testing.assert_allclose(Gs.components.mapping.run(latents, None), golden['dlatents_mapping'], atol=1e-5, rtol=0)
    np.testing.assert_array_equal(Gs.get_var('dlatent_avg'), golden['dlatent_avg'])
    labels = np.zeros([len(latents), 0], np.float32)
    for setting in meta['settings']:
        name, kwargs = setting['name'], setting['gs_run_kwargs']
        coefs = Gs.module.truncation_coefs(**{k: v for k, v in kwargs.items() if k != 'randomize_noise'})
        dlatents = Gs.module.dlatents(latents.astype(np.float32), labels, coefs).numpy()
        np.testing.assert_allclose(dlatents, golden[name + '/dlatents_synthesis_in'], atol=1e-5, rtol=0, err_msg=name)
        images = Gs.run(latents, None, **kwargs)
        assert images.dtype == np.float32 and images.shape == golden[name + '/images_float_nchw'].shape
        np.testing.assert_allclose(images, golden[name + '/images_float_nchw'], atol=1e-4, rtol=0, err_msg=name)
        u8 = Gs.run(latents, None, minibatch_size=3, output_transform=dict(func=tflib.convert_images_to_uint8),
                    **kwargs)
        assert_uint8_matches(u8, golden[name + '/images_uint8_nchw'], golden[name + '/images_float_nchw'])
        nhwc = Gs.run(latents, None, output_transform=dict(func=tflib.convert_images_to_uint8, nchw_to_nhwc=True),
                      **kwargs)
        assert_uint8_matches(nhwc, golden[name + '/images_uint8_nhwc'], golden[name + '/images_float_nchw'].transpose(
            0, 2, 3, 1))
        # The synthesis network alone (style mixing / projector path) on the official truncated dlatents.
        synthesized = Gs.components.synthesis.run(golden[name + '/dlatents_synthesis_in'], randomize_noise=False)
        np.testing.assert_allclose(synthesized, golden[name + '/images_float_nchw'], atol=1e-4, rtol=0, err_msg=name)


@pytest.mark.parametrize('tag', CONFIGS)
def test_truncation_follows_g_main_not_g_style(tag):
    """Defaults psi 0.5 on every layer; psi 1 off; is_validation off; a cutoff truncates the first layers only."""
    (_, _, Gs), golden, _ = load(tag)
    latents = golden['latents']
    layers = Gs.module.num_layers
    assert Gs.module.truncation_coefs().tolist() == [0.5] * layers
    assert Gs.module.truncation_coefs(truncation_psi=1.0) is None
    assert Gs.module.truncation_coefs(is_validation=True) is None
    assert Gs.module.truncation_coefs(truncation_psi=0.7, truncation_cutoff=4).tolist() == \
        [np.float32(0.7)] * 4 + [1.0] * (layers - 4)
    default = Gs.run(latents, None, randomize_noise=False)
    np.testing.assert_array_equal(default, Gs.run(latents, None, truncation_psi=0.5, truncation_cutoff=None,
                                                  randomize_noise=False))
    untruncated = Gs.run(latents, None, truncation_psi=1.0, randomize_noise=False)
    assert np.abs(default - untruncated).max() > 0.1  # the rule matters at the golden tolerances
    np.testing.assert_array_equal(untruncated, Gs.run(latents, None, is_validation=True, randomize_noise=False))
    # randomize_noise=True draws fresh noise per call: images differ, their shape and range do not.
    a, b = Gs.run(latents, None, truncation_psi=1.0), Gs.run(latents, None, truncation_psi=1.0)
    assert a.shape == untruncated.shape and np.abs(a - b).max() > 0.05


def test_the_rebuild_loads_variables_by_name_and_shape_in_the_official_order():
    (_, _, Gs), _, meta = load('tiny64_resnet')
    stored = meta['pickle']['networks']['Gs']['components']
    for key in ('synthesis', 'mapping'):
        expected = [(v['name'], v['shape']) for v in stored[key]['variables']]
        comp = Gs.components[key]
        assert [(n, v.shape.as_list()) for n, v in comp.module.named_vars.items()] == expected
    assert Gs.input_shapes == [[None, 48], [None, 0]] and Gs.output_shape == [None, 3, 64, 64]
    assert Gs.components.synthesis.input_shape == [None, 10, 40]  # dlatent_size 40 != latent_size 48


def test_a_wrong_shape_and_an_ada_style_component_are_refused(tmp_path):
    folder = shared_path('fixtures', 'stylegan2_official', 'tiny32_skip')
    data = open(os.path.join(folder, 'network.pkl'), 'rb').read()
    _, _, Gs = loading.read_networks(data)
    synthesis = Gs.components.synthesis
    synthesis._stored['4x4/Conv/bias'] = np.zeros([7], np.float32)
    with pytest.raises(tflib.NetworkPickleError, match='4x4/Conv/bias has shape'):
        Gs.run(np.zeros([1, 32]), None)
    _, _, Gs = loading.read_networks(data)
    Gs.components.synthesis.build_func_name = 'G_synthesis'  # StyleGAN2-ADA's synthesis function
    with pytest.raises(NotImplementedError, match='trust_pickle_code'):
        Gs.run(np.zeros([1, 32]), None)


def test_the_discriminator_is_named_and_not_rebuilt():
    (_, D, _), _, _ = load('tiny32_skip')
    with pytest.raises(NotImplementedError, match='D_stylegan2'):
        D.module
    with pytest.raises(ValueError, match='holds a discriminator'):
        loading.pick_network(D, 'generator', 'test')


def test_check_pickle_prints_the_stylegan2_layout(tmp_path, capsys):
    path = os.path.join(shared_path('fixtures', 'stylegan2_official', 'tiny32_skip'), 'network.pkl')
    assert check_pickle.main([path, '--cache_dir', str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "build function 'G_main'" in out and "build function 'G_synthesis_stylegan2'" in out
    assert '4x4/Conv/mod_weight [32, 64] -> 4x4/Conv/mod_weight' in out
    assert 'noise6 [1, 1, 32, 32] -> noise6' in out


def test_pickling_a_loaded_stylegan2_network_round_trips():
    (_, _, Gs), golden, _ = load('tiny32_skip')
    again = loading.read_networks(pickle.dumps(Gs, protocol=4))
    latents = golden['latents']
    np.testing.assert_array_equal(again.run(latents, None, randomize_noise=False),
                                  Gs.run(latents, None, randomize_noise=False))
    assert again.fingerprint() == Gs.fingerprint()
