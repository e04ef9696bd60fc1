"""`Network`: a network of an official dnnlib pickle, rebuilt in TF2 and run like the official class.

An official pickle (StyleGAN's `(G, D, Gs)`, the metrics' `vgg16.pkl`) stores,
per network, its name, `static_kwargs`, sub-network `components`, the full
source text of the module that built it (`build_module_src`), the build
function's name and the variable values. The official `__setstate__` `exec`s
that source; here `__setstate__` only stores and validates the state (see
`dnnlib.tflib.safe_pickle`). What evaluates it is a `rebuild` object -- a registry row
of `networks.registry` with `kind`, `load(net)` -> tf.Module and `layout(net)` -> lines --
chosen from the build function name or the structure of the stored variables and
attached by the loader (`networks.loading`), or, for a network read by a plain
`pickle.load` as NVIDIA's scripts read them, on its first use by the rebuild provider
named below (nothing of the file is executed either way).

Layering: dnnlib sits below `networks` and never imports it. The provider is named, not
imported -- a plug-in seam like an entry point, resolved on first use; `set_rebuild_provider`
names another (or passes a function).
"""
import collections
import hashlib
import importlib

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from dnnlib.tflib.tf1_api import VarHandle
from dnnlib.tflib.tfutil import compute_devices, device_part, disable_tf32
from dnnlib.util import EasyDict

disable_tf32()

SUPPORTED_VERSIONS = (2, 3, 4, 5)
# 'module:function' that attaches rebuilds to a network and its components (the registry rows; networks.loading).
_provider = {'name': 'networks.loading:attach_rebuilds', 'function': None}


def set_rebuild_provider(provider):
    """Name ('module:function') or pass the function(net) that attaches `rebuild` rows to a network read by a plain
    pickle.load and to its components."""
    _provider.update(name=provider if isinstance(provider, str) else None,
                     function=None if isinstance(provider, str) else provider)


def _rebuild_provider():
    if _provider['function'] is None:
        module, function = _provider['name'].split(':')
        _provider['function'] = getattr(importlib.import_module(module), function)
    return _provider['function']


class NetworkPickleError(ValueError):
    """The file is not a network pickle this project can load (corrupt, malicious or unsupported)."""


def _scope_layers(handles):
    """[(layer, output, trainables)] of own variables: a variable belongs to the shortest scope (path minus its last
    part) that directly holds a variable; one without a scope is a layer of its own, its output itself."""
    scopes = {name.rsplit('/', 1)[0] for name in handles if '/' in name}
    layers = collections.OrderedDict()
    for name, var in handles.items():
        if '/' not in name:
            layers[name] = (var, [var])
            continue
        parts = name.split('/')[:-1]
        layer = next('/'.join(parts[:i]) for i in range(1, len(parts) + 1) if '/'.join(parts[:i]) in scopes)
        layers.setdefault(layer, (tf.TensorSpec(None), []))[1].append(var)
    return [(name, out, [v for v in variables if v.trainable]) for name, (out, variables) in layers.items()]


def _shape_text(shape):
    """A shape as TF1 printed it: (?, 512, 4, 4); '?' when even the rank is unknown."""
    shape = tf.TensorShape(shape)
    if shape.rank is None:
        return '?'
    dims = ['?' if d is None else str(d) for d in shape.as_list()]
    return '(%s)' % (dims[0] + ',' if len(dims) == 1 else ', '.join(dims))


