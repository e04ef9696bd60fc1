"""Test helpers that write network pickles in the official dnnlib format (random weights, our own TF1 sources).

`NVIDIA_STYLE_VGG_SOURCE` is a TF1 build source written for these tests in the style of
NVIDIA's public LPIPS build code (NCHW, `convN` scopes, kernels named after the layer index,
LPIPS weights `perceptual_weight_N`, fc1..fc3), with a build function name without "vgg".
It is stored in test pickles exactly as a real pickle stores its `build_module_src`, so the
safe structure-based loader and the opt-in `--trust_pickle_code` path can be compared.
"""
import pickle

import numpy as np

import dnnlib.tflib as tflib
from networks import loading, vgg16

NVIDIA_STYLE_VGG_SOURCE = '''"""VGG-16 feature network, TF1 NCHW (written for the tests of this project)."""
import numpy as np
import tensorflow as tf

WIDTHS = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
POOL_AFTER = [2, 4, 7, 10, 13]


def _conv(x, index, fmaps):
    with tf.variable_scope('conv%d' % index):
        w = tf.get_variable('conv%d' % index, shape=[3, 3, x.shape[1].value, fmaps],
                            initializer=tf.initializers.zeros())
        b = tf.get_variable('bias%d' % index, shape=[fmaps], initializer=tf.initializers.zeros())
        x = tf.nn.conv2d(x, w, strides=[1, 1, 1, 1], padding='SAME', data_format='NCHW')
        return tf.nn.relu(x + tf.reshape(b, [1, -1, 1, 1]))


def _fc(x, index, fmaps, relu=True):
    with tf.variable_scope('fc%d' % index):
        w = tf.get_variable('fc%d' % index, shape=[x.shape[1].value, fmaps], initializer=tf.initializers.zeros())
        b = tf.get_variable('bias%d' % index, shape=[fmaps], initializer=tf.initializers.zeros())
        x = tf.matmul(x, w) + b
        return tf.nn.relu(x) if relu else x


def perceptual_features(images_in, width_divisor=1, num_classes=1000, **_kwargs):
    images_in.set_shape([None, 3, None, None])
    x = tf.transpose(tf.cast(images_in, tf.float32), [0, 2, 3, 1])
    x = tf.image.resize_bilinear(x, [224, 224], align_corners=False)
    x = tf.transpose(x, [0, 3, 1, 2]) * (1.0 / 255)
    x = (x - tf.reshape(tf.constant([0.485, 0.456, 0.406]), [1, 3, 1, 1])) / \\
        tf.reshape(tf.constant([0.229, 0.224, 0.225]), [1, 3, 1, 1])
    for index, width in enumerate(WIDTHS, start=1):
        x = _conv(x, index, width // width_divisor)
        if index in POOL_AFTER:
            x = tf.nn.max_pool(x, ksize=[1, 1, 2, 2], strides=[1, 1, 2, 2], padding='SAME', data_format='NCHW')
            with tf.variable_scope('lpips%d' % POOL_AFTER.index(index)):
                tf.get_variable('perceptual_weight_%d' % POOL_AFTER.index(index),
                                shape=[1, 1, x.shape[1].value, 1], initializer=tf.initializers.ones())
    x = tf.reshape(x, [-1, np.prod([d.value for d in x.shape[1:]])])
    x = _fc(x, 1, 4096 // width_divisor)
    features = _fc(x, 2, 4096 // width_divisor)
    _fc(features, 3, num_classes // width_divisor, relu=False)
    return tf.identity(features, name='features_out')
'''


def nvidia_style_vgg_variables(width_divisor=16, seed=0, fc_layout='[in,out]', conv_layout='HWIO'):
    """[(name, float32 value)] in the creation order of NVIDIA_STYLE_VGG_SOURCE (He-scaled random values)."""
    rs = np.random.RandomState(seed)
    out = []
    channels = 3
    lpips = 0
    for index, width in enumerate(vgg16.VGG16_CONV_WIDTHS, start=1):
        width //= width_divisor
        kernel = rs.randn(3, 3, channels, width) * np.sqrt(2.0 / (9 * channels))
        if conv_layout == 'OIHW':
            kernel = kernel.transpose(3, 2, 0, 1)
        out.append(('conv%d/conv%d' % (index, index), kernel))
        out.append(('conv%d/bias%d' % (index, index), rs.randn(width) * 0.05))
        channels = width
        if index in vgg16.POOL_AFTER:
            out.append(('lpips%d/perceptual_weight_%d' % (lpips, lpips), np.abs(rs.randn(1, 1, width, 1))))
            lpips += 1
    fan_in = channels * 49
    for index, width in enumerate([4096 // width_divisor, 4096 // width_divisor, 1000 // width_divisor], start=1):
        weight = rs.randn(fan_in, width) * np.sqrt(2.0 / fan_in)
        out.append(('fc%d/fc%d' % (index, index), weight if fc_layout == '[in,out]' else weight.T))
        out.append(('fc%d/bias%d' % (index, index), rs.randn(width) * 0.05))
        fan_in = width
    return [(name, value.astype(np.float32)) for name, value in out]


def network_from_state(state):
    """A dnnlib Network made from a state dict, as the loader makes it (unpickled, its rebuild attached)."""
    return loading.read_networks(pickle.dumps(state_network(state)))


def state_network(state):
    """A bare dnnlib Network made from a state dict, as unpickling alone makes it (no rebuild attached)."""
    net = tflib.Network.__new__(tflib.Network)
    net.__setstate__(state)
    return net


def vgg_state(width_divisor=16, seed=0, source=NVIDIA_STYLE_VGG_SOURCE, build_func_name='perceptual_features',
              variables=None, static_kwargs=None):
    """State of an NVIDIA-style VGG-16 feature network (as the real vgg16.pkl would store it)."""
    kwargs = {'width_divisor': width_divisor, 'num_classes': 1000} if static_kwargs is None else static_kwargs
    return {'version': 4, 'name': 'vgg16', 'static_kwargs': kwargs, 'components': {},
            'build_module_src': source, 'build_func_name': build_func_name,
            'variables': variables if variables is not None else nvidia_style_vgg_variables(width_divisor, seed)}


def write_pickle(path, obj, protocol=4):
    with open(path, 'wb') as f:
        pickle.dump(obj, f, protocol=protocol)
    return path


def write_vgg_pickle(path, width_divisor=16, seed=0, source=NVIDIA_STYLE_VGG_SOURCE, protocol=4, **state_kwargs):
    """Write a vgg16.pkl-style 3-tuple whose third item is the feature network; returns the path."""
    net = network_from_state(vgg_state(width_divisor, seed, source, **state_kwargs))
    return write_pickle(path, (net, net, net), protocol)
