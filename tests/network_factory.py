"""Test helpers that write network pickles in the official dnnlib format (random weights)."""
import pickle

import numpy as np

import dnnlib.tflib as tflib
from networks import registry

VGG_SOURCE = ('def vgg16(images_in):\n'
              '    x = tf.image.resize_bilinear(tf.transpose(images_in, [0, 2, 3, 1]), [224, 224], align_corners=False)\n'
              '    x = (x / 255.0 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]\n')


def network_from_state(state):
    """A dnnlib Network made from a state dict, as unpickling would make it."""
    net = tflib.Network.__new__(tflib.Network)
    net.__setstate__(state)
    return net


def random_variables(name, build_func_name, static_kwargs, components=None, seed=0):
    """[(local name, He-initialized float32 value)] in the rebuilt network's creation order."""
    module = registry.build(name, build_func_name, static_kwargs, components or {})
    rs = np.random.RandomState(seed)
    out = []
    for var_name, var in module.named_vars.items():
        shape = var.shape.as_list()
        if len(shape) >= 2:
            value = rs.randn(*shape) * np.sqrt(2.0 / np.prod(shape[:-1]))
        else:
            value = rs.randn(*shape) * 0.01
        out.append((var_name, value.astype(np.float32)))
    return out


def vgg_state(width_divisor=16, seed=0, source=VGG_SOURCE, build_func_name='vgg16'):
    kwargs = {'width_divisor': width_divisor} if width_divisor != 1 else {}
    return {'version': 3, 'name': 'vgg16', 'static_kwargs': kwargs, 'components': {},
            'build_module_src': source, 'build_func_name': build_func_name,
            'variables': random_variables('vgg16', build_func_name, kwargs, seed=seed)}


def write_vgg_pickle(path, width_divisor=16, seed=0, source=VGG_SOURCE):
    """Write a vgg16.pkl-style 3-tuple whose third item is the feature network; returns the path."""
    net = network_from_state(vgg_state(width_divisor, seed, source))
    with open(path, 'wb') as f:
        pickle.dump((net, net, net), f, protocol=4)
    return path
