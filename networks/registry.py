"""Which build function of an official pickle is rebuilt by which TF2 class."""
import re

from networks import stylegan, vgg16

GENERATOR_BUILDERS = {
    'G_style': lambda name, kwargs, comps: stylegan.GStyle(name, kwargs, comps),
    'G_mapping': lambda name, kwargs, comps: stylegan.GMapping(name, kwargs),
    'G_synthesis': lambda name, kwargs, comps: stylegan.GSynthesis(name, kwargs),
}
# The VGG pickle's build function name is not public; any name containing 'vgg' maps here.
VGG_NAME = re.compile(r'vgg', re.IGNORECASE)
# Present in official pickles but never evaluated by the metrics.
NOT_REBUILT = {'D_basic': 'the StyleGAN discriminator (not used by any metric)'}


def is_known(build_func_name):
    return (build_func_name in GENERATOR_BUILDERS or build_func_name in NOT_REBUILT
            or bool(VGG_NAME.search(build_func_name)))


def known_names():
    return sorted(GENERATOR_BUILDERS) + sorted(NOT_REBUILT) + ['<any name containing "vgg">']


def build(name, build_func_name, static_kwargs, components):
    """A BuiltNetwork for `build_func_name` (components: dict key -> dnnlib Network)."""
    if build_func_name in GENERATOR_BUILDERS:
        return GENERATOR_BUILDERS[build_func_name](name, dict(static_kwargs), components)
    if VGG_NAME.search(build_func_name):
        return vgg16.VGG16Features(name, dict(static_kwargs))
    if build_func_name in NOT_REBUILT:
        raise NotImplementedError('network %r: %s is %s and is not rebuilt in TF2'
                                  % (name, build_func_name, NOT_REBUILT[build_func_name]))
    raise ValueError('network %r: unknown build function %r' % (name, build_func_name))


def check_loaded(net, module):
    """Refuse loaded values this rebuild cannot evaluate faithfully (e.g. progressive-growing lod != 0)."""
    lod = getattr(module, 'lod', None)
    if lod is not None and float(lod.numpy()) != 0.0:
        raise NotImplementedError('network %r has lod=%g (a progressive-growing snapshot); only fully grown '
                                  'networks (lod=0) are supported' % (net.name, float(lod.numpy())))


def source_problems(build_func_name, src):
    """Differences between a stored build source and the assumptions of our rebuild (list of strings)."""
    if VGG_NAME.search(build_func_name):
        return vgg16.source_problems(src)
    if build_func_name in GENERATOR_BUILDERS:
        needed = ['def %s(' % build_func_name, 'fused_scale', 'instance_norm', 'style_mod']
        return ['the source has no %r' % marker for marker in needed if marker not in src]
    return []
