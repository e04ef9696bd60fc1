"""TorchScript archives read without PyTorch: NVIDIA's vgg16.pt layout (shared fixture) and hand-made archives."""
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from conftest import REPO, shared_path
from networks import torchscript
from networks import check_pickle, loading, vgg16
from torchscript_factory import Storage, TensorView, contiguous, write_archive

SIZES = ['224', '256', '1024', '96x160']


def fixture(name):
    return shared_path('fixtures', 'vgg16_torchscript', name)


def test_fixture_archive_reads_every_parameter_by_attribute_path():
    archive = torchscript.read_torchscript(fixture('vgg16_tiny.pt'))
    meta = json.load(open(fixture('meta.json')))
    assert {k: list(v.shape) for k, v in archive.arrays.items()} == meta['state_dict_shapes']
    assert archive.classes[''] == '__torch__.VGG16' and archive.classes['layers.fc2'] == '__torch__.FC'
    assert archive.root.layers.fc2.relu is True and archive.root.layers.fc3.relu is False
    np.testing.assert_allclose(archive.arrays['mean'].ravel(), 255 * vgg16.IMAGENET_MEAN, rtol=1e-6)
    assert 'def forward(self: __torch__.VGG16' in archive.forward_source()
    assert 'class Layers' not in archive.forward_source()


def test_tf2_vgg_with_the_archive_weights_reproduces_the_archive_features():
    net = loading.load_network_file(fixture('vgg16_tiny.pt'))
    assert net.load_path == loading.TORCHSCRIPT and net.kind == 'feature network'
    golden = np.load(fixture('golden.npz'))
    for size in SIZES:
        ours = net.run(golden['images_' + size], minibatch_size=2)
        expected = golden['features_' + size]
        rel = np.abs(ours - expected).max() / np.abs(expected).max()
        assert rel < 1e-5, (size, rel)


def test_reading_the_archive_never_imports_torch():
    code = ('import sys; sys.path.insert(0, %r)\n'
            'from networks import torchscript\n'
            'a = torchscript.read_torchscript(%r)\n'
            'assert len(a.arrays) == 39\n'
            'assert not any(m == "torch" or m.startswith("torch.") for m in sys.modules), "torch was imported"\n'
            % (REPO, fixture('vgg16_tiny.pt')))
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_strides_offsets_and_float16_storages(tmp_path):
    base = np.arange(24, dtype=np.float32)
    shared = Storage('0', base)
    half = np.linspace(-2, 2, 12).astype(np.float16)
    tree = {'__class__': 'M',
            'transposed': TensorView(shared, 0, (4, 3), (1, 4)),  # a transposed [3, 4] view
            'offset_view': TensorView(shared, 5, (2, 3), (6, 2)),  # rows 6 apart, every second element, from 5
            'scalar': TensorView(shared, 7, (), ()),
            'half': contiguous('1', half.reshape(3, 4)),
            'child': {'__class__': 'Child', 'flag': True, 'w': contiguous('2', np.eye(2, dtype=np.float64))}}
    path = write_archive(str(tmp_path / 'm.pt'), tree)
    archive = torchscript.read_torchscript(path)
    np.testing.assert_array_equal(archive.arrays['transposed'], base[:12].reshape(3, 4).T)
    np.testing.assert_array_equal(archive.arrays['offset_view'], [[5, 7, 9], [11, 13, 15]])
    assert archive.arrays['scalar'].shape == () and float(archive.arrays['scalar']) == 7
    assert archive.arrays['half'].dtype == np.float16
    np.testing.assert_array_equal(archive.arrays['half'], half.reshape(3, 4))
    np.testing.assert_array_equal(archive.arrays['child.w'], np.eye(2))
    assert list(archive.arrays) == ['transposed', 'offset_view', 'scalar', 'half', 'child.w']
    assert archive.root.child.flag is True


def test_a_view_beyond_its_storage_is_refused(tmp_path):
    tree = {'__class__': 'M', 'bad': TensorView(Storage('0', np.zeros(6, np.float32)), 2, (2, 3), (3, 1))}
    with pytest.raises(torchscript.TorchScriptError, match='reach beyond its storage'):
        torchscript.read_torchscript(write_archive(str(tmp_path / 'm.pt'), tree))


class Exploit:
    def __reduce__(self):
        return (os.system, ('echo pwned',))


def test_an_archive_naming_another_global_is_refused(tmp_path):
    import pickle
    path = write_archive(str(tmp_path / 'evil.pt'), {'__class__': 'M'},
                         extra_pickle=pickle.dumps(Exploit(), protocol=2))
    with pytest.raises(torchscript.TorchScriptError, match=r'(posix|os)\.system'):
        torchscript.read_torchscript(path)


@pytest.mark.parametrize('keep', [0.3, 0.9])
def test_a_truncated_archive_is_a_clear_error(tmp_path, keep):
    data = open(fixture('vgg16_tiny.pt'), 'rb').read()
    path = tmp_path / 'cut.pt'
    path.write_bytes(data[:int(len(data) * keep)])
    with pytest.raises(torchscript.TorchScriptError, match='not a readable TorchScript archive|damaged'):
        loading.load_network_file(str(path))


def test_missing_storage_is_named(tmp_path):
    src = zipfile.ZipFile(fixture('vgg16_tiny.pt'))
    path = str(tmp_path / 'missing.pt')
    with zipfile.ZipFile(path, 'w') as dst:
        for item in src.infolist():
            if item.filename != 'vgg16_tiny/data/33':
                dst.writestr(item, src.read(item.filename))
    with pytest.raises(torchscript.DamagedArchiveError, match='layers.fc1.weight.*data/33'):
        torchscript.read_torchscript(path)


def test_check_tool_prints_forward_source_layout_and_flags(tmp_path, capsys):
    assert check_pickle.main([fixture('vgg16_tiny.pt')]) == 0
    out = capsys.readouterr().out
    assert 'x1 = __torch__.resize_tf1_bilinear(x, 224, )' in out  # the archive's own forward source
    assert 'layers.fc1.weight [256, 1568] -> fc1/weight [out,in]' in out
    assert 'nothing in the archive contradicts the rebuild' in out
    # An archive whose code resizes with area interpolation and whose fc2 has no ReLU is flagged.
    arrays = torchscript.read_torchscript(fixture('vgg16_tiny.pt'))
    tree = {'__class__': 'VGG16', 'mean': contiguous('m', arrays.arrays['mean'] / 255.0 + 1),
            'std': contiguous('s', arrays.arrays['std'])}
    layers = {'__class__': 'Layers'}
    for key, value in arrays.arrays.items():
        if key.startswith('layers.'):
            _, module, leaf = key.split('.')
            layers.setdefault(module, {'__class__': 'FC' if module.startswith('fc') else 'Conv',
                                       'relu': module != 'fc2'})[leaf] = contiguous(key, value)
    tree['layers'] = layers
    code = {'__torch__.py': "class VGG16(Module):\n  def forward(self, img):\n"
                            "    x = torch.upsample(img, [224, 224], mode='area')\n    return self.layers.fc2(x)\n"}
    path = write_archive(str(tmp_path / 'odd.pt'), tree, code=code)
    assert check_pickle.main([path]) == 1
    out = capsys.readouterr().out
    for flag in ('area (box) resize', 'stored mean', 'layers.fc2 has relu=False'):
        assert flag in out
