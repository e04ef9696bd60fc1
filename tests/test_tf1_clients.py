"""TF1-style client code on our dnnlib, written the way NVIDIA's scripts use it (every name they call).

The shared StyleGAN fixtures hold (G, D, Gs) pickles in the official format and the official goldens; these tests
read them with a plain `pickle.load`, as NVIDIA's scripts do, and check the numbers against the goldens and
against each other (set_vars, clone, truncation values reusing one trace).
"""
import io
import json
import logging
import os
import pickle

import numpy as np
import pytest
import tensorflow as tf

import dnnlib
import dnnlib.tflib as tflib
from conftest import shared_path
from network_factory import state_network, vgg_state


def fixture(name):
    folder = shared_path('fixtures', *name.split('/'))
    with open(os.path.join(folder, 'network.pkl'), 'rb') as f:
        nets = pickle.load(f, encoding='latin1')  # as NVIDIA's pretrained_networks.load_networks
    return nets, np.load(os.path.join(folder, 'golden.npz')), json.load(open(os.path.join(folder, 'meta.json')))


@pytest.mark.parametrize('name', ['stylegan_official/tiny32', 'stylegan2_official/tiny32_skip'])
def test_plain_pickle_load_gives_networks_that_reproduce_the_goldens_with_one_trace(name, caplog):
    (_G, _D, Gs), golden, meta = fixture(name)
    latents = golden['latents']
    np.testing.assert_allclose(Gs.components.mapping.run(latents, None), golden['dlatents_mapping'], atol=1e-5)
    with caplog.at_level(logging.WARNING):
        for setting in meta['settings']:
            images = Gs.run(latents, None, minibatch_size=3, **setting['gs_run_kwargs'])
            np.testing.assert_allclose(images, golden[setting['name'] + '/images_float_nchw'], atol=1e-4,
                                       err_msg=setting['name'])
    # every psi, cutoff and batch size shares a trace: one with truncation, one without (per randomize_noise)
    assert len(Gs._run_cache) <= 2
    assert all(fn.experimental_get_tracing_count() == 1 for fn in Gs._run_cache.values())
    assert 'retracing' not in caplog.text


def test_a_pickle_with_an_unknown_build_function_loads_and_refuses_on_first_use():
    state = vgg_state(build_func_name='my_own_network', variables=[('w', np.ones([3], np.float32))])
    net = pickle.loads(pickle.dumps(state_network(state)))  # loading works: the refusal comes on first use
    assert net.name == 'vgg16' and net.get_var('w').tolist() == [1, 1, 1]
    with pytest.raises(tflib.NetworkPickleError, match="(?s)my_own_network.*--trust_pickle_code"):
        net.run(np.zeros([1, 3, 32, 32], np.float32))


def test_vars_are_ordered_hashable_handles_shared_with_the_parent_and_set_vars_changes_later_runs():
    (_G, _D, Gs), golden, _ = fixture('stylegan_official/tiny32')
    latents = golden['latents'][:2]
    synthesis = Gs.components.synthesis
    noise_vars = [var for name, var in synthesis.vars.items() if name.startswith('noise')]
    assert [v.name for v in noise_vars] == ['G_synthesis/noise%d:0' % i for i in range(8)]
    assert noise_vars[2].shape.as_list() == [1, 1, 8, 8] and not noise_vars[2].trainable
    assert list(Gs.vars)[:2] == ['lod', 'dlatent_avg'] and 'G_synthesis/noise0' in Gs.vars
    assert Gs.vars['G_synthesis/noise0'] is noise_vars[0]  # one handle per variable
    assert set(Gs.trainables) == {name for name, var in Gs.vars.items() if var.trainable}
    assert 'G_mapping/Dense0/weight' in Gs.trainables and 'lod' not in Gs.trainables
    values = tflib.run(noise_vars)
    assert isinstance(values, list) and values[3].shape == (1, 1, 8, 8)
    np.testing.assert_array_equal(Gs.get_var('G_synthesis/noise3'), values[3])
    before = Gs.run(latents, None, truncation_psi=1, randomize_noise=False)
    tflib.set_vars({var: np.zeros(var.shape.as_list()) for var in noise_vars})  # float64 values, as NVIDIA's scripts
    silent = Gs.run(latents, None, truncation_psi=1, randomize_noise=False)
    assert np.abs(silent - before).max() > 1e-3  # the parent reads its synthesis component's variables
    np.testing.assert_array_equal(synthesis.run(Gs.components.mapping.run(latents, None), randomize_noise=False),
                                  silent)
    tflib.set_vars(dict(zip(noise_vars, values)))
    np.testing.assert_array_equal(Gs.run(latents, None, truncation_psi=1, randomize_noise=False), before)
    Gs.set_var('dlatent_avg', Gs.get_var('dlatent_avg') * 0)
    assert not Gs.get_var('dlatent_avg').any()
    with pytest.raises(ValueError, match='shape'):
        noise_vars[0].assign(np.zeros([4]))


