"""StyleGAN2 G_main rebuilt in TF2 against the official generator's outputs (../shared/fixtures/stylegan2_official)."""
import io
import json
import os
import pickle

import numpy as np
import pytest

import dnnlib.tflib as tflib
from conftest import shared_path
from networks import check_pickle, loading
from networks.loading import load_network_file
from test_stylegan_official import assert_uint8_matches, check_mapping, load as load_fixture

CONFIGS = ['tiny32_skip', 'tiny64_resnet']


def load(tag):
    return load_fixture(tag, 'stylegan2_official')


@pytest.mark.parametrize('tag', CONFIGS)
def test_g_main_reproduces_every_golden_setting(tag):
    (G, D, Gs), golden, meta = load(tag)
    assert (G.kind, D.kind, Gs.kind) == ('generator', 'discriminator', 'generator')
    assert Gs.components.mapping.rebuild.name == 'G_mapping (StyleGAN2)'  # not StyleGAN's G_mapping
    latents, labels = check_mapping(Gs, golden)
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
    with pytest.raises(tflib.NetworkPickleError, match=r'4x4/Conv/bias of shape \[64\], but the file holds \[7\]'):
        Gs.run(np.zeros([1, 32]), None)
    _, _, Gs = loading.read_networks(data)
    Gs.components.synthesis.build_func_name = 'G_synthesis'  # StyleGAN2-ADA's synthesis function
    with pytest.raises(tflib.NetworkPickleError, match=r"StyleGAN2-ADA generator .*conv_clamp .*float16 layers "
                                                       r".*--trust_pickle_code"):
        loading.load_network_file(io.BytesIO(pickle.dumps((Gs, Gs, Gs))))  # the row matches the whole network


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


@pytest.fixture(scope='module')
def stylegan2_assets(tmp_path_factory):
    """40 real images drawn by the tiny StyleGAN2 in dataset_tool layout, and a tiny VGG-format pickle."""
    from datasets.tfrecords import write_tfrecords
    from network_factory import write_vgg_pickle
    root = tmp_path_factory.mktemp('sg2')
    network = os.path.join(shared_path('fixtures', 'stylegan2_official', 'tiny32_skip'), 'network.pkl')
    _, _, Gs = load_network_file(network)
    images = Gs.run(np.random.RandomState(3).randn(40, 32), None, truncation_psi=1.0, randomize_noise=False,
                    output_transform=dict(func=tflib.convert_images_to_uint8))
    write_tfrecords(str(root / 'ffhq'), images)
    return {'root': root, 'network': network, 'vgg': write_vgg_pickle(str(root / 'vgg16.pkl'), width_divisor=16),
            'images': images}


def run_metric(assets, out, *args):
    import subprocess
    import sys
    from conftest import REPO
    return subprocess.run([sys.executable, os.path.join(REPO, 'run_metric.py'), '--data_dir',
                           str(assets['root'] / 'ffhq'), '--network', assets['network'], '--feature_network',
                           assets['vgg'], '--cache_dir', str(assets['root'] / 'cache'), '--save_path', str(out),
                           '--quiet', '--save_features'] + list(args), capture_output=True, text=True, timeout=900)


