"""The session-era functions of NVIDIA's dnnlib.tflib that its scripts call, with TF1 behaviour on eager TF2.

    VarHandle                 a network variable as TF1 code holds it: hashable (a dict key), .name, .shape
                              (a TensorShape: .as_list()), .dtype, .trainable
    init_tf(config_dict)      seeds and 'env.*' entries as NVIDIA's init_tf applies them; no session is needed
    run(fetches)              NumPy values of variables / tensors, in the structure given (lists, tuples, dicts)
    set_vars({var: value})    assigns: every later Network.run computes with the new values
    is_tf_expression(x)       True for tensors and variables (handles included)

What cannot exist without a TF1 graph says so by name (`unsupported`): feeding placeholders through run's
feed_dict, and the training helpers (Optimizer, autosummary).
"""
import os

import numpy as np
import tensorflow as tf

# init_tf's defaults in NVIDIA's dnnlib: NumPy's global seed left alone, TensorFlow's drawn from NumPy's.
_INIT_DEFAULTS = {'rnd.np_random_seed': None, 'rnd.tf_random_seed': 'auto'}
_state = {'initialized': False}
# Names of NVIDIA's tflib that need a TF1 graph or train networks -> what to use instead.
UNSUPPORTED = {
    'Optimizer': 'training is not part of this port (it evaluates pretrained networks): train with NVIDIA\'s own '
                 'code, or with stylegan2-ada-pytorch',
    'autosummary': 'training summaries need a TF1 graph and TensorBoard: not part of this port',
    'create_session': 'TF2 runs eagerly: there is no session to create; call Network.run on arrays',
    'init_uninitialized_vars': 'every variable of a loaded network holds its stored value already',
}


class VarHandle:
    """One variable of a rebuilt network, as TF1 scripts use it: a dict key for set_vars, with .shape.as_list().

    Equality and hash are identity, like a TF1 variable; a network hands out one handle per variable, so handles
    from two reads of `Network.vars` are the same objects.
    """
    __slots__ = ('variable', 'name', 'trainable')

    def __init__(self, variable, name, trainable):
        self.variable = variable
        self.name = name  # TF1 global name: '<network scope>/<local name>:0'
        self.trainable = bool(trainable)

    @property
    def shape(self):
        return self.variable.shape

    @property
    def dtype(self):
        return self.variable.dtype

    def numpy(self):
        return self.variable.numpy()

    def assign(self, value):
        """Set the value (any array-like of the variable's shape; cast to its dtype, as a TF1 feed would)."""
        value = np.asarray(value, dtype=self.variable.dtype.as_numpy_dtype)
        if list(value.shape) != self.shape.as_list():
            raise ValueError('variable %s has shape %s; got a value of shape %s'
                             % (self.name, self.shape.as_list(), list(value.shape)))
        self.variable.assign(value)

    def __repr__(self):
        return '<VarHandle %r shape=%s>' % (self.name, self.shape.as_list())


def init_tf(config_dict=None):
    """NVIDIA's tflib.init_tf: seed NumPy ('rnd.np_random_seed', default untouched) and TensorFlow
    ('rnd.tf_random_seed'; 'auto' = a number drawn from NumPy's global stream, as NVIDIA's does; None = unseeded),
    set 'env.NAME' entries as environment variables. 'graph_options.*' / 'gpu_options.*' entries configure a TF1
    session, which TF2 does not have: accepted and left without effect. As NVIDIA's, only the first call acts
    (its later calls find the session made): NVIDIA's load_networks calls it on every load."""
    if _state['initialized']:
        return
    _state['initialized'] = True
    config = dict(_INIT_DEFAULTS)
    config.update(config_dict or {})
    for key, value in config.items():
        if key.startswith('env.'):
            os.environ[key[len('env.'):]] = str(value)
    if config['rnd.np_random_seed'] is not None:
        np.random.seed(config['rnd.np_random_seed'])
    tf_seed = config['rnd.tf_random_seed']
    if tf_seed == 'auto':
        tf_seed = np.random.randint(1 << 31)
    if tf_seed is not None:
        tf.random.set_seed(int(tf_seed))


def is_tf_expression(x):
    """True for TensorFlow tensors and variables (and VarHandles), as NVIDIA's tflib.is_tf_expression."""
    return isinstance(x, (tf.Tensor, tf.Variable, VarHandle))


def _value(x):
    if isinstance(x, (VarHandle, tf.Variable, tf.Tensor)):
        return x.numpy()
    return x


def run(*args, **kwargs):
    """NVIDIA's tflib.run(fetches): the NumPy values of variables and tensors, in the structure of `fetches`."""
    if kwargs.get('feed_dict') or len(args) > 1:
        raise NotImplementedError('tflib.run with a feed_dict needs a TF1 graph with placeholders, which TF2 does '
                                  'not build: call Network.run(...) on NumPy arrays instead')
    if len(args) != 1:
        raise TypeError('tflib.run takes one argument: the variables/tensors to read (any nesting of lists, tuples, '
                        'dicts)')
    return _map(_value, args[0])


def _map(fn, fetches):
    if isinstance(fetches, dict):
        return type(fetches)((key, _map(fn, value)) for key, value in fetches.items())
    if isinstance(fetches, (list, tuple)):
        return type(fetches)(_map(fn, value) for value in fetches)
    return fn(fetches)


def set_vars(var_to_value_dict):
    """NVIDIA's tflib.set_vars({variable: value}): assign each; every later run computes with the new values."""
    for var, value in var_to_value_dict.items():
        if isinstance(var, VarHandle):
            var.assign(value)
        elif isinstance(var, tf.Variable):
            var.assign(np.asarray(value, dtype=var.dtype.as_numpy_dtype))
        else:
            raise TypeError('tflib.set_vars: %r is not a network variable (take them from Network.vars / '
                            'own_vars / trainables)' % (var,))


def unsupported(name):
    """AttributeError for a name of NVIDIA's tflib that needs a TF1 graph or trains, saying what to use instead."""
    if name in UNSUPPORTED:
        return AttributeError('dnnlib.tflib.%s is not available in this TensorFlow 2 port: %s' % (name,
                                                                                                 UNSUPPORTED[name]))
    return AttributeError("module 'dnnlib.tflib' has no attribute %r" % name)
