"""Restricted unpickling of official dnnlib network pickles: nothing in the file is executed.

`read_network_states` resolves only the globals a network pickle legitimately holds:
`dnnlib.tflib.network.Network` states, numpy arrays/scalars/dtypes (old `numpy.core` and
new `numpy._core` paths, including protocol 5's `_frombuffer`), EasyDict, OrderedDict, and --
for pickles written with protocol 2 -- `_codecs.encode` of latin-1 text (how protocol 2 stores
bytes). Any other global is
refused, naming it. `build_module_src` is kept as text and never run here (the opt-in
`--trust_pickle_code` path, `dnnlib.tflib.trusted_exec`, is chosen by `networks.loading`).
"""
import _codecs
import collections
import hashlib
import io
import pickle

import numpy as np

from dnnlib.array_files import array_bytes
from dnnlib.tflib.network import Network, NetworkPickleError
from dnnlib.util import CorruptFileError, EasyDict


def _numpy_multiarray():
    core = getattr(np, '_core', None)
    return core.multiarray if core is not None and hasattr(core, 'multiarray') else np.core.multiarray


def _latin1_encode(text, encoding='latin1', *args):
    """`_codecs.encode` as protocol-2 pickles use it for bytes: latin-1 text -> bytes, nothing else."""
    if args or not isinstance(text, str) or encoding.replace('-', '').lower() != 'latin1':
        raise NetworkPickleError('the pickle calls _codecs.encode(%r..., %r), which a network pickle never does'
                                 % (type(text).__name__, encoding))
    return _codecs.encode(text, 'latin1')


def _frombuffer(buf, dtype, shape, order):
    """numpy's protocol-5 array reconstructor, checked: a bytes-like buffer, a dtype, a shape, 'C' or 'F'."""
    if not isinstance(buf, (bytes, bytearray, memoryview, pickle.PickleBuffer)) or not isinstance(dtype, np.dtype) \
            or dtype.hasobject or order not in ('C', 'F') or not isinstance(shape, tuple):
        raise NetworkPickleError('the pickle rebuilds an array from unexpected parts; refusing to load it')
    return np.frombuffer(buf, dtype=dtype).reshape(shape, order=order)


def _allowed_globals():
    multiarray = _numpy_multiarray()
    allowed = {
        ('dnnlib.tflib.network', 'Network'): Network,
        ('dnnlib', 'EasyDict'): EasyDict,
        ('dnnlib.util', 'EasyDict'): EasyDict,
        ('collections', 'OrderedDict'): collections.OrderedDict,
        ('numpy', 'ndarray'): np.ndarray,
        ('numpy', 'dtype'): np.dtype,
        ('_codecs', 'encode'): _latin1_encode,
    }
    for prefix in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        allowed[(prefix, '_reconstruct')] = multiarray._reconstruct
        allowed[(prefix, 'scalar')] = multiarray.scalar
    for prefix in ('numpy.core.numeric', 'numpy._core.numeric'):
        allowed[(prefix, '_frombuffer')] = _frombuffer
    return allowed


def declared_bytes(shape, dtype):
    """Bytes an array of `shape` and `dtype` would take (NetworkPickleError for a shape that is not one)."""
    if not isinstance(shape, (tuple, list)) or not all(isinstance(n, (int, np.integer)) and n >= 0 for n in shape):
        raise NetworkPickleError('the pickle declares an array of shape %r, which is not a shape' % (shape,))
    return array_bytes(shape, dtype)


class _AllowListUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the globals a network pickle legitimately contains.

    Every array is checked before it is allocated: an array's bytes must come from the file, so none may
    declare more bytes than the file holds (`limit`); a 2 MB file can never make a 4 GB array.
    """

    def __init__(self, file, limit, **kwargs):
        super().__init__(file, **kwargs)
        self.limit = limit
        self.ndarray = self._ndarray  # one bound method: the token the pickle passes back to _reconstruct

    def _check_size(self, shape, dtype):
        size = declared_bytes(shape, dtype)
        if size > self.limit:
            raise NetworkPickleError('the pickle declares an array of shape %s (%s, %.3g GB), more than the whole '
                                     'file holds (%d bytes); refusing to load it'
                                     % (list(shape), np.dtype(dtype).name, size / 1e9, self.limit))

    def _ndarray(self, shape, dtype=float, *args, **kwargs):
        """np.ndarray(shape, ...) as a pickle may call it, after the size check."""
        self._check_size(shape if isinstance(shape, (tuple, list)) else (shape,), dtype)
        return np.ndarray(shape, dtype, *args, **kwargs)

    def _reconstruct(self, cls, shape, dtype):
        """numpy's `_reconstruct(ndarray, shape, dtype)` (how arrays are pickled), after the size check."""
        if cls is not self.ndarray:
            raise NetworkPickleError('the pickle reconstructs a %r, not an array; refusing to load it' % (cls,))
        self._check_size(shape if isinstance(shape, (tuple, list)) else (shape,),
                         dtype if not isinstance(dtype, bytes) else dtype.decode('latin1'))
        return _numpy_multiarray()._reconstruct(np.ndarray, shape, dtype)

    def find_class(self, module, name):
        if (module, name) == ('numpy', 'ndarray'):
            return self.ndarray
        if name == '_reconstruct' and module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
            return self._reconstruct
        allowed = _allowed_globals()
        if (module, name) in allowed:
            return allowed[(module, name)]
        raise NetworkPickleError(
            'the pickle refers to %s.%s, which a network pickle never contains; refusing to load it '
            '(the file is corrupt, not a network pickle, or unsafe)' % (module, name))


class CorruptPickleError(NetworkPickleError, CorruptFileError):
    """The bytes are not a complete pickle (truncated or damaged)."""


def read_network_states(data):
    """Unpickle bytes with the allow-list -> a Network or a tuple/list of Networks (nothing rebuilt yet)."""
    try:
        obj = _AllowListUnpickler(io.BytesIO(data), len(data), encoding='latin1').load()
    except NetworkPickleError:
        raise
    except Exception as e:  # truncated / garbage bytes surface as many exception types
        raise CorruptPickleError('not a readable network pickle (%s: %s)' % (type(e).__name__, e)) from e
    items = obj if isinstance(obj, (tuple, list)) else (obj,)
    if not items or not all(isinstance(item, Network) for item in items):
        raise NetworkPickleError('the pickle holds %s, not networks' % type(obj).__name__)
    return obj


def build_source_sha256(net):
    """sha256 hex of the network's stored build source text."""
    return hashlib.sha256((net.build_module_src or '').encode('utf-8')).hexdigest()
