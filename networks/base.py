"""Base class of the networks rebuilt from pickles: named variables plus input/output metadata."""
import collections
import contextlib
import numbers
import warnings

import numpy as np
import tensorflow as tf

_STORED_SHAPES = {}  # network name -> {variable name: shape} while that network is being rebuilt


@contextlib.contextmanager
def stored_shapes(network_name, stored_arrays):
    """While rebuilding `network_name`, `add_var` compares each variable with the pickle's before making it: a
    file's static kwargs (resolution, fmap_base, latent_size ...) can then never make variables the file does not
    hold (a 2 MB pickle declaring a 4096 px generator is refused, not built)."""
    previous = _STORED_SHAPES.get(network_name)
    _STORED_SHAPES[network_name] = {name: tuple(np.shape(value)) for name, value in stored_arrays.items()}
    try:
        yield
    finally:
        if previous is None:
            _STORED_SHAPES.pop(network_name, None)
        else:
            _STORED_SHAPES[network_name] = previous


class BuiltNetwork(tf.Module):
    """A tf.Module whose variables carry the official local names ('4x4/Conv/weight', ...).

    Subclasses create variables with `add_var` in the official creation order and
    set `input_names`, `input_shapes`, `output_names`, `output_shapes` (None = any size).
    """

    def __init__(self, name):
        super().__init__(name=name.replace('/', '_'))
        self.official_name = name
        self.named_vars = collections.OrderedDict()
        self.trainable_names = set()
        self.input_names, self.input_shapes = [], []
        self.output_names, self.output_shapes = [], []

    def add_var(self, name, shape, trainable=True):
        """Create a float32 variable named `name` (initialized to zeros; values come from the pickle)."""
        if name in self.named_vars:
            raise ValueError('duplicate variable %s' % name)
        stored = _STORED_SHAPES.get(self.official_name)
        if stored is not None and stored.get(name) != tuple(shape):
            raise ValueError('network %r: its static kwargs call for variable %s of shape %s, but the file %s; '
                             'refusing to build it (the kwargs and the stored variables contradict each other)'
                             % (self.official_name, name, list(shape), 'holds none' if name not in stored else
                                'holds %s' % list(stored[name])))
        var = tf.Variable(tf.zeros(shape, tf.float32), trainable=trainable, name=name.replace('/', '_'))
        self.named_vars[name] = var
        if trainable:
            self.trainable_names.add(name)
        return var


def take_kwargs(network_name, static_kwargs, defaults, supported=None, known=()):
    """Merge `static_kwargs` over `defaults`; refuse unsupported values, warn about unknown names.

    Args:
        defaults: dict name -> default value of the official build function.
        supported: dict name -> tuple of values our rebuild implements (others raise ValueError).
        known: other names legitimately present (forwarded to sibling networks) and ignored.
    """
    params = dict(defaults)
    unknown = []
    for key, value in static_kwargs.items():
        if key in defaults:
            params[key] = value
        elif key not in known:
            unknown.append(key)
    if unknown:
        warnings.warn('%s: ignoring unknown static kwargs %s (as the official build function would)'
                      % (network_name, sorted(unknown)))
    for key, value in params.items():
        _check_kind(network_name, key, value, defaults.get(key))
    for key, allowed in (supported or {}).items():
        if params[key] not in allowed:
            raise ValueError('%s: %s=%r is not supported by this TF2 rebuild (supported: %s)'
                             % (network_name, key, params[key], list(allowed)))
    return params


def _check_kind(network_name, key, value, default):
    """ValueError when a kwarg whose default is a number holds something else (e.g. resolution '1024')."""
    if isinstance(default, bool) or default is None or not isinstance(default, numbers.Number):
        return
    if value is None and key.startswith('truncation_'):  # psi / cutoff None: truncation off
        return
    integral = isinstance(default, numbers.Integral)
    ok = isinstance(value, numbers.Integral if integral else numbers.Real) and not isinstance(value, bool)
    if not ok or (not integral and not np.isfinite(value)):
        raise ValueError('%s: static kwarg %s=%r is not %s' % (network_name, key, value,
                                                               'a whole number' if integral else 'a finite number'))


TRUNCATION_KWARGS = ('truncation_psi', 'truncation_cutoff', 'is_validation', 'truncation_psi_val',
                     'truncation_cutoff_val')


class TruncatingGenerator:
    """Mixin of the generators with the truncation trick (G_style, G_main) for `Network.run`: the truncation kwargs
    become one per-layer coefficient vector fed as a tensor, so every psi and cutoff reuses one trace.

    Subclasses define `truncation_coefs(**TRUNCATION_KWARGS)` -> float32 [num_layers] or None (off), and
    TRUNCATION_DEFAULTS: the official call's defaults of those kwargs; their call takes `truncation=` coefficients.
    """
    TRUNCATION_DEFAULTS = {}

    def split_run_kwargs(self, dynamic_kwargs):
        """(kwargs that shape the graph, {name: array fed as a tensor}) of one Network.run call."""
        kwargs = dict(dynamic_kwargs)
        picked = dict(self.TRUNCATION_DEFAULTS)
        picked.update((key, kwargs.pop(key)) for key in TRUNCATION_KWARGS if key in kwargs)
        coefs = self.truncation_coefs(**picked)
        if coefs is None:  # truncation off, whatever the network's own defaults say
            kwargs.update(truncation_psi=None, is_validation=False)
            return kwargs, {}
        return kwargs, {'truncation': np.asarray(coefs, np.float32)}
