"""NCHW and grouped convolutions on every device: native where the kernels exist, NHWC otherwise.

TF1 build code (every NVIDIA network source) uses `data_format='NCHW'`. TensorFlow's GPU kernels
and its oneDNN CPU kernels run NCHW natively; its plain Eigen CPU kernels (TensorFlow's default on
CPUs without AVX-512, e.g. AMD, Apple silicon, most laptops, or anywhere with
`TF_ENABLE_ONEDNN_OPTS=0`) reject it, and they have no grouped transposed convolution at all.

Each function here has the signature of its `tf.compat.v1.nn` namesake. It runs the op natively
when this process can (a GPU is visible, or a one-off probe of the op on the CPU succeeds), and
otherwise transposes to NHWC, runs the op and transposes back -- the same arithmetic per output
element, measured against the native oneDNN kernels in `tests/test_nchw.py`. A grouped
`conv2d_transpose` without a native kernel runs one ungrouped op per group (`tf.map_fn`, the
number of groups may be dynamic). Grappler's `cpu_layout_conversion = NCHW_TO_NHWC` was measured
as the alternative (README, "Which CPU kernels"): it leaves `depthwise_conv2d` in NCHW and fails.
"""
import functools
import types

import numpy as np
import tensorflow as tf

v1 = tf.compat.v1
TO_NHWC, TO_NCHW = [0, 2, 3, 1], [0, 3, 1, 2]


def _probe_graph(build):
    """True iff the ops `build()` makes in a fresh graph run on the CPU (False on any TF error)."""
    graph = tf.Graph()
    with graph.as_default(), tf.device('/cpu:0'):
        out = build()
    try:
        with v1.Session(graph=graph) as session:
            session.run(out)
        return True
    except (tf.errors.OpError, ValueError, TypeError):
        return False


@functools.lru_cache(maxsize=None)
def gpu_visible():
    return bool(tf.config.list_logical_devices('GPU'))


@functools.lru_cache(maxsize=None)
def native(op, dtype='float32'):
    """Whether this process runs `op` ('conv2d', 'grouped_conv2d', ...) in NCHW on `dtype` natively.

    (oneDNN's CPU kernels, for one, have no float16 NCHW convolutions; Eigen's have NHWC ones.)
    """
    if gpu_visible():
        return True
    x = lambda c: tf.ones([1, c, 4, 4], dtype)  # noqa: E731
    w = lambda *s: tf.ones(s, dtype)  # noqa: E731
    builds = {
        'conv2d': lambda: v1.nn.conv2d(x(2), w(3, 3, 2, 2), [1, 1, 1, 1], 'SAME', data_format='NCHW'),
        'grouped_conv2d': lambda: v1.nn.conv2d(x(4), w(3, 3, 2, 2), [1, 1, 1, 1], 'SAME', data_format='NCHW'),
        'conv2d_transpose': lambda: v1.nn.conv2d_transpose(x(2), w(3, 3, 2, 2), [1, 2, 9, 9], [1, 1, 2, 2], 'VALID',
                                                           data_format='NCHW'),
        'grouped_conv2d_transpose': lambda: v1.nn.conv2d_transpose(x(4), w(3, 3, 2, 4), [1, 4, 9, 9], [1, 1, 2, 2],
                                                                   'VALID', data_format='NCHW'),
        'depthwise_conv2d': lambda: v1.nn.depthwise_conv2d(x(2), w(3, 3, 2, 1), [1, 1, 1, 1], 'SAME',
                                                           data_format='NCHW'),
        'max_pool': lambda: v1.nn.max_pool(x(2), [1, 1, 2, 2], [1, 1, 2, 2], 'VALID', data_format='NCHW'),
        'avg_pool': lambda: v1.nn.avg_pool(x(2), [1, 1, 2, 2], [1, 1, 2, 2], 'VALID', data_format='NCHW'),
        'bias_add': lambda: v1.nn.bias_add(x(2), tf.ones([2], dtype), data_format='NCHW'),
        'fused_batch_norm': lambda: v1.nn.fused_batch_norm(x(2), tf.ones([2]), tf.ones([2]), tf.ones([2]),
                                                           tf.ones([2]), data_format='NCHW', is_training=False)[0],
    }
    return _probe_graph(builds[op])


def _nhwc_list(values):
    """Per-dimension strides/ksize/dilations given for NCHW, reordered for NHWC; ints and pairs stay."""
    if isinstance(values, (list, tuple)) and len(values) == 4:
        return [values[i] for i in TO_NHWC]
    return values


