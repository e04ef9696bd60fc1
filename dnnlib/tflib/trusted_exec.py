"""Opt-in exact path (`--trust_pickle_code`): run a network pickle's own stored TF1 build code, as dnnlib does.

The official `Network.__setstate__` `exec`s the stored `build_module_src` in a fresh module,
builds a template graph by calling the build function on float32 placeholders (inputs =
positional parameters without defaults) under the network's own variable scope, and then
assigns the stored values by local variable name. This module does the same in TF2's
`tf.compat.v1` graph mode, in one `tf.compat.v1.Graph` + `Session` per top-level network:

* inside the executed source, `import tensorflow as tf` and `import tensorflow.compat.v1 as tf`
  give `tf.compat.v1` (with `disable_v2_behavior()` a no-op, so this process stays in TF2), and
  `import dnnlib` / `import dnnlib.tflib as tflib` give a small compatible dnnlib: `EasyDict`,
  `tflib.Network` (this module's `GraphNetwork`: `get_output_for`, `input_shape(s)`,
  `output_shape(s)`, `find_var`, `vars`, `own_vars`), `tflib.is_tf_expression`, `lerp`,
  `lerp_clip`, `convert_images_to_uint8` -- what the public NVlabs/stylegan build sources call;
* TensorShape dimensions behave as in TF1 (`x.shape[1].value`) while a graph is built.

`TrustedNetwork` exposes the interface the experiments use (`run`, `input_shape`,
`output_shape`, `name`, `kind`, `fingerprint`, `components`). **The stored code runs with
your user's rights**: load only files you trust. The default path (`networks.loading.load_network_file`
without `trust_code`) never executes anything.
"""
import builtins
import collections
import contextlib
import inspect
import re
import sys
import traceback
import types
import uuid

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from dnnlib.tflib import nchw
from dnnlib.tflib.network import NetworkInterface, NetworkPickleError, apply_transform
from dnnlib.util import EasyDict

v1 = tf.compat.v1

WARNING = ('WARNING: --trust_pickle_code: executing the Python source stored inside %s (network %r). '
           'This code runs with your rights; do this only with files from a source you trust.')


class StoredCodeError(NetworkPickleError):
    """The code stored in a pickle failed to build or run (on the --trust_pickle_code path)."""


@contextlib.contextmanager
def stored_code_errors(network, stage):
    """Turn any failure of stored code into a StoredCodeError naming the network, the op or line, and the reason."""
    try:
        yield
    except StoredCodeError:
        raise
    except tf.errors.OpError as e:
        lines = [line.strip() for line in (e.message or '').splitlines()
                 if line.strip() and line.strip() != 'Graph execution error:']
        node = re.search(r"Detected at node '([^']+)'|\{\{node ([^}]+)\}\}", e.message or '')
        if e.op is not None:
            op = '%s (%s)' % (e.op.name, e.op.type)
        else:
            op = (node.group(1) or node.group(2)) if node else 'an op'
        reason = next((line for line in lines if not line.startswith(('Detected at', '[[', 'File '))),
                      type(e).__name__)
        raise StoredCodeError('the code stored in network %r failed while %s, at op %s: %s'
                              % (network, stage, op, reason)) from e
    except Exception as e:  # noqa: BLE001 -- the stored code may raise anything
        frames = [f for f in traceback.extract_tb(e.__traceback__)
                  if f.filename.startswith('<build_module_src')]
        where = (' at line %d of its source (%s)' % (frames[-1].lineno, frames[-1].name)) if frames else ''
        raise StoredCodeError('the code stored in network %r failed while %s%s: %s: %s'
                              % (network, stage, where, type(e).__name__, e)) from e


def warn_loudly(what, name):
    bar = '!' * 100
    print('%s\n%s\n%s' % (bar, WARNING % (what, name), bar), file=sys.stderr, flush=True)


