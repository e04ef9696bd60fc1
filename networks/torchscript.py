"""Read the parameters of a TorchScript archive (`torch.jit.save`, e.g. NVIDIA's `vgg16.pt`) without PyTorch.

A TorchScript `.pt` is a zip holding, under one top folder `<name>/`:

* `data.pkl`: the pickled module object graph. Modules are `__torch__.<Class>` objects whose
  state is a dict of attributes; tensors are `torch._utils._rebuild_tensor_v2(storage, offset,
  size, stride, requires_grad, hooks[, metadata])`, their storages persistent ids
  `('storage', torch.<Dtype>Storage, key, location, numel)`;
* `data/<key>`: the raw little-endian bytes of each storage;
* `constants.pkl` (+ `constants/<key>`), `version`, and the module's TorchScript source in `code/`.

`read_torchscript(path)` unpickles with an allow-list (the globals above, `collections.OrderedDict`
and `__torch__.*` classes as plain attribute holders; anything else is refused, naming it) and
returns a `TorchScriptArchive`: parameters as NumPy arrays by attribute path
(`layers.conv1.weight`, ...) in the order the pickle stores them, and the archive's source code.
Nothing from the archive is executed.
"""
import collections
import io
import pickle
import zipfile

import numpy as np

from dnnlib.util import CorruptFileError

# torch storage class -> little-endian NumPy dtype (bfloat16 has no NumPy type and is refused)
STORAGE_DTYPES = {
    'FloatStorage': '<f4', 'DoubleStorage': '<f8', 'HalfStorage': '<f2',
    'LongStorage': '<i8', 'IntStorage': '<i4', 'ShortStorage': '<i2', 'CharStorage': 'i1',
    'ByteStorage': 'u1', 'BoolStorage': '?',
}


class TorchScriptError(ValueError):
    """The file is not a TorchScript archive this reader accepts (corrupt, truncated or unsafe)."""


class DamagedArchiveError(TorchScriptError, CorruptFileError):
    """The archive is truncated or damaged."""


class ScriptObject:
    """A `__torch__.<Class>` object of the archive: a plain holder of its pickled attributes."""

    torch_class = '?'

    def __setstate__(self, state):
        if not isinstance(state, dict):
            raise TorchScriptError('%s: state is a %s, expected a dict' % (self.torch_class, type(state).__name__))
        self.__dict__.update(state)

    def __repr__(self):
        return '<%s>' % self.torch_class


class _StorageRef:
    def __init__(self, dtype, key, numel, folder):
        self.dtype, self.key, self.numel, self.folder = dtype, key, numel, folder


def _storage_class(name):
    def make(*_args, **_kwargs):
        raise TorchScriptError('torch.%s is only valid as a storage type' % name)
    make.storage_dtype = STORAGE_DTYPES[name]
    make.__name__ = name
    return make


def _script_class(module, name):
    return type(name, (ScriptObject,), {'torch_class': '%s.%s' % (module, name)})


class _Tensor:
    """A tensor before its bytes are read: storage reference, offset, size, stride (all in elements)."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, int(offset), tuple(size), tuple(stride)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None):
    del requires_grad, backward_hooks, metadata
    if not isinstance(storage, _StorageRef):
        raise TorchScriptError('tensor storage is a %s, not a storage reference' % type(storage).__name__)
    return _Tensor(storage, storage_offset, size, stride)


class _ArchiveUnpickler(pickle.Unpickler):
    def __init__(self, data, folder):
        super().__init__(io.BytesIO(data))
        self.folder = folder
        self.classes = {}

    def find_class(self, module, name):
        if (module, name) == ('torch._utils', '_rebuild_tensor_v2'):
            return _rebuild_tensor_v2
        if module == 'torch' and name in STORAGE_DTYPES:
            return _storage_class(name)
        if (module, name) == ('collections', 'OrderedDict'):
            return collections.OrderedDict
        if module == '__torch__' or module.startswith('__torch__.'):
            key = (module, name)
            if key not in self.classes:
                self.classes[key] = _script_class(module, name)
            return self.classes[key]
        raise TorchScriptError('the archive refers to %s.%s, which a TorchScript weight archive never needs; '
                               'refusing to load it (corrupt, not a TorchScript file, or unsafe)' % (module, name))

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == 'storage'):
            raise TorchScriptError('unexpected persistent id %r' % (pid,))
        _, storage_class, key, _location, numel = pid
        dtype = getattr(storage_class, 'storage_dtype', None)
        if dtype is None:
            raise TorchScriptError('unexpected storage type %r' % (storage_class,))
        return _StorageRef(dtype, str(key), int(numel), self.folder)


class TorchScriptArchive:
    """Parameters and source of a TorchScript archive.

    Attributes:
        path: the file read.
        name: the archive's top folder name.
        root: the root ScriptObject (attributes as pickled; tensors replaced by NumPy arrays).
        arrays: OrderedDict attribute path -> np.ndarray (dtype as stored: float32, float16, ...),
            in pickle order, e.g. 'layers.conv1.weight' [out, in, 3, 3].
        classes: OrderedDict attribute path of each module -> its TorchScript class name.
        code: OrderedDict path under code/ (e.g. '__torch__.py') -> source text (the `.py` files only).
    """

    def __init__(self, path, name, root, arrays, classes, code):
        self.path, self.name, self.root, self.arrays, self.classes, self.code = path, name, root, arrays, classes, code

    def forward_source(self):
        """Source text of the root module's class (its `forward`), from code/__torch__.py."""
        module, _, cls = self.classes.get('', '').rpartition('.')
        text = self.code.get(module.replace('.', '/') + '.py', '')
        start = text.find('class %s(' % cls)
        if start < 0:
            return text
        end = text.find('\nclass ', start + 1)
        return text[start:] if end < 0 else text[start:end + 1]