def _copy_rebuilds(source, copy):
    """Give a clone the rebuild rows of the network it was cloned from (and its components theirs)."""
    copy.rebuild = source.rebuild
    for key, comp in source.components.items():
        _copy_rebuilds(comp, copy.components[key])


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

    @property
    def trainables(self):
        """The trainable ones of `vars`, in the same order."""
        return collections.OrderedDict((name, var) for name, var in self.vars.items() if var.trainable)

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
        self.rebuild = None  # attached by networks.loading or on first use: what rebuilds it (or says why nothing)
        self._module = None
        self._run_cache = {}
        self._handles = None
        self._parent = None  # the network whose component this is (set by the parent's __setstate__)
        for comp in self.components.values():
            comp._parent = self

    def __getstate__(self):
        """The official state, with the variables' current values (after set_vars / set_var)."""
        return {'version': self.version, 'name': self.name, 'static_kwargs': dict(self.static_kwargs),
                'components': dict(self.components), 'build_module_src': self.build_module_src,
                'build_func_name': self.build_func_name,
                'variables': [(name, self.get_var(name)) for name in self._stored]}

    def clone(self, name=None, **new_static_kwargs):
        """A copy with variables of its own (components cloned too), holding the current values: setting the
        copy's variables leaves this network's alone (NVIDIA's Network.clone)."""
        state = self.__getstate__()
        state.update(name=name or self.name, components={key: comp.clone() for key, comp in self.components.items()},
                     static_kwargs=dict(self.static_kwargs, **new_static_kwargs))
        net = Network.__new__(Network)
        net.__setstate__(state)
        _copy_rebuilds(self, net)
        return net

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
        if self.rebuild is None:  # read by a plain pickle.load: the provider attaches rows from the top network
            root = self
            while root._parent is not None:
                root = root._parent
            _rebuild_provider()(root)
        try:
            return self.rebuild.load(self)
        except NotImplementedError:
            raise
        except ValueError as e:
            hint = '' if getattr(self.rebuild, 'matched', True) else (
                '\nTo run the code stored in the file instead (only for a file you trust): '
                'networks.loading.load_network_file(path, trust_code=True), or run_metric.py --trust_pickle_code.')
            raise NetworkPickleError(str(e) + hint) from e

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
        """OrderedDict local name -> VarHandle of this network's own variables (one handle per variable)."""
        if self._handles is None:
            module = self.module
            self._handles = collections.OrderedDict(
                (name, VarHandle(var, '%s/%s:0' % (self.name, name), name in module.trainable_names))
                for name, var in module.named_vars.items())
        return collections.OrderedDict(self._handles)

    def get_var(self, var_or_local_name):
        """Current value of a variable (a VarHandle or a name of `vars`) as a NumPy array; before the network is
        built, the stored value."""
        if isinstance(var_or_local_name, VarHandle):
            return var_or_local_name.numpy()
        if self._module is None and var_or_local_name in self._stored:
            return self._stored[var_or_local_name]
        return self.find_var(var_or_local_name).numpy()

    def set_var(self, var_or_local_name, new_value):
        """Assign a variable (a VarHandle or a name of `vars`): later runs compute with the new value."""
        var = var_or_local_name if isinstance(var_or_local_name, VarHandle) else self.find_var(var_or_local_name)
        var.assign(new_value)

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
        """Eager call of the network on tensors or arrays (no transforms, no batching)."""
        if any(isinstance(x, tf.Tensor) and not hasattr(x, 'numpy') and not tf.inside_function() for x in inputs):
            raise NotImplementedError(
                '%s.get_output_for was given a TF1 graph tensor: this TensorFlow 2 port does not build networks into a '
                "user's TF1 graph (there is no session to run it). Call %s.run(arrays, ...) for NumPy results, or "
                'get_output_for on eager tensors / inside a tf.function' % (self.name, self.name))
        return self.module(*inputs, **dynamic_kwargs)

    # ---- reporting ------------------------------------------------------------------------------------------

    def list_layers(self):
        """[(layer name, output, trainable VarHandles)] as NVIDIA's list_layers: the inputs, then one layer per
        variable scope (a top-level variable is a layer of its own), components' layers prefixed with their name
        (a mapping network first, as it runs first), then the outputs. `output` has `.shape`: an input's or output's
        shape, or the variable's; a layer inside the network has no graph tensor in TF2: its shape is unknown."""
        layers = [(name, tf.TensorSpec([None] + list(shape[1:])), [])
                  for name, shape in zip(self.input_names, self.input_shapes)]
        layers += _scope_layers(self.own_vars)
        for _, comp in sorted(self.components.items(), key=lambda item: item[0] != 'mapping'):
            layers += [(comp.name + '/' + name, out, var) for name, out, var in comp.list_layers()]
        return layers + [(name, tf.TensorSpec([None] + list(shape[1:])), [])
                         for name, shape in zip(self.output_names, self.output_shapes)]

    def print_layers(self, title=None, hide_layers_with_no_params=False):
        """Print NVIDIA's summary table: layer, Params, OutputShape, WeightShape, and the total."""
        rows = [[title if title is not None else self.name, 'Params', 'OutputShape', 'WeightShape'], ['---'] * 4]
        total = 0
        for name, output, trainables in self.list_layers():
            count = sum(int(np.prod(var.shape.as_list())) for var in trainables)
            total += count
            weights = sorted((v for v in trainables if v.name.endswith('/weight:0')), key=lambda v: len(v.name))
            weights = weights or (trainables if len(trainables) == 1 else [])
            if count or not hide_layers_with_no_params:
                rows.append([name, str(count) if count else '-', _shape_text(output.shape),
                             _shape_text(weights[0].shape) if weights else '-'])
        rows += [['---'] * 4, ['Total', str(total), '', '']]
        widths = [max(len(cell) for cell in column) for column in zip(*rows)]
        print()
        for row in rows:
            print('  '.join(cell.ljust(width) for cell, width in zip(row, widths)))
        print()

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
        split = getattr(self.module, 'split_run_kwargs', None)  # values that can be fed as tensors (e.g. truncation)
        static_kwargs, fed = split(dynamic_kwargs) if split else (dynamic_kwargs, {})
        fn = self._run_function(input_transform, output_transform, num_gpus, static_kwargs, fed)
        fed_values = [tf.constant(value) for _, value in sorted(fed.items())]
        minibatch_size = num if minibatch_size is None else int(minibatch_size)
        results = []
        for begin in tqdm(range(0, num, max(minibatch_size, 1)), desc=self.name, disable=not print_progress,
                          leave=False):
            chunk = [a[begin:begin + minibatch_size] for a in arrays]
            results.append([o.numpy() for o in fn(*chunk, *fed_values)])
        outputs = [np.concatenate([r[i] for r in results], axis=0) for i in range(len(results[0]))]
        return outputs if (return_as_list or len(outputs) > 1) else outputs[0]

    def _run_function(self, input_transform, output_transform, num_gpus, dynamic_kwargs, fed):
        """One tf.function per transforms, devices, graph-shaping kwargs and names/shapes of the fed values: any
        batch size, and any value of a fed kwarg (e.g. every truncation psi and cutoff), reuse its trace."""
        fed_specs = [(name, tf.TensorSpec(np.shape(value), tf.as_dtype(np.asarray(value).dtype)))
                     for name, value in sorted(fed.items())]
        key = repr((sorted((input_transform or {}).items(), key=str), sorted((output_transform or {}).items(), key=str),
                    int(num_gpus), sorted(dynamic_kwargs.items()), fed_specs))
        if key in self._run_cache:
            return self._run_cache[key]
        module = self.module
        devices = compute_devices(num_gpus)
        num_inputs = len(self.input_shapes)

        def evaluate(*args):
            inputs, fed_tensors = args[:num_inputs], args[num_inputs:]
            kwargs = dict(dynamic_kwargs, **{name: t for (name, _), t in zip(fed_specs, fed_tensors)})
            num = tf.shape(inputs[0])[0]
            per_device = []
            for i, device in enumerate(devices):
                with tf.device(device):
                    if len(devices) == 1:
                        part = list(inputs)
                    else:
                        begin, end = device_part(num, i, len(devices))
                        part = [x[begin:end] for x in inputs]
                    out = module(*apply_transform(input_transform, part), **kwargs)
                    out = list(out) if isinstance(out, (list, tuple)) else [out]
                    per_device.append(apply_transform(output_transform, out))
            if len(per_device) == 1:
                return per_device[0]
            with tf.device(devices[0]):
                return [tf.concat([outs[i] for outs in per_device], axis=0) for i in range(len(per_device[0]))]

        # One trace for any batch size and image size: the input dims the network leaves open stay open.
        signature = [tf.TensorSpec([None] + list(shape[1:]), tf.float32) for shape in self.input_shapes]
        signature += [spec for _, spec in fed_specs]
        fn = tf.function(evaluate, input_signature=signature)
        self._run_cache[key] = fn
        return fn
