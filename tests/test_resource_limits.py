"""Small files never allocate gigabytes: every declared size is compared with the file and the stored
variables before any array or variable is made (issue: files that are not ours, item 5)."""
import io
import os
import pickle
import resource
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from conftest import REPO, shared_path
from dnnlib.array_files import check_array_file
from dnnlib.tflib.network import NetworkPickleError
from dnnlib.tflib.safe_pickle import read_network_states
from networks import loading, torchscript
from network_factory import network_from_state, vgg_state, write_pickle


class Huge:
    """Pickles as numpy.ndarray(shape, float32): an array declared by the file, allocated by the loader."""

    def __init__(self, shape):
        self.shape = shape

    def __reduce__(self):
        return np.ndarray, (self.shape, np.dtype('float32'))


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_a_pickle_declaring_an_array_larger_than_itself_is_refused_before_allocating(tmp_path):
    state = vgg_state()
    names = [name for name, _ in state['variables']]
    fc3 = names.index('fc3/fc3')  # unused by the features, so only a size check can stop it
    state['variables'][fc3] = (names[fc3], Huge((256, 4194304)))  # 4.3 GB declared in a ~1 MB file
    net = loading.Network.__new__(loading.Network)
    net.__setstate__(state)
    data = pickle.dumps((net, net, net), protocol=4)
    assert len(data) < 5e6
    before = peak_rss_mb()
    with pytest.raises(NetworkPickleError, match=r'shape \[256, 4194304\].*more than the whole file holds'):
        read_network_states(data)
    assert peak_rss_mb() - before < 500  # nothing near 4 GB was touched
    ordinary = pickle.dumps(network_from_state(vgg_state()), protocol=2)  # protocol 2's _reconstruct still loads
    assert read_network_states(ordinary).name == 'vgg16'


def test_a_torchscript_storage_that_inflates_beyond_its_archive_is_refused(tmp_path):
    source = shared_path('fixtures', 'vgg16_torchscript', 'vgg16_tiny.pt')
    bomb = str(tmp_path / 'bomb.pt')
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(bomb, 'w') as zout:
        storages = [i for i in zin.infolist() if '/data/' in i.filename]
        target = storages[0].filename
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == target:  # the storage followed by 64 MB of zeros, deflated to a few kB
                zout.writestr(info.filename, data + bytes(64 << 20), compress_type=zipfile.ZIP_DEFLATED)
            else:
                zout.writestr(info, data)
    assert os.path.getsize(bomb) < 8 << 20
    with pytest.raises(torchscript.TorchScriptError, match='refusing to inflate it'):
        torchscript.read_torchscript(bomb)
    torchscript.read_torchscript(source)  # the real archive still reads


def _gmain_with(tmp_path, change):
    """The StyleGAN2 fixture pickle with its networks changed by change(G, D, Gs), written anew -> path."""
    path = shared_path('fixtures', 'stylegan2_official', 'tiny32_skip', 'network.pkl')
    with open(path, 'rb') as f:
        nets = read_network_states(f.read())
    change(*nets)
    return write_pickle(str(tmp_path / 'changed.pkl'), tuple(nets))


@pytest.mark.parametrize('kwargs, message', [
    ({'resolution': 4096, 'fmap_base': 1 << 24}, 'static kwargs call for variable'),
    ({'resolution': '1024'}, r"resolution='1024' is not a whole number"),
    ({'dlatent_size': 10 ** 9}, 'static kwargs call for variable'),
])
def test_generator_kwargs_that_contradict_the_stored_variables_are_refused_before_building(tmp_path, kwargs,
                                                                                             message):
    path = _gmain_with(tmp_path, lambda G, D, Gs: Gs.components['synthesis'].static_kwargs.update(kwargs))
    _, _, Gs = loading.load_network_file(path)
    before = peak_rss_mb()
    with pytest.raises(ValueError, match=message):
        Gs.run(np.zeros([1, Gs.input_shape[1]], np.float32), None)
    assert peak_rss_mb() - before < 500