@contextlib.contextmanager
def tf1_shapes():
    """TF1 shape semantics while TF1 build code runs; nestable.

    TensorShape dims are TF1 Dimension objects (`x.shape[1].value`), and a bool or numpy bool
    dimension counts as 0/1 as in TF 1.x (NVlabs/stylegan makes its noise variables with
    `shape=[1, use_noise, 2**res, 2**res]`; TF 2.21 alone refuses the bool). TF's deprecation
    notices for the TF1 APIs the stored code calls are silenced meanwhile.
    """
    from tensorflow.python.framework import tensor_shape
    from tensorflow.python.util import deprecation
    previous = (tensor_shape._TENSORSHAPE_V2_OVERRIDE, deprecation._PRINT_DEPRECATION_WARNINGS,
                tensor_shape.Dimension.__init__)
    dimension_init = previous[2]

    def bool_as_int(self, value):
        dimension_init(self, int(value) if isinstance(value, (bool, np.bool_)) else value)
    v1.disable_v2_tensorshape()
    deprecation._PRINT_DEPRECATION_WARNINGS = False
    tensor_shape.Dimension.__init__ = bool_as_int
    try:
        yield
    finally:
        (tensor_shape._TENSORSHAPE_V2_OVERRIDE, deprecation._PRINT_DEPRECATION_WARNINGS,
         tensor_shape.Dimension.__init__) = previous


def is_tf_expression(x):
    return isinstance(x, (tf.Tensor, tf.Variable, tf.Operation))


def lerp(a, b, t):
    with v1.name_scope('Lerp'):
        return a + (b - a) * t


def lerp_clip(a, b, t):
    with v1.name_scope('LerpClip'):
        return a + (b - a) * tf.clip_by_value(t, 0.0, 1.0)


def shape_to_list(shape):
    return [tf.compat.dimension_value(d) for d in shape]


def flatten(x):
    with v1.name_scope('Flatten'):
        return tf.reshape(x, [-1])


def log2(x):
    with v1.name_scope('Log2'):
        return tf.math.log(x) * np.float32(1.0 / np.log(2.0))


def exp2(x):
    with v1.name_scope('Exp2'):
        return tf.exp(x * np.float32(np.log(2.0)))


def convert_images_from_uint8(images, drange=[-1, 1], nhwc_to_nchw=False):
    images = tf.cast(images, tf.float32)
    if nhwc_to_nchw:
        images = tf.transpose(images, [0, 3, 1, 2])
    return images * ((drange[1] - drange[0]) / 255) + drange[0]


def _absolute_variable_scope(scope, **kwargs):
    return v1.variable_scope(v1.VariableScope(name=scope, **kwargs), auxiliary_name_scope=False)


def _absolute_name_scope(scope):
    return v1.name_scope(scope + '/')


