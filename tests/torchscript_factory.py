"""Writes small TorchScript-format archives without PyTorch, for reader tests (strides, offsets, float16, refusals).

The pickle is made by the standard pickler from stand-in classes registered for the duration
of the write under the module names a real archive refers to (`torch`, `torch._utils`,
`__torch__`); storages are written as persistent ids ('storage', <class>, key, 'cpu', numel)
and raw little-endian bytes under `<name>/data/<key>`, as `torch.jit.save` does.
"""
import collections
import io
import pickle
import sys
import types
import zipfile

import numpy as np

STORAGE_NAMES = {np.dtype('float32'): 'FloatStorage', np.dtype('float16'): 'HalfStorage',
                 np.dtype('float64'): 'DoubleStorage', np.dtype('int64'): 'LongStorage'}


class Storage:
    def __init__(self, key, flat):
        self.key, self.flat = key, np.ascontiguousarray(flat)


class TensorView:
    """A tensor as a (storage, offset, size, stride) view, pickled the way torch pickles tensors."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def __reduce__(self):
        rebuild = sys.modules['torch._utils']._rebuild_tensor_v2
        return rebuild, (self.storage, self.offset, self.size, self.stride, False, collections.OrderedDict())


def _fake_modules(class_names):
    torch = types.ModuleType('torch')
    utils = types.ModuleType('torch._utils')

    def _rebuild_tensor_v2(*args):
        raise AssertionError('never called while writing')
    _rebuild_tensor_v2.__module__ = 'torch._utils'
    _rebuild_tensor_v2.__qualname__ = '_rebuild_tensor_v2'
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    torch._utils = utils
    for name in STORAGE_NAMES.values():
        setattr(torch, name, type(name, (), {'__module__': 'torch'}))
    scripted = types.ModuleType('__torch__')
    for name in class_names:
        setattr(scripted, name, type(name, (), {'__module__': '__torch__'}))
    return {'torch': torch, 'torch._utils': utils, '__torch__': scripted}


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            storage_class = getattr(sys.modules['torch'], STORAGE_NAMES[obj.flat.dtype])
            return ('storage', storage_class, obj.key, 'cpu', obj.flat.size)
        return None


def write_archive(path, tree, name='archive', code=None, extra_pickle=None):
    """Write a TorchScript-format zip.

    tree: nested dict describing the root module: {'__class__': 'VGG16', attr: value, ...}, where a value is a
        nested dict (a submodule), a TensorView, or a plain value (bool, int, ...).
    code: dict path under code/ -> text (default: a minimal __torch__.py naming the root class).
    extra_pickle: bytes to use as data.pkl instead (e.g. a malicious pickle).
    """
    classes, storages = set(), {}

    def collect(node):
        classes.add(node['__class__'])
        for value in node.values():
            if isinstance(value, dict):
                collect(value)
            elif isinstance(value, TensorView):
                storages[value.storage.key] = value.storage
    collect(tree)
    saved = {k: sys.modules.get(k) for k in ('torch', 'torch._utils', '__torch__')}
    modules = _fake_modules(classes)
    sys.modules.update(modules)
    try:
        def build(node):
            obj = getattr(modules['__torch__'], node['__class__'])()
            obj.__dict__.update({k: build(v) if isinstance(v, dict) else v for k, v in node.items()
                                 if k != '__class__'})
            return obj
        buffer = io.BytesIO()
        _Pickler(buffer, protocol=2).dump(build(tree))
        data = buffer.getvalue()
    finally:
        for key, module in saved.items():
            if module is None:
                sys.modules.pop(key, None)
            else:
                sys.modules[key] = module
    code = code or {'__torch__.py': 'class %s(Module):\n  def forward(self, x):\n    return x\n' % tree['__class__']}
    with zipfile.ZipFile(path, 'w') as zf:
        zf.writestr(name + '/data.pkl', extra_pickle if extra_pickle is not None else data)
        for key, storage in storages.items():
            zf.writestr('%s/data/%s' % (name, key), storage.flat.astype(storage.flat.dtype.newbyteorder('<')).tobytes())
        zf.writestr(name + '/constants.pkl', pickle.dumps((), protocol=2))
        zf.writestr(name + '/version', '4\n')
        for file_name, text in code.items():
            zf.writestr('%s/code/%s' % (name, file_name), text)
    return path


def contiguous(key, array):
    """A TensorView of a whole array in its own storage."""
    array = np.asarray(array)
    strides = [s // array.itemsize for s in np.ascontiguousarray(array).strides]
    return TensorView(Storage(key, array.ravel()), 0, array.shape, strides)
