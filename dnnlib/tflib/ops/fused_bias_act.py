"""Bias + activation + gain (+ clamp), as StyleGAN2's `fused_bias_act`, in plain TensorFlow.

y = clip(act(x + b) * gain, -clamp, clamp): b [C] is broadcast along `axis` of x; `alpha` is the
activation's parameter (lrelu slope) and `gain` defaults to the activation's own (sqrt 2 for the
rectifiers, 1 otherwise). float32 in, float32 out.
"""
import numpy as np
import tensorflow as tf

# name -> (function(x, alpha), default alpha, default gain)
ACTIVATIONS = {
    'linear': (lambda x, a: x, None, 1.0),
    'relu': (lambda x, a: tf.nn.relu(x), None, np.sqrt(2)),
    'lrelu': (lambda x, a: tf.nn.leaky_relu(x, a), 0.2, np.sqrt(2)),
    'tanh': (lambda x, a: tf.nn.tanh(x), None, 1.0),
    'sigmoid': (lambda x, a: tf.nn.sigmoid(x), None, 1.0),
    'elu': (lambda x, a: tf.nn.elu(x), None, 1.0),
    'selu': (lambda x, a: tf.nn.selu(x), None, 1.0),
    'softplus': (lambda x, a: tf.nn.softplus(x), None, 1.0),
    'swish': (lambda x, a: tf.nn.sigmoid(x) * x, None, np.sqrt(2)),
}


def fused_bias_act(x, b=None, axis=1, act='linear', alpha=None, gain=None, clamp=None, impl=None):
    """x: float tensor of any rank; b: [x.shape[axis]] or None. Returns a tensor shaped like x."""
    del impl
    if act not in ACTIVATIONS:
        raise ValueError('fused_bias_act: unknown activation %r (known: %s)' % (act, sorted(ACTIVATIONS)))
    func, default_alpha, default_gain = ACTIVATIONS[act]
    x = tf.convert_to_tensor(x)
    if b is not None:
        b = tf.cast(tf.convert_to_tensor(b), x.dtype)
        rank = x.shape.ndims
        x += tf.reshape(b, [-1 if i == axis % rank else 1 for i in range(rank)])
    alpha = default_alpha if alpha is None else alpha
    x = func(x, alpha)
    gain = default_gain if gain is None else gain
    if gain != 1:
        x = x * tf.cast(gain, x.dtype)
    if clamp is not None and clamp >= 0:
        x = tf.clip_by_value(x, -clamp, clamp)
    return x