class GraphNetwork(NetworkInterface):
    """dnnlib-compatible network inside one TF1 graph (what `tflib.Network` is for the executed code).

    Made either from a stored state (`from_state`, the pickle path) or by build code calling
    `tflib.Network(name, func_name=<callable>, **static_kwargs)` for a missing component.
    """

    def __init__(self, name=None, func_name=None, components=None, build_module=None, **static_kwargs):
        if not callable(func_name):
            raise TypeError('tflib.Network(func_name=...) must be a function here, got %r' % (func_name,))
        self._build_func = func_name
        self.name = name or func_name.__name__
        self.static_kwargs = EasyDict(static_kwargs)
        self.components = EasyDict(components or {})
        self._build_module = build_module
        self._init_graph()

    @classmethod
    def from_state(cls, net, graph):
        """Execute `net.build_module_src` (a dnnlib Network state) and build its template graph in `graph`."""
        components = EasyDict((key, cls.from_state(comp, graph)) for key, comp in net.components.items())
        module = _exec_source(net.build_module_src, net.name)
        func = module.__dict__.get(net.build_func_name)
        if not callable(func):
            raise ValueError('network %r: the stored source defines no function %r' % (net.name, net.build_func_name))
        with graph.as_default():
            return cls(net.name, func, components, module, **net.static_kwargs)

    def _init_graph(self):
        self.input_names = [p.name for p in inspect.signature(self._build_func).parameters.values()
                            if p.kind == p.POSITIONAL_OR_KEYWORD and p.default is p.empty]
        with v1.name_scope(None):
            self.scope = v1.get_default_graph().unique_name(self.name, mark_as_used=True)
        kwargs = dict(self.static_kwargs, is_template_graph=True, components=self.components)
        with _absolute_variable_scope(self.scope, reuse=v1.AUTO_REUSE), _absolute_name_scope(self.scope):
            with tf.control_dependencies(None):
                self.input_templates = [v1.placeholder(tf.float32, name=n) for n in self.input_names]
                out = self._build_func(*self.input_templates, **kwargs)
        self.output_templates = list(out) if isinstance(out, (tuple, list)) else [out]
        self.input_shapes = [_shape_list(t) for t in self.input_templates]
        self.output_shapes = [_shape_list(t) for t in self.output_templates]
        self.own_vars = collections.OrderedDict(
            (var.name[len(self.scope) + 1:].split(':')[0], var) for var in v1.global_variables(self.scope + '/'))

    def get_output_for(self, *in_expr, return_as_list=False, **dynamic_kwargs):
        kwargs = dict(self.static_kwargs, **dynamic_kwargs)
        kwargs.update(is_template_graph=False, components=self.components)
        with _absolute_variable_scope(self.scope, reuse=True), v1.name_scope(self.name):
            valid = [x for x in in_expr if x is not None]
            inputs = []
            for expr, name, shape in zip(in_expr, self.input_names, self.input_shapes):
                if expr is None:
                    expr = tf.zeros([tf.shape(valid[0])[0]] + [d or 0 for d in shape[1:]], name=name)
                else:
                    expr = tf.identity(expr, name=name)
                inputs.append(expr)
            out = self._build_func(*inputs, **kwargs)
        for expr, final in zip(in_expr, inputs):  # shapes the build code set flow back to the caller's tensors
            if isinstance(expr, tf.Tensor):
                expr.set_shape(final.shape)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        return outs if return_as_list or len(outs) > 1 else outs[0]

    def assign_stored(self, net, session):
        """Load the stored values of the dnnlib state `net` (and its components) into this graph's variables."""
        for key, comp in self.components.items():
            comp.assign_stored(net.components[key], session)
        stored = net.stored_arrays()
        missing = [n for n in self.own_vars if n not in stored]
        extra = [n for n in stored if n not in self.own_vars]
        if missing or extra:
            raise ValueError('network %r: the stored code built variables that do not match the stored values: '
                             '%d missing %s, %d unexpected %s' % (self.name, len(missing), missing[:8], len(extra),
                                                                  extra[:8]))
        for name, var in self.own_vars.items():
            value = np.asarray(stored[name])
            if tuple(value.shape) != tuple(var.shape.as_list()):
                raise ValueError('network %r: variable %s has shape %s stored, %s built' % (
                    self.name, name, list(value.shape), var.shape.as_list()))
            initial_value = var.initializer.inputs[1]
            session.run(var.initializer, {initial_value: value.astype(var.dtype.base_dtype.as_numpy_dtype)})


def _shape_list(t):
    return None if t.shape.ndims is None else [d for d in t.shape.as_list()]


def _tf_module():
    """What `import tensorflow` gives the executed source: tf.compat.v1 that cannot switch this process to TF1.

    Its `nn` runs NCHW ops on CPUs without NCHW kernels (`dnnlib.tflib.nchw`); `tf.contrib`
    (TF 1.x only, imported by NVIDIA's tfutil) is an empty module.
    """
    shim = types.ModuleType('tensorflow')
    shim.__dict__.update({k: getattr(v1, k) for k in dir(v1) if not k.startswith('__')})
    for name in ('disable_v2_behavior', 'disable_eager_execution', 'disable_resource_variables',
                 'disable_v2_tensorshape', 'enable_v2_tensorshape'):
        setattr(shim, name, lambda *a, **k: None)
    shim.nn = nchw.nn_namespace()
    shim.contrib = types.ModuleType('tensorflow.contrib')
    shim.compat = types.SimpleNamespace(v1=shim, v2=tf)
    return shim


def _module(name, **attrs):
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    return module


def _no_plugin(*_args, **_kwargs):
    raise RuntimeError('CUDA plugins are not compiled on the --trust_pickle_code path; dnnlib.tflib.ops runs '
                       'its TensorFlow versions')