def test_clone_has_variables_of_its_own():
    (_G, _D, Gs), golden, _ = fixture('stylegan_official/tiny32')
    latents = golden['latents'][:2]
    reference = Gs.run(latents, None, truncation_psi=1, randomize_noise=False)
    clone = Gs.clone()
    assert clone.name == 'Gs' and Gs.clone('Gs2').name == 'Gs2'
    np.testing.assert_array_equal(clone.run(latents, None, truncation_psi=1, randomize_noise=False), reference)
    noise = [var for name, var in clone.components.synthesis.vars.items() if name.startswith('noise')]
    tflib.set_vars({var: value * 0 for var, value in zip(noise, tflib.run(noise))})
    assert np.abs(clone.run(latents, None, truncation_psi=1, randomize_noise=False) - reference).max() > 1e-3
    np.testing.assert_array_equal(Gs.run(latents, None, truncation_psi=1, randomize_noise=False), reference)


def test_print_layers_has_nvidias_columns_and_counts_every_trainable_once(capsys):
    (_G, _D, Gs), _, _ = fixture('stylegan_official/tiny32')
    Gs.print_layers()
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert lines[0].split() == ['Gs', 'Params', 'OutputShape', 'WeightShape']
    rows = {line.split()[0]: line.split() for line in lines}
    assert rows['Total'][1] == str(sum(int(np.prod(v.shape.as_list())) for v in Gs.trainables.values()))
    assert rows['latents_in'][1:] == ['-', '(?,', '32)', '-'] and rows['dlatent_avg'][2] == '(32,)'
    assert rows['G_synthesis/4x4/Conv'][-4:] == ['(3,', '3,', '64,', '64)']
    assert rows['G_mapping/Dense0'][1] == str(32 * 32 + 32)
    names = [name for name, _, _ in Gs.list_layers()]
    assert names.index('G_mapping/Dense0') < names.index('G_synthesis/4x4/Const') and names[-1] == 'images_out'
    Gs.print_layers(title='Generator', hide_layers_with_no_params=True)
    out = capsys.readouterr().out
    assert 'Generator' in out and 'noise0' not in out and 'G_mapping/Dense7' in out


def test_init_tf_seeds_as_nvidias_once_and_sets_env(monkeypatch):
    from dnnlib.tflib import tf1_api
    monkeypatch.setattr(tf1_api, '_state', {'initialized': False})
    monkeypatch.delenv('PR_TEST_ENV', raising=False)
    tflib.init_tf({'rnd.np_random_seed': 7, 'env.PR_TEST_ENV': 3})
    np.random.seed(7)
    np.random.randint(1 << 31)  # the TensorFlow seed drawn from NumPy's stream ('auto')
    expected = np.random.rand()
    monkeypatch.setattr(tf1_api, '_state', {'initialized': False})
    tflib.init_tf({'rnd.np_random_seed': 7, 'env.PR_TEST_ENV': 3})
    assert np.random.rand() == expected and os.environ['PR_TEST_ENV'] == '3'
    state = np.random.get_state()[1].copy()
    tflib.init_tf({'rnd.np_random_seed': 8})  # later calls do nothing, as NVIDIA's (its session exists)
    assert np.array_equal(np.random.get_state()[1], state)


