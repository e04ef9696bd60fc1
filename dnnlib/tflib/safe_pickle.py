"""Restricted unpickling of official dnnlib network pickles: nothing in the file is executed.

`load_network_pkl` resolves only the globals a network pickle legitimately holds:
`dnnlib.tflib.network.Network` states, numpy arrays/scalars/dtypes (old `numpy.core` and
new `numpy._core` paths, including protocol 5's `_frombuffer`), EasyDict, OrderedDict, and --
for pickles written with protocol 2 -- `_codecs.encode` of latin-1 text (how protocol 2 stores
bytes). Any other global is
refused, naming it. `build_module_src` is kept as text and never run, unless the caller
opts in with `trust_code=True` (see `dnnlib.tflib.trusted_exec`).
"""
import _codecs
import collections
import hashlib
import io
import os
import pickle
import warnings

import numpy as np

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


class _AllowListUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the globals a network pickle legitimately contains."""

    def find_class(self, module, name):
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
        obj = _AllowListUnpickler(io.BytesIO(data), encoding='latin1').load()
    except NetworkPickleError:
        raise
    except Exception as e:  # truncated / garbage bytes surface as many exception types
        raise CorruptPickleError('not a readable network pickle (%s: %s)' % (type(e).__name__, e)) from e
    items = obj if isinstance(obj, (tuple, list)) else (obj,)
    if not items or not all(isinstance(item, Network) for item in items):
        raise NetworkPickleError('the pickle holds %s, not networks' % type(obj).__name__)
    return obj


def load_network_pkl(file_or_path, trust_code=False):
    """Load an official network pickle -> a Network or a tuple of Networks (e.g. (G, D, Gs)).

    trust_code=False (default): networks are rebuilt by this project's TF2 code; nothing from
    the file runs. trust_code=True: each network's stored `build_module_src` is executed in a
    TF1-compatible graph (`dnnlib.tflib.trusted_exec`), as the official dnnlib does -- only
    for files you trust. Raises NetworkPickleError for corrupt files, unexpected globals,
    unknown build functions (safe path) and malformed states.
    """
    if isinstance(file_or_path, (str, os.PathLike)):
        if not os.path.isfile(file_or_path):
            raise FileNotFoundError('no such network pickle: %s' % file_or_path)
        with open(file_or_path, 'rb') as f:
            return load_network_pkl(f, trust_code)
    obj = read_network_states(file_or_path.read())
    items = obj if isinstance(obj, (tuple, list)) else (obj,)
    if trust_code:
        from dnnlib.tflib import trusted_exec
        trusted_exec.warn_loudly('the network pickle', ', '.join(sorted({net.name for net in items})))
        built = {}
        for net in items:  # the same network may appear several times (vgg16.pkl's (net, net, net))
            if id(net) not in built:
                built[id(net)] = trusted_exec.TrustedNetwork(net)
        trusted = [built[id(net)] for net in items]
        return type(obj)(trusted) if isinstance(obj, (tuple, list)) else trusted[0]
    for net in items:
        _check_rebuildable(net)
        _check_build_source(net)
    return obj


def _check_rebuildable(net):
    for comp in net.components.values():
        _check_rebuildable(comp)
    if net.entry is None:
        from networks import registry
        raise NetworkPickleError('network %r: unknown build function %r; this project rebuilds %s (or run the stored '
                                 'code with --trust_pickle_code). Its variables are not a VGG-16 layout: %s'
                                 % (net.name, net.build_func_name, registry.known_names(),
                                    registry.why_not_vgg(net.stored_arrays())))


# sha256 of build_module_src texts whose build functions our rebuild follows (checked by running both).
VERIFIED_SOURCES = {
    '59128b51ac64d5565b79017275f51532e7797bf1a1b701f5c1316bf8c6a4c959':
        'NVlabs/stylegan training/networks_stylegan.py (1e0d5c7)',
}
PLACEHOLDER_SOURCES = ('# network source omitted from this fixture',)


def build_source_sha256(net):
    return hashlib.sha256((net.build_module_src or '').encode('utf-8')).hexdigest()


def _own_source_known(net):
    """The network's own stored source (not its components') is verified or a fixture placeholder."""
    return (net.build_module_src or '') in PLACEHOLDER_SOURCES or build_source_sha256(net) in VERIFIED_SOURCES


def is_verified_source(net):
    """True when the network's stored source (and its components') is in VERIFIED_SOURCES or a placeholder."""
    return _own_source_known(net) and all(is_verified_source(comp) for comp in net.components.values())


def source_problems(net):
    """Assumptions of the rebuild that the stored network `net` (not its components) contradicts."""
    return [] if net.entry is None else list(net.entry.source_problems(net))


def _check_build_source(net):
    """Warn when the stored source contradicts what the rebuild assumes."""
    for comp in net.components.values():
        _check_build_source(comp)
    if _own_source_known(net):
        return
    problems = source_problems(net)
    if problems:
        warnings.warn('network %r: its stored build source differs from what this rebuild assumes: %s'
                      % (net.name, '; '.join(problems)))