def _dnnlib_modules():
    """The dnnlib modules NVIDIA's network sources import, as this project's implementations.

    dnnlib, dnnlib.util, dnnlib.tflib (+ .network, .tfutil, .autosummary, .custom_ops) and
    dnnlib.tflib.ops.fused_bias_act / .upfirdn_2d (pure TensorFlow, whatever `impl` asks for).
    """
    from dnnlib.tflib.ops import fused_bias_act, upfirdn_2d
    from dnnlib.tflib.tfutil import convert_images_to_uint8
    helpers = dict(Network=GraphNetwork, is_tf_expression=is_tf_expression, lerp=lerp, lerp_clip=lerp_clip,
                   convert_images_to_uint8=convert_images_to_uint8, convert_images_from_uint8=convert_images_from_uint8,
                   shape_to_list=shape_to_list, flatten=flatten, log2=log2, exp2=exp2,
                   absolute_name_scope=_absolute_name_scope, absolute_variable_scope=_absolute_variable_scope)
    modules = {
        'dnnlib.util': _module('dnnlib.util', EasyDict=EasyDict),
        'dnnlib.tflib.autosummary': _module('dnnlib.tflib.autosummary', autosummary=lambda name, value, **_: value),
        'dnnlib.tflib.custom_ops': _module('dnnlib.tflib.custom_ops', get_plugin=_no_plugin),
        'dnnlib.tflib.ops.fused_bias_act': fused_bias_act,
        'dnnlib.tflib.ops.upfirdn_2d': upfirdn_2d,
    }
    modules['dnnlib.tflib.ops'] = _module('dnnlib.tflib.ops', fused_bias_act=fused_bias_act, upfirdn_2d=upfirdn_2d)
    modules['dnnlib.tflib.tfutil'] = _module('dnnlib.tflib.tfutil', **helpers)
    modules['dnnlib.tflib.network'] = _module('dnnlib.tflib.network', **helpers)
    modules['dnnlib.tflib'] = _module('dnnlib.tflib', tfutil=modules['dnnlib.tflib.tfutil'],
                                      network=modules['dnnlib.tflib.network'], ops=modules['dnnlib.tflib.ops'],
                                      autosummary=modules['dnnlib.tflib.autosummary'],
                                      custom_ops=modules['dnnlib.tflib.custom_ops'], **helpers)
    modules['dnnlib'] = _module('dnnlib', EasyDict=EasyDict, util=modules['dnnlib.util'],
                                tflib=modules['dnnlib.tflib'])
    return modules


def normalize_source(src):
    """Stored source text as Python compiles it: without a leading BOM, with \\n line ends."""
    return src.lstrip('\ufeff').replace('\r\n', '\n').replace('\r', '\n')


def _exec_source(src, name):
    """Execute build source text in a fresh module whose tensorflow/dnnlib imports resolve to the shims."""
    tf_shim = _tf_module()
    shims = dict(_dnnlib_modules(), **{'tensorflow': tf_shim, 'tensorflow.compat': tf_shim.compat,
                                       'tensorflow.compat.v1': tf_shim})

    def guarded_import(mod, globals_=None, locals_=None, fromlist=(), level=0):
        if level == 0 and mod in shims:
            return shims[mod] if fromlist else shims[mod.split('.')[0]]
        if level == 0 and (mod.startswith('tensorflow.') or mod.startswith('dnnlib.')):
            raise ImportError('the stored network code imports %s, which the --trust_pickle_code shim does not '
                              'provide (it offers %s)' % (mod, sorted(shims)))
        return builtins.__import__(mod, globals_, locals_, fromlist, level)

    module = types.ModuleType('_tflib_network_import_' + uuid.uuid4().hex)
    module.__dict__['__builtins__'] = dict(vars(builtins), __import__=guarded_import)
    with tf1_shapes():
        exec(compile(normalize_source(src), '<build_module_src of %s>' % name, 'exec'), module.__dict__)  # noqa: S102 (opt-in)
    return module