def test_run_keeps_the_structure_and_refuses_feeds():
    v = tf.Variable([1.0, 2.0])
    out = tflib.run({'a': [v, tf.constant(3.0)], 'b': (np.ones(2),)})
    assert out['a'][1] == 3.0 and isinstance(out['b'], tuple)
    np.testing.assert_array_equal(out['a'][0], [1, 2])
    assert tflib.is_tf_expression(v) and not tflib.is_tf_expression(np.ones(2))
    with pytest.raises(NotImplementedError, match='Network.run'):
        tflib.run(v, feed_dict={'z:0': [0, 0]})
    with pytest.raises(TypeError, match='not a network variable'):
        tflib.set_vars({'noise0': 1})


def test_what_needs_a_tf1_graph_is_refused_by_name():
    with pytest.raises(AttributeError, match='Optimizer.*stylegan2-ada-pytorch'):
        tflib.Optimizer
    with pytest.raises(AttributeError, match="no attribute 'nothing_like_this'"):
        tflib.nothing_like_this
    (_G, _D, Gs), _, _ = fixture('stylegan_official/tiny32')
    with tf.Graph().as_default():
        z = tf.compat.v1.placeholder(tf.float32, [None, 32])
        with pytest.raises(NotImplementedError, match='TF1 graph.*run'):
            Gs.get_output_for(z, None)


def test_run_folders_as_nvidias_submit_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert dnnlib.submit_config is None and dnnlib.make_run_dir_path('a.png') == str(tmp_path / 'a.png')
    (tmp_path / 'results' / '00007-old').mkdir(parents=True)
    (tmp_path / 'results' / '12-not-a-folder.txt').write_text('x')
    import tf1_client_functions  # noqa: F401  (the module submit_run imports by name)
    sc = dnnlib.SubmitConfig()
    sc.num_gpus = 1
    sc.submit_target = dnnlib.SubmitTarget.LOCAL
    sc.local.do_not_copy_source_files = True
    sc.run_dir_root = 'results'
    sc.run_desc = 'generate-images'
    where = dnnlib.submit_run(sc, 'tf1_client_functions.write_here', name='x.txt')
    assert where == os.path.join('results', '00008-generate-images', 'x.txt') and os.path.isfile(where)
    assert dnnlib.submit_config is None  # only while the function runs
    assert dnnlib.submit_run(sc, 'tf1_client_functions.write_here', name='y.txt').startswith(
        os.path.join('results', '00009-generate-images'))


def test_a_run_with_a_pickle_read_from_bytes_and_output_transform():
    (_G, _D, Gs), golden, meta = fixture('stylegan_official/tiny128_fused')
    Gs = pickle.load(io.BytesIO(pickle.dumps(Gs)))  # our own __getstate__ round trip keeps it runnable
    setting = meta['settings'][0]
    fmt = dict(func=tflib.convert_images_to_uint8, nchw_to_nhwc=True)
    images = Gs.run(golden['latents'], None, output_transform=fmt, **setting['gs_run_kwargs'])
    diff = np.abs(images.astype(int) - golden[setting['name'] + '/images_uint8_nhwc'])
    assert images.dtype == np.uint8 and diff.max() <= 1 and (diff > 0).mean() <= 1e-3


def test_the_launcher_puts_our_dnnlib_before_the_scripts_own(tmp_path):
    """tools/nvidia_script.py: a checkout's own dnnlib beside the script loses to ours; its other modules are found."""
    import subprocess
    import sys
    (tmp_path / 'dnnlib').mkdir()
    (tmp_path / 'dnnlib' / '__init__.py').write_text('raise ImportError("the checkout\'s TF1 dnnlib was imported")\n')
    (tmp_path / 'helper.py').write_text('VALUE = 7\n')
    (tmp_path / 'script.py').write_text(
        'import sys, dnnlib, dnnlib.tflib as tflib, helper\n'
        'print(dnnlib.__file__, helper.VALUE, sys.argv[1:], callable(tflib.init_tf), __name__)\n')
    launcher = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'tools', 'nvidia_script.py')
    out = subprocess.run([sys.executable, launcher, str(tmp_path / 'script.py'), '--seeds=1-2'], capture_output=True,
                         text=True, cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr[-2000:]
    ours = os.path.join(os.path.dirname(launcher), '..', 'dnnlib')
    words = out.stdout.split()
    assert os.path.samefile(os.path.dirname(words[0]), ours)
    assert out.stdout.split(' ', 1)[1].strip() == "7 ['--seeds=1-2'] True __main__"
