"""`Network`: a network of an official dnnlib pickle, rebuilt in TF2 and run like the official class.

An official pickle (StyleGAN's `(G, D, Gs)`, the metrics' `vgg16.pkl`) stores,
per network, its name, `static_kwargs`, sub-network `components`, the full
source text of the module that built it (`build_module_src`), the build
function's name and the variable values. The official `__setstate__` `exec`s
that source; here `__setstate__` only stores and validates the state (see
`dnnlib.tflib.safe_pickle`). What evaluates it is attached afterwards by the loader
(`networks.loading`): a `rebuild` object -- a registry row of `networks.registry`
with `kind`, `load(net)` -> tf.Module and `layout(net)` -> lines -- chosen from the
build function name or the structure of the stored variables.
"""
import collections
import hashlib

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from dnnlib.tflib.tfutil import compute_devices, device_part, disable_tf32
from dnnlib.util import EasyDict

disable_tf32()

SUPPORTED_VERSIONS = (2, 3, 4, 5)


class NetworkPickleError(ValueError):
    """The file is not a network pickle this project can load (corrupt, malicious or unsupported)."""


def apply_transform(transform, tensors):
    """Network.run's input/output transform: dict(func=callable, **kwargs) applied to a list of tensors."""
    if not transform:
        return list(tensors)
    kwargs = dict(transform)
    func = kwargs.pop('func')
    out = func(*tensors, **kwargs)
    return list(out) if isinstance(out, (list, tuple)) else [out]


class NetworkInterface:
    """The official Network attributes derived from input_names, input_shapes, output_shapes, own_vars, components."""

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
    def vars(self):
        """Own variables plus component variables as '<component name>/<local name>' (official naming)."""
        out = collections.OrderedDict(self.own_vars)
        for comp in self.components.values():
            out.update((comp.name + '/' + name, var) for name, var in comp.vars.items())
        return out

    def find_var(self, name):
        return self.vars[name]


class Network(NetworkInterface):
    """A network of an official pickle, rebuilt in TF2 on first use.

    Attributes mirror the official class: name, scope, static_kwargs, components,
    build_func_name, build_module_src, version, input_names/input_shapes/
    input_shape, output_names/output_shapes/output_shape, own_vars, vars.
    `run(...)` evaluates it on numpy arrays like the official `Network.run`. `load_path` says how
    it is evaluated (networks.loading: safe rebuild, or TorchScript weights for a vgg16.pt).
    """

    load_path = 'safe rebuild'

    def __setstate__(self, state):
        if not isinstance(state, dict):
            raise NetworkPickleError('Network state is a %s, expected a dict' % type(state).__name__)
        missing = {'version', 'name', 'static_kwargs', 'components', 'build_func_name', 'variables'} - set(state)
        if missing:
            raise NetworkPickleError('Network state lacks %s' % sorted(missing))
        if state['version'] not in SUPPORTED_VERSIONS:
            raise NetworkPickleError('Network pickle version %r is not supported (supported: %s)'
                                     % (state['version'], SUPPORTED_VERSIONS))
        variables = state['variables']
        if not isinstance(variables, (list, tuple)) or not all(
                isinstance(v, (list, tuple)) and len(v) == 2 and isinstance(v[0], str) for v in variables):
            raise NetworkPickleError('network %r: variables must be a list of (name, value) pairs' % state['name'])
        if not isinstance(state['build_func_name'], str):
            raise NetworkPickleError('network %r: build function name is not a string' % state['name'])
        stored = collections.OrderedDict((name, np.asarray(value)) for name, value in variables)
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
        self._stored = stored
        self.rebuild = None  # attached by networks.loading: what rebuilds this network (or says why nothing does)
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

    @property
    def kind(self):
        """'generator', 'feature network', ... as the attached rebuild says; 'unknown' without one."""
        return self.rebuild.kind if self.rebuild is not None else 'unknown'

    def _build(self):
        if self.rebuild is None:
            raise NetworkPickleError('network %r: no TF2 rebuild attached for build function %r (load network files '
                                     'with networks.loading)' % (self.name, self.build_func_name))
        try:
            return self.rebuild.load(self)
        except NotImplementedError:
            raise
        except ValueError as e:
            raise NetworkPickleError(str(e)) from e

    def stored_arrays(self):
        """OrderedDict local name -> np.ndarray of the own variables as stored."""
        return collections.OrderedDict(self._stored)

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
    def own_vars(self):
        """OrderedDict local name -> tf.Variable of this network's own variables."""
        return collections.OrderedDict(self.module.named_vars)

    def get_var(self, name):
        """Value of a variable as numpy: the stored value (variables never change), else the rebuild's by name."""
        if name in self._stored:
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
                    out = module(*apply_transform(input_transform, part), **dynamic_kwargs)
                    out = list(out) if isinstance(out, (list, tuple)) else [out]
                    per_device.append(apply_transform(output_transform, out))
            if len(per_device) == 1:
                return per_device[0]
            with tf.device(devices[0]):
                return [tf.concat([outs[i] for outs in per_device], axis=0) for i in range(len(per_device[0]))]

        # One trace for any batch size and image size: the input dims the network leaves open stay open.
        signature = [tf.TensorSpec([None] + list(shape[1:]), tf.float32) for shape in self.input_shapes]
        fn = tf.function(evaluate, input_signature=signature)
        self._run_cache[key] = fn
        return fn