def test_the_pr50k3_protocol_runs_its_settings_and_its_arithmetic(stylegan2_assets, tmp_path):
    import precision_recall
    out = tmp_path / 'out'
    result = run_metric(stylegan2_assets, out, '--protocol', 'stylegan2_pr50k3', '--num_images', '32')
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr == ''
    assert "generator kwargs {'is_validation': True}, float16 distances" in result.stdout
    assert 'the protocol uses 50000' in result.stdout
    summary = json.load(open(str(out / 'results.json')))['pr50k3']
    assert (summary['convention'], summary['nhood_size'], summary['row_batch_size'], summary['col_batch_size']) == \
        ('nvidia_fp16', 3, 10000, 10000)
    assert summary['mirror_augment'] is False and 'overflow' not in summary
    saved = np.load(str(out / 'features' / 'pr50k3.npz'))
    real, fake = saved['real_features'], saved['fake_features']
    _, _, vgg = load_network_file(stylegan2_assets['vgg'])
    np.testing.assert_array_equal(real, vgg.run(stylegan2_assets['images'][:32], minibatch_size=8))
    expected = precision_recall.knn_precision_recall_features(real, fake, [3], dtype='float16', verbose=False)
    assert (summary['precision'], summary['recall']) == (expected['precision'][0], expected['recall'][0])
    assert 'pr50k3_precision %.4f  pr50k3_recall %.4f' % (expected['precision'][0], expected['recall'][0]) in \
        result.stdout
    # Settings the protocol fixes are refused, not ignored.
    refused = run_metric(stylegan2_assets, tmp_path / 'no', '--protocol', 'stylegan2_pr50k3', '--dtype', 'float32',
                         '--truncation_sweep')
    assert refused.returncode == 2 and '--dtype, --truncation_sweep' in refused.stderr
    # --mirror_augment: the same records, each flipped left-right where RandomState([seed, 1]).rand(N) < 0.5
    mirrored = run_metric(stylegan2_assets, tmp_path / 'mirror', '--protocol', 'stylegan2_pr50k3', '--num_images',
                          '32', '--mirror_augment', '--random_seed', '7')
    assert mirrored.returncode == 0, mirrored.stderr[-3000:]
    images = stylegan2_assets['images']
    flips = np.random.RandomState([7, 1]).rand(len(images)) < 0.5
    assert 'Reals mirrored at random (--mirror_augment): %d of %d flipped' % (flips.sum(), len(images)) in \
        mirrored.stdout
    expected_images = np.where(flips[:, None, None, None], images[:, :, :, ::-1], images)[:32]
    saved = np.load(str(tmp_path / 'mirror' / 'features' / 'pr50k3.npz'))
    np.testing.assert_array_equal(saved['real_features'], vgg.run(expected_images, minibatch_size=8))
    assert not np.array_equal(saved['real_features'], real)  # the flipped records' features differ
    assert json.load(open(str(tmp_path / 'mirror' / 'results.json')))['pr50k3']['mirror_augment'] is True


def test_a_stylegan2_truncation_sweep_gives_each_psi_explicitly(stylegan2_assets, tmp_path):
    import precision_recall
    out = tmp_path / 'out'
    result = run_metric(stylegan2_assets, out, '--truncation_sweep', '--num_images', '24', '--truncations', '1.0',
                        '0.5')
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'StyleGAN2 generator (G_main): each psi is given explicitly, on 8 of its 8 style layers' in result.stdout
    results = json.load(open(str(out / 'results.json')))
    assert results['networks']['generator']['build_func_name'] == 'G_main'
    for row in results['truncation_sweep']:
        assert row['generator_kwargs'] == {'truncation_psi': row['truncation_psi'], 'truncation_cutoff': 18}
        saved = np.load(str(out / 'features' / ('truncation_%0.2f.npz' % row['truncation_psi'])))
        expected = precision_recall.knn_precision_recall_features(saved['real_features'], saved['fake_features'],
                                                                  verbose=False)
        assert row['precision'] == expected['precision'].tolist() and row['recall'] == expected['recall'].tolist()
    table = np.loadtxt(str(out / 'stylegan_truncation.txt'), delimiter=',', skiprows=1)
    np.testing.assert_array_equal(table[:, 0].astype(np.float32), np.float32([1.0, 0.5]))


def test_pr50k3_repeats_redraw_the_generated_side(stylegan2_assets, tmp_path):
    out = tmp_path / 'rep'
    result = run_metric(stylegan2_assets, out, '--protocol', 'stylegan2_pr50k3', '--num_images', '16', '--repeats', '3')
    assert result.returncode == 0, result.stderr[-3000:]
    entry = json.load(open(str(out / 'results.json')))['pr50k3']
    repeats = entry['repeats']
    assert repeats['seeds'] == [1234, 1235, 1236] and repeats['nhood_size'] == 3
    for metric in ('precision', 'recall'):
        values = repeats[metric]['values']
        assert len(values) == 3 and values[0] == entry[metric]
        assert repeats[metric]['mean'] == np.mean(values)
        assert repeats[metric]['std'] == pytest.approx(np.std(values, ddof=1), abs=1e-15)