def test_a_latent_size_of_a_billion_is_refused(tmp_path):
    path = _gmain_with(tmp_path, lambda G, D, Gs: Gs.components['mapping'].static_kwargs.update(latent_size=10 ** 9))
    _, _, Gs = loading.load_network_file(path)
    with pytest.raises(ValueError, match='static kwargs call for variable'):
        Gs.components.mapping.run(np.zeros([1, 8], np.float32), None)


def test_a_stylegan2_pickle_whose_wrapper_says_g_style_is_refused(tmp_path):
    """Item 9: the v1 wrapper around StyleGAN2 components would give wrong images silently."""
    def relabel(G, D, Gs):
        Gs.build_func_name = 'G_style'
    path = _gmain_with(tmp_path, relabel)
    with pytest.raises(NetworkPickleError, match="'G_style' with components .*'G_synthesis_stylegan2'.*contradict"):
        loading.load_network_file(path)
    result = subprocess.run([sys.executable, '-m', 'networks.check_pickle', path], capture_output=True, text=True,
                            cwd=REPO, timeout=300)
    assert result.returncode == 1 and 'contradict each other' in result.stdout, result.stdout[-2000:]


def _npy_declaring(shape, payload=b'\0' * 64):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {'descr': '<f4', 'fortran_order': False, 'shape': shape})
    return buffer.getvalue() + payload


def test_feature_files_declaring_huge_arrays_are_refused_by_name(tmp_path):
    npy = tmp_path / 'huge.npy'
    npy.write_bytes(_npy_declaring((1000000, 1000000)))
    npz = tmp_path / 'huge.npz'
    with zipfile.ZipFile(str(npz), 'w') as zf:
        zf.writestr('real_features.npy', _npy_declaring((1000000, 1000000)))
    for path in (npy, npz):
        with pytest.raises(ValueError, match=r'declares an array of shape \[1000000, 1000000\].*stores only'):
            check_array_file(str(path))
    fine = tmp_path / 'fine.npz'
    np.savez_compressed(str(fine), real_features=np.zeros([50, 8], np.float32))
    check_array_file(str(fine))
    other = np.random.RandomState(0).randn(40, 8)
    np.save(str(tmp_path / 'f.npy'), other)
    for flag in ('--real_features', '--port_results'):
        args = ['--real_features', str(npz), '--fake_features', str(tmp_path / 'f.npy')] if flag == '--real_features' \
            else ['--real_features', str(tmp_path / 'f.npy'), '--fake_features', str(tmp_path / 'f.npy'),
                  '--conventions', '--port_results', str(npz)]
        npz_port = tmp_path / 'huge_port.npz'
        if flag == '--port_results':
            with zipfile.ZipFile(str(npz_port), 'w') as zf:
                zf.writestr('precision_pred.npy', _npy_declaring((1000000, 1000000)))
            args[-1] = str(npz_port)
        result = subprocess.run([sys.executable, os.path.join(REPO, 'run_metric.py')] + args +
                                ['--save_path', str(tmp_path / 'out')], capture_output=True, text=True, timeout=300)
        assert result.returncode == 2 and 'declares an array of shape [1000000, 1000000]' in result.stderr, \
            result.stderr[-2000:]
        assert 'Traceback' not in result.stderr


def test_a_compressed_npz_that_inflates_a_thousandfold_is_refused(tmp_path):
    bomb = tmp_path / 'bomb.npz'
    np.savez_compressed(str(bomb), real_features=np.zeros([20000, 4096], np.float32))  # 328 MB of zeros, ~300 kB
    assert os.path.getsize(str(bomb)) < 2e6
    with pytest.raises(ValueError, match='inflates from .* refusing to read it'):
        check_array_file(str(bomb))
    ordinary = tmp_path / 'ordinary.npz'
    np.savez_compressed(str(ordinary), real_features=np.random.RandomState(0).randn(5000, 4096).astype(np.float32))
    check_array_file(str(ordinary))  # real-valued features compress ~1.1-fold: accepted