def _in_nchw(x):
    return tf.transpose(x, TO_NHWC)


def _out_nchw(y):
    return tf.transpose(y, TO_NCHW)


def _static(value):
    """A Python int for a static dimension or constant, else None."""
    value = tf.compat.dimension_value(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    return tf.get_static_value(value) if isinstance(value, tf.Tensor) else None


def conv2d(input, filter=None, strides=None, padding=None, use_cudnn_on_gpu=True, data_format='NHWC',  # noqa: A002
           dilations=[1, 1, 1, 1], name=None, filters=None):
    """tf.compat.v1.nn.conv2d; grouped when the input depth is a multiple of the filter's in-depth."""
    input, filter = tf.convert_to_tensor(input), tf.convert_to_tensor(filters if filter is None else filter)
    if data_format != 'NCHW':
        return v1.nn.conv2d(input, filter, strides, padding, use_cudnn_on_gpu, data_format, dilations, name)
    grouped = _static(input.shape[1]) != _static(filter.shape[2])
    if native('grouped_conv2d' if grouped else 'conv2d', input.dtype.name):
        return v1.nn.conv2d(input, filter, strides, padding, use_cudnn_on_gpu, 'NCHW', dilations, name)
    return _out_nchw(v1.nn.conv2d(_in_nchw(input), filter, _nhwc_list(strides), padding, use_cudnn_on_gpu, 'NHWC',
                                  _nhwc_list(dilations), name))


def conv2d_transpose(value=None, filter=None, output_shape=None, strides=None, padding='SAME',  # noqa: A002
                     data_format='NHWC', name=None, input=None, filters=None, dilations=None):  # noqa: A002
    """tf.compat.v1.nn.conv2d_transpose; filter [kh, kw, co, in_depth], grouped when output depth != co.

    Groups G = output depth / co: input channels g*ci.. (ci = in_depth / G) map to output
    channels g*co.. through filter[..., g*ci:(g+1)*ci] (as a grouped forward conv transposed).
    """
    value = tf.convert_to_tensor(input if value is None else value)
    filter = tf.convert_to_tensor(filters if filter is None else filter)
    if data_format != 'NCHW':
        return v1.nn.conv2d_transpose(value, filter, output_shape, strides, padding, data_format, name,
                                      dilations=dilations)
    out_depth = output_shape[1] if isinstance(output_shape, (list, tuple)) else None
    grouped = _static(out_depth) is None or _static(out_depth) != _static(filter.shape[2])
    if native('grouped_conv2d_transpose' if grouped else 'conv2d_transpose', value.dtype.name):
        return v1.nn.conv2d_transpose(value, filter, output_shape, strides, padding, 'NCHW', name,
                                      dilations=dilations)
    nhwc_shape = tf.gather(tf.convert_to_tensor([_as_int32(d) for d in output_shape]
                                                if isinstance(output_shape, (list, tuple)) else output_shape,
                                                tf.int32), TO_NHWC)
    strides, dilations = _nhwc_list(strides), _nhwc_list(dilations)
    if not grouped:
        y = _out_nchw(v1.nn.conv2d_transpose(_in_nchw(value), filter, nhwc_shape, strides, padding, 'NHWC', name,
                                             dilations=dilations))
    else:
        y = _grouped_conv2d_transpose(_in_nchw(value), filter, nhwc_shape, strides, padding, dilations)
    if isinstance(output_shape, (list, tuple)):  # the static shape TF infers natively from a constant-folded list
        y.set_shape([_static(d) for d in output_shape])
    return y


def _as_int32(d):
    d = tf.compat.dimension_value(d)
    return tf.cast(d, tf.int32) if isinstance(d, tf.Tensor) else d


def _grouped_conv2d_transpose(x, filter, output_shape, strides, padding, dilations):  # noqa: A002
    """One ungrouped NHWC transposed convolution per group (the count may be dynamic); returns NCHW.

    x: [N, H, W, G*ci]; filter: [kh, kw, co, G*ci]; output_shape: int32 [4] NHWC with G*co channels.
    """
    kh, kw, co, in_depth = [tf.shape(filter)[i] for i in range(4)]
    groups = output_shape[3] // co
    ci = in_depth // groups
    n, h, w = tf.shape(x)[0], tf.shape(x)[1], tf.shape(x)[2]
    xg = tf.transpose(tf.reshape(x, [n, h, w, groups, ci]), [3, 0, 1, 2, 4])           # [G, N, H, W, ci]
    fg = tf.transpose(tf.reshape(filter, [kh, kw, co, groups, ci]), [3, 0, 1, 2, 4])   # [G, kh, kw, co, ci]
    per_group = tf.concat([output_shape[:3], [co]], axis=0)
    yg = tf.map_fn(lambda a: v1.nn.conv2d_transpose(a[0], a[1], per_group, strides, padding, 'NHWC',
                                                    dilations=dilations),
                   (xg, fg), fn_output_signature=x.dtype)                               # [G, N, H', W', co]
    y = tf.transpose(yg, [1, 0, 4, 2, 3])                                               # [N, G, co, H', W']
    return tf.reshape(y, [n, groups * co, output_shape[1], output_shape[2]])


def depthwise_conv2d(input, filter, strides, padding, rate=None, name=None, data_format=None,  # noqa: A002
                     dilations=None):
    input = tf.convert_to_tensor(input)  # noqa: A001
    if data_format != 'NCHW' or native('depthwise_conv2d', input.dtype.name):
        return v1.nn.depthwise_conv2d(input, filter, strides, padding, rate, name, data_format, dilations)
    return _out_nchw(v1.nn.depthwise_conv2d(_in_nchw(input), filter, _nhwc_list(strides), padding, rate, name,
                                            'NHWC', dilations))


def _pool(op_name, value, ksize, strides, padding, data_format, name, input):  # noqa: A002
    value = tf.convert_to_tensor(input if value is None else value)
    op = getattr(v1.nn, op_name)
    if data_format != 'NCHW' or native(op_name, value.dtype.name):
        return op(value, ksize, strides, padding, data_format=data_format, name=name)
    return _out_nchw(op(_in_nchw(value), _nhwc_list(ksize), _nhwc_list(strides), padding, data_format='NHWC',
                        name=name))


def max_pool(value=None, ksize=None, strides=None, padding=None, data_format='NHWC', name=None,
             input=None):  # noqa: A002
    return _pool('max_pool', value, ksize, strides, padding, data_format, name, input)


def avg_pool(value=None, ksize=None, strides=None, padding=None, data_format='NHWC', name=None,
             input=None):  # noqa: A002
    return _pool('avg_pool', value, ksize, strides, padding, data_format, name, input)


def bias_add(value, bias, data_format=None, name=None):
    value = tf.convert_to_tensor(value)
    if data_format != 'NCHW' or native('bias_add', value.dtype.name):
        return v1.nn.bias_add(value, bias, data_format=data_format, name=name)
    shape = [1, -1] + [1] * (value.shape.ndims - 2)
    return tf.add(value, tf.reshape(bias, shape), name=name)


def fused_batch_norm(x, scale, offset, mean=None, variance=None, epsilon=0.001, data_format='NHWC',
                     is_training=True, name=None, exponential_avg_factor=1.0):
    kwargs = dict(epsilon=epsilon, is_training=is_training, name=name, exponential_avg_factor=exponential_avg_factor)
    x = tf.convert_to_tensor(x)
    if data_format != 'NCHW' or native('fused_batch_norm', x.dtype.name):
        return v1.nn.fused_batch_norm(x, scale, offset, mean, variance, data_format=data_format, **kwargs)
    y, batch_mean, batch_var = v1.nn.fused_batch_norm(_in_nchw(x), scale, offset, mean, variance, data_format='NHWC',
                                                      **kwargs)
    return _out_nchw(y), batch_mean, batch_var


WRAPPED = {'conv2d': conv2d, 'conv2d_transpose': conv2d_transpose, 'depthwise_conv2d': depthwise_conv2d,
           'max_pool': max_pool, 'avg_pool': avg_pool, 'max_pool2d': max_pool, 'avg_pool2d': avg_pool,
           'bias_add': bias_add, 'fused_batch_norm': fused_batch_norm}


def nn_namespace():
    """A copy of `tf.compat.v1.nn` whose NCHW ops run on every device (for executed TF1 code)."""
    nn = types.ModuleType('tensorflow.nn')
    nn.__dict__.update({k: getattr(v1.nn, k) for k in dir(v1.nn) if not k.startswith('__')})
    nn.__dict__.update(WRAPPED)
    return nn
