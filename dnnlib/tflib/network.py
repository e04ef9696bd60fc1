"""`Network`: official dnnlib network pickles loaded safely into TF2.

An official pickle (StyleGAN's `(G, D, Gs)`, the metrics' `vgg16.pkl`) stores,
per network, its name, `static_kwargs`, sub-network `components`, the full
source text of the module that built it (`build_module_src`), the build
function's name and the variable values. The official `__setstate__` `exec`s
that source. Here it is never executed:

* `load_network_pkl` unpickles with an allow-list: only `Network` states, numpy
  arrays/scalars/dtypes (old `numpy.core` and new `numpy._core` paths), EasyDict
  and OrderedDict may appear; any other global is refused, naming it.
* The network is rebuilt from `build_func_name` + `static_kwargs` by our own TF2
  code (`networks.registry`), and the stored values are assigned by variable
  name with shape checks; unknown build functions and missing or extra
  variables are errors.
"""
import collections
import hashlib
import io
import os
import pickle
import warnings

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from dnnlib.tflib.tfutil import compute_devices, device_part, disable_tf32
from dnnlib.util import EasyDict

disable_tf32()

SUPPORTED_VERSIONS = (2, 3, 4, 5)


class NetworkPickleError(ValueError):
    """The file is not a network pickle this project can load (corrupt, malicious or unsupported)."""


