"""Base class of the networks rebuilt from pickles: named variables plus input/output metadata."""
import collections
import warnings

import tensorflow as tf


class BuiltNetwork(tf.Module):
    """A tf.Module whose variables carry the official local names ('4x4/Conv/weight', ...).

    Subclasses create variables with `add_var` in the official creation order and
    set `input_names`, `input_shapes`, `output_names`, `output_shapes` (None = any size).
    """

    def __init__(self, name):
        super().__init__(name=name.replace('/', '_'))
        self.named_vars = collections.OrderedDict()
        self.trainable_names = set()
        self.input_names, self.input_shapes = [], []
        self.output_names, self.output_shapes = [], []

    def add_var(self, name, shape, trainable=True):
        """Create a float32 variable named `name` (initialized to zeros; values come from the pickle)."""
        if name in self.named_vars:
            raise ValueError('duplicate variable %s' % name)
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
    for key, allowed in (supported or {}).items():
        if params[key] not in allowed:
            raise ValueError('%s: %s=%r is not supported by this TF2 rebuild (supported: %s)'
                             % (network_name, key, params[key], list(allowed)))
    return params
