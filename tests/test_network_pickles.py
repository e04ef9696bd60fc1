"""Restricted unpickling of dnnlib network pickles and the TF2 rebuild's checks."""
import io
import os
import pickle
import pickletools
import warnings

import numpy as np
import pytest

import dnnlib.tflib as tflib
from networks.loading import load_network_file
from conftest import shared_path
from network_factory import network_from_state, vgg_state, write_vgg_pickle


def tiny32_bytes():
    with open(shared_path('fixtures', 'stylegan_official', 'tiny32', 'network.pkl'), 'rb') as f:
        return f.read()


def test_official_pickle_globals_are_the_allowed_ones():
    data = tiny32_bytes()
    names = {arg for op, arg, _ in pickletools.genops(data) if op.name == 'SHORT_BINUNICODE' and isinstance(arg, str)}
    assert {'dnnlib.tflib.network', 'Network', 'numpy.core.multiarray', '_reconstruct'} <= names
    G, D, Gs = load_network_file(io.BytesIO(data))
    assert Gs.version == 3 and Gs.build_func_name == 'G_style'
    assert list(Gs.components) == ['synthesis', 'mapping']
    assert isinstance(Gs.get_var('lod'), np.ndarray) and Gs.get_var('lod').shape == ()
    assert D.build_func_name == 'D_basic'
    with pytest.raises(NotImplementedError, match='discriminator'):
        D.module


class Exploit:
    def __reduce__(self):
        return (os.system, ('echo pwned',))


def test_foreign_global_is_refused_with_its_name():
    data = pickle.dumps((1, Exploit()), protocol=4)
    with pytest.raises(tflib.NetworkPickleError, match=r'(posix|os)\.system'):
        load_network_file(io.BytesIO(data))


def test_build_module_src_is_never_executed(tmp_path):
    marker = tmp_path / 'executed'
    state = vgg_state(width_divisor=64)
    state['build_module_src'] = 'open(%r, "w").write("x")\n' % str(marker) + state['build_module_src']
    net = network_from_state(state)
    data = pickle.dumps(net, protocol=4)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        loaded = load_network_file(io.BytesIO(data))
        loaded.run(np.zeros([1, 3, 8, 8], np.uint8))
    assert not marker.exists()


def test_unknown_build_function_is_a_clear_error():
    state = {'version': 3, 'name': 'mystery', 'static_kwargs': {}, 'components': {}, 'build_module_src': '',
             'build_func_name': 'my_secret_net', 'variables': [('w', np.ones([4, 5], np.float32))]}
    data = pickle.dumps(network_from_state(state), protocol=4)
    with pytest.raises(tflib.NetworkPickleError, match="unknown build function 'my_secret_net'.*trust_pickle_code"):
        load_network_file(io.BytesIO(data))


@pytest.mark.parametrize('change,message', [
    (lambda v: {k: x for k, x in v.items() if k != 'Dense3/bias'}, r"variable Dense3/bias of shape \[32\], but the "
                                                                    r"file holds none"),
    (lambda v: dict(v, **{'extra/weight': np.zeros(3, np.float32)}), r"1 unexpected \['extra/weight'\]"),
    (lambda v: dict(v, **{'Dense1/bias': np.zeros(5, np.float32)}), r'Dense1/bias of shape \[32\], but the file '
                                                                    r'holds \[5\]'),
    (lambda v: dict(v, **{'Dense2/bias': v['Dense2/bias'] * np.nan}), 'NaN'),
])
def test_generator_variable_mismatches_are_clear_errors(change, message):
    _, _, Gs = load_network_file(io.BytesIO(tiny32_bytes()))
    mapping = Gs.components.mapping
    mapping._stored = change(dict(mapping._stored))
    with pytest.raises(tflib.NetworkPickleError, match=message):
        mapping.module


@pytest.mark.parametrize('cut', [10, 1000, -100])
def test_truncated_pickle_is_a_clear_error(cut):
    data = tiny32_bytes()
    with pytest.raises(tflib.NetworkPickleError, match='not a readable network pickle'):
        load_network_file(io.BytesIO(data[:cut]))


def test_non_network_pickle_is_refused():
    with pytest.raises(tflib.NetworkPickleError, match='not networks'):
        load_network_file(io.BytesIO(pickle.dumps({'a': np.zeros(3)})))
    with pytest.raises(tflib.NetworkPickleError, match='not a readable'):
        load_network_file(io.BytesIO(b'this is not a pickle'))


def test_unsupported_version_is_refused():
    state = vgg_state(width_divisor=64)
    state['version'] = 7
    with pytest.raises(tflib.NetworkPickleError, match='version 7'):
        network_from_state(state)


def test_lod_other_than_zero_is_refused():
    data = tiny32_bytes()
    G, D, Gs = load_network_file(io.BytesIO(data))
    Gs.components.synthesis._stored['lod'] = np.float32(1.0)
    with pytest.raises(NotImplementedError, match='lod=1'):
        Gs.run(np.zeros([1, 32]), None)


@pytest.mark.parametrize('protocol', [2, 3, 4, 5])
def test_pickle_round_trip_keeps_values(tmp_path, protocol):
    path = write_vgg_pickle(str(tmp_path / 'vgg16.pkl'), width_divisor=32, seed=3, protocol=protocol)
    _, _, net = load_network_file(path)
    again = load_network_file(io.BytesIO(pickle.dumps(net, protocol=protocol)))
    assert [n for n, _ in again.stored_variables()] == [n for n, _ in net.stored_variables()]
    for name, _ in net.stored_variables():
        np.testing.assert_array_equal(again.get_var(name), net.get_var(name))
    assert again.fingerprint() == net.fingerprint()


def test_protocol2_bytes_helper_accepts_only_latin1_text():
    class Sneaky:
        def __reduce__(self):
            import _codecs
            return (_codecs.encode, ('x', 'rot13'))
    with pytest.raises(tflib.NetworkPickleError, match='_codecs.encode'):
        load_network_file(io.BytesIO(pickle.dumps((1, Sneaky()), protocol=2)))