class Network:
    """A network of an official pickle, rebuilt in TF2 on first use.

    Attributes mirror the official class: name, scope, static_kwargs, components,
    build_func_name, build_module_src, version, input_names/input_shapes/
    input_shape, output_names/output_shapes/output_shape, own_vars, vars.
    `run(...)` evaluates it on numpy arrays like the official `Network.run`.
    """

    def __setstate__(self, state):
        if not isinstance(state, dict):
            raise NetworkPickleError('Network state is a %s, expected a dict' % type(state).__name__)
        missing = {'version', 'name', 'static_kwargs', 'components', 'build_func_name', 'variables'} - set(state)
        if missing:
            raise NetworkPickleError('Network state lacks %s' % sorted(missing))
        if state['version'] not in SUPPORTED_VERSIONS:
            raise NetworkPickleError('Network pickle version %r is not supported (supported: %s)'
                                     % (state['version'], SUPPORTED_VERSIONS))
        from networks import registry  # networks import dnnlib; import here to avoid a cycle
        if not isinstance(state['build_func_name'], str) or not registry.is_known(state['build_func_name']):
            raise NetworkPickleError('network %r: unknown build function %r; this project rebuilds only %s'
                                     % (state['name'], state['build_func_name'], registry.known_names()))
        variables = state['variables']
        if not isinstance(variables, (list, tuple)) or not all(
                isinstance(v, (list, tuple)) and len(v) == 2 and isinstance(v[0], str) for v in variables):
            raise NetworkPickleError('network %r: variables must be a list of (name, value) pairs' % state['name'])
        for key, comp in state['components'].items():
            if not isinstance(comp, Network):
                raise NetworkPickleError('network %r: component %r is a %s, not a Network'
                                         % (state['name'], key, type(comp).__name__))
        self.version = state['version']
        self.name = str(state['name'])
        self.scope = self.name
        self.static_kwargs = EasyDict(state['static_kwargs'])
        self.components = EasyDict(state['components'])
        self.build_module_src = state.get('build_module_src', '')
        self.build_func_name = state['build_func_name']
        self._stored = collections.OrderedDict((name, np.asarray(value)) for name, value in variables)
        self._module = None
        self._run_cache = {}

    def __getstate__(self):
        return {'version': self.version, 'name': self.name, 'static_kwargs': dict(self.static_kwargs),
                'components': dict(self.components), 'build_module_src': self.build_module_src,
                'build_func_name': self.build_func_name,
                'variables': [(name, self.get_var(name)) for name in self._stored]}

    def __repr__(self):
        return 'Network(name=%r, build_func_name=%r)' % (self.name, self.build_func_name)

    # ---- building -----------------------------------------------------------------------------------------

    @property
    def module(self):
        """The TF2 tf.Module (built and loaded on first access)."""
        if self._module is None:
            self._module = self._build()
        return self._module

    def _build(self):
        from networks import registry
        module = registry.build(self.name, self.build_func_name, self.static_kwargs, self.components)
        expected = module.named_vars
        missing = [n for n in expected if n not in self._stored]
        extra = [n for n in self._stored if n not in expected]
        if missing or extra:
            raise NetworkPickleError(
                'network %r (%s): stored variables do not match the rebuilt network: %d missing %s, %d unexpected %s'
                % (self.name, self.build_func_name, len(missing), missing[:8], len(extra), extra[:8]))
        for name, var in expected.items():
            value = self._stored[name]
            if tuple(value.shape) != tuple(var.shape.as_list()):
                raise NetworkPickleError('network %r: variable %s has shape %s in the pickle, expected %s'
                                         % (self.name, name, list(value.shape), var.shape.as_list()))
            if not np.all(np.isfinite(value)):
                raise NetworkPickleError('network %r: variable %s contains NaN or inf' % (self.name, name))
            var.assign(value.astype(np.float32))
        registry.check_loaded(self, module)
        return module

    # ---- official attributes ------------------------------------------------------------------------------

    @property
    def input_names(self):
        return list(self.module.input_names)

    @property
    def input_shapes(self):
        return [list(s) for s in self.module.input_shapes]

    @property
    def output_names(self):
        return list(self.module.output_names)

    @property
    def output_shapes(self):
        return [list(s) for s in self.module.output_shapes]

    @property
    def input_shape(self):
        return self.input_shapes[0]

    @property
    def output_shape(self):
        return self.output_shapes[0]

    @property
    def num_inputs(self):
        return len(self.input_names)

    @property
    def own_vars(self):
        """OrderedDict local name -> tf.Variable of this network's own variables."""
        return collections.OrderedDict(self.module.named_vars)

    @property
    def vars(self):
        """Own variables plus component variables as '<component name>/<local name>' (official naming)."""
        out = self.own_vars
        for comp in self.components.values():
            for name, var in comp.vars.items():
                out[comp.name + '/' + name] = var
        return out

    def find_var(self, name):
        return self.vars[name]

    def get_var(self, name):
        """Value of a variable as numpy (stored value if the network has not been built)."""
        if self._module is None and name in self._stored:
            return self._stored[name]
        return self.find_var(name).numpy()

    def fingerprint(self):
        """sha256 hex of what defines the network: build function, static kwargs, variable values, components."""
        digest = hashlib.sha256()
        digest.update(repr((self.build_func_name, sorted(self.static_kwargs.items()))).encode())
        for name, value in self._stored.items():
            digest.update(('%s:%s:%s;' % (name, value.dtype, list(value.shape))).encode())
            digest.update(np.ascontiguousarray(value).tobytes())
        for key, comp in self.components.items():
            digest.update(('%s=%s;' % (key, comp.fingerprint())).encode())
        return digest.hexdigest()

    def stored_variables(self):
        """[(local name, shape)] of the own variables as stored in the pickle, in pickle order."""
        return [(name, list(value.shape)) for name, value in self._stored.items()]

    # ---- evaluation -----------------------------------------------------------------------------------------

    def get_output_for(self, *inputs, **dynamic_kwargs):
        """Eager call of the network on tensors (no transforms, no batching)."""
        return self.module(*inputs, **dynamic_kwargs)

    def run(self, *in_arrays, input_transform=None, output_transform=None, return_as_list=False,
            print_progress=False, minibatch_size=None, num_gpus=1, assume_frozen=False, **dynamic_kwargs):
        """Evaluate on numpy arrays, in minibatches, like the official `Network.run`.

        Args:
            in_arrays: one array per input, batch first; None = zeros (e.g. empty labels).
                Values are fed as float32, like the official float32 placeholders.
            input_transform / output_transform: dict(func=callable, **kwargs) applied to the
                input / output tensors, e.g. dict(func=convert_images_to_uint8, nchw_to_nhwc=True).
            minibatch_size: rows per evaluation (default: all).
            num_gpus: each minibatch is split over this many devices (see compute_devices).
            dynamic_kwargs: passed to the network (truncation_psi, randomize_noise, ...).
        Returns:
            numpy array, or a list of arrays when the network has several outputs or return_as_list.
        """
        del assume_frozen  # variables never change here
        if len(in_arrays) != self.num_inputs:
            raise ValueError('%s takes %d inputs %s, got %d' % (self.name, self.num_inputs, self.input_names,
                                                                len(in_arrays)))
        sizes = [len(a) for a in in_arrays if a is not None]
        if not sizes:
            raise ValueError('%s.run: at least one input must be an array' % self.name)
        num = sizes[0]
        if any(s != num for s in sizes):
            raise ValueError('%s.run: inputs have different batch sizes %s' % (self.name, sizes))
        arrays = []
        for array, shape in zip(in_arrays, self.input_shapes):
            if array is None:
                array = np.zeros([num] + [d or 0 for d in shape[1:]], np.float32)
            array = np.asarray(array, dtype=np.float32)
            expected = [d for d in shape[1:]]
            if any(e is not None and e != a for e, a in zip(expected, array.shape[1:])) or \
                    (len(array.shape) - 1 != len(expected)):
                raise ValueError('%s.run: input of shape %s, expected [N] + %s'
                                 % (self.name, list(array.shape), expected))
            arrays.append(array)
        fn = self._run_function(input_transform, output_transform, num_gpus, dynamic_kwargs)
        minibatch_size = num if minibatch_size is None else int(minibatch_size)
        results = []
        for begin in tqdm(range(0, num, max(minibatch_size, 1)), desc=self.name, disable=not print_progress,
                          leave=False):
            chunk = [a[begin:begin + minibatch_size] for a in arrays]
            results.append([o.numpy() for o in fn(*chunk)])
        outputs = [np.concatenate([r[i] for r in results], axis=0) for i in range(len(results[0]))]
        return outputs if (return_as_list or len(outputs) > 1) else outputs[0]

    def _run_function(self, input_transform, output_transform, num_gpus, dynamic_kwargs):
        key = repr((sorted((input_transform or {}).items(), key=str), sorted((output_transform or {}).items(), key=str),
                    int(num_gpus), sorted(dynamic_kwargs.items())))
        if key in self._run_cache:
            return self._run_cache[key]
        module = self.module
        devices = compute_devices(num_gpus)

        def apply(transform, tensors):
            if not transform:
                return tensors
            kwargs = dict(transform)
            func = kwargs.pop('func')
            out = func(*tensors, **kwargs)
            return list(out) if isinstance(out, (list, tuple)) else [out]

        def evaluate(*inputs):
            num = tf.shape(inputs[0])[0]
            per_device = []
            for i, device in enumerate(devices):
                with tf.device(device):
                    if len(devices) == 1:
                        part = list(inputs)
                    else:
                        begin, end = device_part(num, i, len(devices))
                        part = [x[begin:end] for x in inputs]
                    out = module(*apply(input_transform, part), **dynamic_kwargs)
                    out = list(out) if isinstance(out, (list, tuple)) else [out]
                    per_device.append(apply(output_transform, out))
            if len(per_device) == 1:
                return per_device[0]
            with tf.device(devices[0]):
                return [tf.concat([outs[i] for outs in per_device], axis=0) for i in range(len(per_device[0]))]

        fn = tf.function(evaluate, reduce_retracing=True)
        self._run_cache[key] = fn
        return fn