class TrustedNetwork:
    """A network of a pickle evaluated by its own stored TF1 code, with the `Network.run` interface.

    Args:
        net: the dnnlib Network state from the safe unpickler (`dnnlib.tflib.safe_pickle`).
    The stored source runs when the network is first used (like the official unpickling,
    but only for networks that are used: a generator pickle's discriminator is never built).
    """

    load_path = 'trusted pickle code'

    def __init__(self, net):
        self.state = net
        self.name = net.name
        self.kind = net.kind
        self.build_func_name = net.build_func_name
        self.static_kwargs = net.static_kwargs
        self.build_module_src = net.build_module_src
        self._graph_net = None
        self._components = None
        self._run_cache = {}

    @property
    def graph_net(self):
        """The GraphNetwork, built (source executed, values assigned) on first use."""
        if self._graph_net is None:
            self.graph = tf.Graph()
            with stored_code_errors(self.name, 'building its graph'), self.graph.as_default(), tf1_shapes():
                graph_net = GraphNetwork.from_state(self.state, self.graph)
                self.session = v1.Session(graph=self.graph, config=v1.ConfigProto(allow_soft_placement=True))
                graph_net.assign_stored(self.state, self.session)
            self._graph_net = graph_net
        return self._graph_net

    @property
    def components(self):
        if self._components is None:
            graph_net = self.graph_net
            self._components = EasyDict((key, _ComponentView(graph_net.components[key], comp, self.graph, self.session))
                                        for key, comp in self.state.components.items())
        return self._components

    input_names = property(lambda self: self.graph_net.input_names)
    input_shapes = property(lambda self: self.graph_net.input_shapes)
    output_shapes = property(lambda self: self.graph_net.output_shapes)
    input_shape = property(lambda self: self.graph_net.input_shape)
    output_shape = property(lambda self: self.graph_net.output_shape)
    num_inputs = property(lambda self: self.graph_net.num_inputs)

    def fingerprint(self):
        """The stored network's fingerprint (same weights and kwargs as the safe path)."""
        return self.state.fingerprint()

    def get_var(self, name):
        return self.session.run(self.graph_net.find_var(name))

    def __repr__(self):
        return 'TrustedNetwork(name=%r, build_func_name=%r)' % (self.name, self.build_func_name)

    def run(self, *in_arrays, input_transform=None, output_transform=None, return_as_list=False,
            print_progress=False, minibatch_size=None, num_gpus=1, assume_frozen=False, **dynamic_kwargs):
        """Evaluate on numpy arrays in minibatches, like the official `Network.run` (one device here)."""
        del assume_frozen, num_gpus
        if len(in_arrays) != self.num_inputs:
            raise ValueError('%s takes %d inputs %s, got %d' % (self.name, self.num_inputs, self.input_names,
                                                                len(in_arrays)))
        num = [len(a) for a in in_arrays if a is not None][0]
        key = repr((sorted((input_transform or {}).items(), key=str), sorted((output_transform or {}).items(), key=str),
                    sorted(dynamic_kwargs.items())))
        if key not in self._run_cache:
            with stored_code_errors(self.name, 'building its graph for %s' % (dynamic_kwargs or 'the default call')):
                self._run_cache[key] = self._build_run_graph(input_transform, output_transform, dynamic_kwargs)
        placeholders, outputs = self._run_cache[key]
        minibatch_size = num if minibatch_size is None else max(int(minibatch_size), 1)
        results = []
        for begin in tqdm(range(0, num, minibatch_size), desc=self.name, disable=not print_progress, leave=False):
            feed = {}
            for ph, array, shape in zip(placeholders, in_arrays, self.input_shapes):
                if array is None:
                    array = np.zeros([min(minibatch_size, num - begin)] + [d or 0 for d in (shape or [None])[1:]])
                else:
                    array = array[begin:begin + minibatch_size]
                feed[ph] = np.asarray(array, np.float32)
            with stored_code_errors(self.name, 'running'):
                results.append(self.session.run(outputs, feed))
        outs = [np.concatenate([r[i] for r in results], axis=0) for i in range(len(outputs))]
        return outs if (return_as_list or len(outs) > 1) else outs[0]

    def _build_run_graph(self, input_transform, output_transform, dynamic_kwargs):
        with self.graph.as_default(), tf1_shapes(), v1.name_scope('run'):
            placeholders = [v1.placeholder(tf.float32, name=n) for n in self.input_names]
            inputs = apply_transform(input_transform, placeholders)
            outputs = self.graph_net.get_output_for(*inputs, return_as_list=True, **dynamic_kwargs)
            outputs = apply_transform(output_transform, outputs)
        return placeholders, outputs


class _ComponentView(TrustedNetwork):
    """A component of a trusted network (e.g. Gs.components.mapping), sharing its graph and session."""

    def __init__(self, graph_net, net, graph, session):
        super().__init__(net)
        self.graph, self.session, self._graph_net = graph, session, graph_net
