"""Which TF2 rebuild serves a stored network: one row per kind, matched by build function name or by structure.

A row says how to recognise a stored network (`matches(build_func_name, stored)`), how to
rebuild it and load its values (`load(net)` -> a BuiltNetwork with values assigned), which
assumptions of the rebuild the stored network contradicts (`source_problems(net)` -> strings,
from its source and, for VGG, its mean/std buffers), and how to describe the mapping
from stored variables to the rebuild (`layout(net)` -> lines). A new weight source or network
kind is one more row.
"""
import re

import numpy as np

from networks import stylegan, vgg16

GENERATOR = 'generator'
FEATURE_NETWORK = 'feature network'
DISCRIMINATOR = 'discriminator'


class Entry:
    def __init__(self, name, kind, matches, load, source_problems=None, layout=None):
        self.name, self.kind, self.matches, self.load = name, kind, matches, load
        self.source_problems = source_problems or (lambda net: [])
        self.layout = layout or (lambda net: ['  %s %s -> %s (by name)' % (n, list(np.shape(v)), n)
                                              for n, v in net.stored_arrays().items()])


def assign_by_name(net, module):
    """Assign the stored values of `net` to the rebuilt module's variables of the same local names."""
    expected = module.named_vars
    stored = net.stored_arrays()
    missing = [n for n in expected if n not in stored]
    extra = [n for n in stored if n not in expected]
    if missing or extra:
        raise ValueError('network %r (%s): stored variables do not match the rebuilt network: %d missing %s, '
                         '%d unexpected %s' % (net.name, net.build_func_name, len(missing), missing[:8], len(extra),
                                               extra[:8]))
    for name, var in expected.items():
        value = stored[name]
        if tuple(value.shape) != tuple(var.shape.as_list()):
            raise ValueError('network %r: variable %s has shape %s in the pickle, expected %s'
                             % (net.name, name, list(value.shape), var.shape.as_list()))
        if not np.all(np.isfinite(value)):
            raise ValueError('network %r: variable %s contains NaN or inf' % (net.name, name))
        var.assign(np.asarray(value, np.float32))
    lod = getattr(module, 'lod', None)
    if lod is not None and float(lod.numpy()) != 0.0:
        raise NotImplementedError('network %r has lod=%g (a progressive-growing snapshot); only fully grown '
                                  'networks (lod=0) are supported' % (net.name, float(lod.numpy())))
    return module


def _generator(cls_factory):
    def load(net):
        return assign_by_name(net, cls_factory(net.name, dict(net.static_kwargs), net.components))
    return load


def _generator_source_problems(build_func_name):
    def problems(net):
        src = net.build_module_src or ''
        needed = ['def %s(' % build_func_name, 'fused_scale', 'instance_norm', 'style_mod']
        return ['the source has no %r' % marker for marker in needed if marker not in src]
    return problems


def _not_rebuilt(what):
    def load(net):
        raise NotImplementedError('network %r: %s is %s and is not rebuilt in TF2' % (net.name, net.build_func_name,
                                                                                       what))
    return load


VGG_NAME = re.compile(r'vgg', re.IGNORECASE)


def _vgg_matches(build_func_name, stored):
    return bool(VGG_NAME.search(build_func_name)) or vgg16.looks_like_vgg(stored)


def _vgg_load(net):
    return vgg16.build_from_layout(net.name, net.stored_arrays())


def _vgg_source_problems(net):
    return vgg16.source_problems(net.build_module_src or '') + vgg16.buffer_problems(net.stored_arrays())


def _vgg_layout(net):
    stored = net.stored_arrays()
    return vgg16.find_layout(stored).lines(stored)


ENTRIES = [
    Entry('G_style', GENERATOR, lambda f, s: f == 'G_style',
          _generator(lambda name, kwargs, comps: stylegan.GStyle(name, kwargs, comps)),
          _generator_source_problems('G_style')),
    Entry('G_mapping', GENERATOR, lambda f, s: f == 'G_mapping',
          _generator(lambda name, kwargs, comps: stylegan.GMapping(name, kwargs)),
          _generator_source_problems('G_mapping')),
    Entry('G_synthesis', GENERATOR, lambda f, s: f == 'G_synthesis',
          _generator(lambda name, kwargs, comps: stylegan.GSynthesis(name, kwargs)),
          _generator_source_problems('G_synthesis')),
    Entry('D_basic', DISCRIMINATOR, lambda f, s: f == 'D_basic',
          _not_rebuilt('the StyleGAN discriminator (not used by any metric)')),
    Entry('VGG-16 features', FEATURE_NETWORK, _vgg_matches, _vgg_load, _vgg_source_problems, _vgg_layout),
]


def lookup(build_func_name, stored):
    """The Entry that rebuilds a network with this build function name and stored variables, or None."""
    for entry in ENTRIES:
        if entry.matches(build_func_name, stored):
            return entry
    return None


def why_not_vgg(stored):
    """The reason (with the stored-variable list) why these variables are not a VGG-16 layout, or ''."""
    try:
        vgg16.find_layout(stored)
    except vgg16.LayoutError as e:
        return str(e)
    return ''


def known_names():
    return [e.name for e in ENTRIES if e.kind != FEATURE_NETWORK] + \
        ['a VGG-16 feature network (recognised by its variables, any build function name)']