def _numpy_multiarray():
    core = getattr(np, '_core', None)
    return core.multiarray if core is not None and hasattr(core, 'multiarray') else np.core.multiarray


class _AllowListUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the globals a network pickle legitimately contains."""

    def find_class(self, module, name):
        allowed = _allowed_globals()
        if (module, name) in allowed:
            return allowed[(module, name)]
        raise NetworkPickleError(
            'the pickle refers to %s.%s, which a network pickle never contains; refusing to load it '
            '(the file is corrupt, not a network pickle, or unsafe)' % (module, name))


def _allowed_globals():
    multiarray = _numpy_multiarray()
    allowed = {
        ('dnnlib.tflib.network', 'Network'): Network,
        ('dnnlib', 'EasyDict'): EasyDict,
        ('dnnlib.util', 'EasyDict'): EasyDict,
        ('collections', 'OrderedDict'): collections.OrderedDict,
        ('numpy', 'ndarray'): np.ndarray,
        ('numpy', 'dtype'): np.dtype,
    }
    for prefix in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        allowed[(prefix, '_reconstruct')] = multiarray._reconstruct
        allowed[(prefix, 'scalar')] = multiarray.scalar
    return allowed


def load_network_pkl(file_or_path):
    """Load an official network pickle safely -> a Network or a tuple of Networks (e.g. (G, D, Gs)).

    Raises NetworkPickleError for corrupt files, unexpected globals, unknown build
    functions and malformed states.
    """
    if isinstance(file_or_path, (str, os.PathLike)):
        if not os.path.isfile(file_or_path):
            raise FileNotFoundError('no such network pickle: %s' % file_or_path)
        with open(file_or_path, 'rb') as f:
            return load_network_pkl(f)
    data = file_or_path.read()
    try:
        obj = _AllowListUnpickler(io.BytesIO(data), encoding='latin1').load()
    except NetworkPickleError:
        raise
    except Exception as e:  # truncated / garbage bytes surface as many exception types
        raise NetworkPickleError('not a readable network pickle (%s: %s)' % (type(e).__name__, e)) from e
    items = obj if isinstance(obj, (tuple, list)) else (obj,)
    if not items or not all(isinstance(item, Network) for item in items):
        raise NetworkPickleError('the pickle holds %s, not networks' % type(obj).__name__)
    for net in items:
        _check_build_source(net)
    return obj


# sha256 of build_module_src texts whose build functions our rebuild follows.
VERIFIED_SOURCES = {
    '59128b51ac64d5565b79017275f51532e7797bf1a1b701f5c1316bf8c6a4c959':
        'NVlabs/stylegan training/networks_stylegan.py (1e0d5c7)',
}
PLACEHOLDER_SOURCES = ('# network source omitted from this fixture',)


def build_source_sha256(net):
    return hashlib.sha256(net.build_module_src.encode('utf-8')).hexdigest()


def _check_build_source(net):
    """Warn when the stored source is one we have not verified the rebuild against."""
    from networks import registry
    for comp in net.components.values():
        _check_build_source(comp)
    src = net.build_module_src or ''
    if src in PLACEHOLDER_SOURCES or build_source_sha256(net) in VERIFIED_SOURCES:
        return
    problems = registry.source_problems(net.build_func_name, src)
    if problems:
        warnings.warn('network %r: its stored build source differs from what this rebuild assumes: %s'
                      % (net.name, '; '.join(problems)))