def _top_folder(zf):
    names = zf.namelist()
    roots = sorted({n.split('/', 1)[0] for n in names if n.endswith('/data.pkl') and n.count('/') == 1})
    if len(roots) != 1:
        raise TorchScriptError('not a TorchScript archive: expected exactly one <name>/data.pkl, found %d' % len(roots))
    return roots[0]


def _archive_bytes(zf):
    """Size of the open zip file in bytes (its read position kept)."""
    position = zf.fp.tell()
    size = zf.fp.seek(0, 2)
    zf.fp.seek(position)
    return size


def _read_entry(zf, entry, what):
    """The bytes of one archive entry, refused before reading when it would expand beyond the archive itself
    (TorchScript stores tensors uncompressed, so no entry is larger than its archive; a zip bomb is)."""
    try:
        declared = zf.getinfo(entry).file_size
    except KeyError:
        raise DamagedArchiveError('%s: %s is missing from the archive' % (what, entry)) from None
    limit = _archive_bytes(zf)
    if declared > limit:
        raise TorchScriptError('%s: %s declares %d bytes (%.3g GB) in an archive of %d bytes; refusing to inflate it'
                               % (what, entry, declared, declared / 1e9, limit))
    return zf.read(entry)


def _read_tensor(zf, tensor, label):
    ref = tensor.storage
    entry = '%s/%s' % (ref.folder, ref.key)
    itemsize = np.dtype(ref.dtype).itemsize
    if entry not in zf.NameToInfo:
        raise DamagedArchiveError('%s: storage %s is missing from the archive' % (label, entry))
    if ref.numel < 0 or ref.numel * itemsize > _archive_bytes(zf):
        raise TorchScriptError('%s: storage %s declares %d elements (%.3g GB), more than the archive holds'
                               % (label, entry, ref.numel, ref.numel * itemsize / 1e9))
    raw = _read_entry(zf, entry, label)
    if len(raw) < ref.numel * itemsize:
        raise DamagedArchiveError('%s: storage %s has %d bytes, expected %d'
                                  % (label, entry, len(raw), ref.numel * itemsize))
    storage = np.frombuffer(raw, dtype=ref.dtype, count=ref.numel)
    size, stride = tensor.size, tensor.stride
    if len(size) != len(stride) or any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise TorchScriptError('%s: malformed size %s / stride %s' % (label, size, stride))
    if 0 in size:
        return np.zeros(size, storage.dtype)
    last = tensor.offset + sum((n - 1) * s for n, s in zip(size, stride))
    if tensor.offset < 0 or last >= ref.numel:
        raise TorchScriptError('%s: size %s, stride %s, offset %d reach beyond its storage of %d elements'
                               % (label, size, stride, tensor.offset, ref.numel))
    view = np.lib.stride_tricks.as_strided(storage[tensor.offset:], shape=size,
                                           strides=[s * itemsize for s in stride], writeable=False)
    return np.array(view)  # own, contiguous copy


def _collect(zf, obj, path, arrays, classes, seen):
    """Replace _Tensor attributes by arrays (recursively), recording attribute paths in pickle order."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    classes[path] = obj.torch_class
    for key, value in list(obj.__dict__.items()):
        child = key if not path else path + '.' + key
        if isinstance(value, _Tensor):
            array = _read_tensor(zf, value, child)
            setattr(obj, key, array)
            arrays[child] = array
        elif isinstance(value, ScriptObject):
            _collect(zf, value, child, arrays, classes, seen)


def read_torchscript(path):
    """Open a TorchScript archive -> TorchScriptArchive. Raises TorchScriptError / FileNotFoundError."""
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise DamagedArchiveError('%s is not a readable TorchScript archive (a zip file): %s' % (path, e)) from e
    with zf:
        try:
            name = _top_folder(zf)
            root = _ArchiveUnpickler(_read_entry(zf, name + '/data.pkl', path), name + '/data').load()
            if not isinstance(root, ScriptObject):
                raise TorchScriptError('%s: data.pkl holds a %s, not a scripted module' % (path, type(root).__name__))
            arrays, classes = collections.OrderedDict(), collections.OrderedDict()
            _collect(zf, root, '', arrays, classes, set())
            code = collections.OrderedDict()
            prefix = name + '/code/'
            for entry in sorted(zf.namelist()):
                if entry.startswith(prefix) and entry.endswith('.py'):
                    code[entry[len(prefix):]] = _read_entry(zf, entry, path).decode('utf-8', 'replace')
        except TorchScriptError:
            raise
        except (zipfile.BadZipFile, KeyError, EOFError, OSError, pickle.UnpicklingError, ValueError,
                TypeError, AttributeError, IndexError) as e:
            raise DamagedArchiveError('%s: damaged TorchScript archive (%s: %s)' % (path, type(e).__name__, e)) from e
    return TorchScriptArchive(path, name, root, arrays, classes, code)


def is_torchscript(path):
    """True when `path` is a zip file with a `<name>/data.pkl` entry (cheap check, nothing unpickled)."""
    if not zipfile.is_zipfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as zf:
            _top_folder(zf)
        return True
    except (TorchScriptError, zipfile.BadZipFile, OSError):
        return False
