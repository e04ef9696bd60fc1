"""Which TF2 rebuild serves a stored network: one row per kind, matched by build function name or by structure.

A row says how to recognise a stored network (`matches(build_func_name, stored)`), how to
rebuild it and load its values (`load(net)` -> a BuiltNetwork with values assigned), which
assumptions of the rebuild the stored network contradicts (`source_problems(net)` -> strings,
from its source and, for VGG, its mean/std buffers), how to describe the mapping from stored
variables to the rebuild (`layout(net)` -> lines), and -- for rows that recognise networks by
structure -- why some stored variables are not theirs (`why_not(stored)` -> a reason).
The loader (networks/loading.py) attaches the matching row to each loaded network as its
`rebuild`. A new network kind is one more row.
"""
import re

import numpy as np

from networks import stylegan, stylegan2, vgg16
from networks.base import stored_shapes

GENERATOR = 'generator'
FEATURE_NETWORK = 'feature network'
DISCRIMINATOR = 'discriminator'


class Entry:
    matched = True

    refusal = None  # a network this row recognises is refused with this reason, not rebuilt (RefusedEntry)

    def __init__(self, name, kind, matches, load, source_problems=None, layout=None, why_not=None, components=None):
        self.name, self.kind, self.matches, self.load = name, kind, matches, load
        self.why_not = why_not
        # component key -> the build function the rebuild requires there, or the row that rebuilds it inside this
        # network (StyleGAN2's G_main: its G_mapping is not StyleGAN's G_mapping)
        self.components = components or {}
        self.component_rows = {key: row for key, row in self.components.items() if isinstance(row, Entry)}
        self.source_problems = source_problems or (lambda net: [])
        self.layout = layout or (lambda net: ['  %s %s -> %s (by name)' % (n, list(np.shape(v)), n)
                                              for n, v in net.stored_arrays().items()])


class RefusedEntry(Entry):
    """A row that recognises a network in order to refuse it with a precise reason (see NoRebuild)."""

    def __init__(self, name, kind, matches, refusal, components=None):
        super().__init__(name, kind, matches, None, components=components)
        self.refusal = refusal


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
        with stored_shapes(net.name, net.stored_arrays()):  # no variable the file does not hold is ever made
            module = cls_factory(net.name, dict(net.static_kwargs), net.components)
        return assign_by_name(net, module)
    return load


def _generator_source_problems(build_func_name, markers=('fused_scale', 'instance_norm', 'style_mod')):
    def problems(net):
        src = net.build_module_src or ''
        needed = ['def %s(' % build_func_name] + list(markers)
        return ['the source has no %r' % marker for marker in needed if marker not in src]
    return problems


STYLEGAN2_MARKERS = ('modulated_conv2d_layer', 'fused_modconv', 'resample_kernel')
STYLEGAN2_MAPPING = Entry('G_mapping (StyleGAN2)', GENERATOR, lambda f, s: f == 'G_mapping',
                          _generator(lambda name, kwargs, comps: stylegan2.G2Mapping(name, kwargs)),
                          _generator_source_problems('G_mapping', STYLEGAN2_MARKERS))


def _not_rebuilt(what):
    def load(net):
        raise NotImplementedError('network %r: %s is %s and is not rebuilt in TF2' % (net.name, net.build_func_name,
                                                                                       what))
    return load


ADA_REFUSAL = ('a StyleGAN2-ADA generator (G_main over G_mapping and G_synthesis, NVlabs/stylegan2-ada '
               'training/networks.py). This project rebuilds StyleGAN2\'s G_synthesis_stylegan2, and ADA\'s '
               'synthesis adds what that rebuild lacks: conv_clamp (convolution outputs clamped, e.g. to +-256), '
               'float16 layers at the num_fp16_res highest resolutions, and its own fused_modconv path. A rebuild '
               'without them would draw other images, so none is made')


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


def _vgg_why_not(stored):
    try:
        vgg16.find_layout(stored)
    except vgg16.LayoutError as e:
        return 'not a VGG-16 layout: %s' % e
    return ''


ENTRIES = [
    Entry('G_style', GENERATOR, lambda f, s: f == 'G_style',
          _generator(lambda name, kwargs, comps: stylegan.GStyle(name, kwargs, comps)),
          _generator_source_problems('G_style'), components={'synthesis': 'G_synthesis', 'mapping': 'G_mapping'}),
    Entry('G_mapping', GENERATOR, lambda f, s: f == 'G_mapping',
          _generator(lambda name, kwargs, comps: stylegan.GMapping(name, kwargs)),
          _generator_source_problems('G_mapping')),
    Entry('G_synthesis', GENERATOR, lambda f, s: f == 'G_synthesis',
          _generator(lambda name, kwargs, comps: stylegan.GSynthesis(name, kwargs)),
          _generator_source_problems('G_synthesis')),
    Entry('D_basic', DISCRIMINATOR, lambda f, s: f == 'D_basic',
          _not_rebuilt('the StyleGAN discriminator (not used by any metric)')),
    Entry('G_main', GENERATOR, lambda f, s: f == 'G_main',
          _generator(lambda name, kwargs, comps: stylegan2.GMain(name, kwargs, comps)),
          _generator_source_problems('G_main', STYLEGAN2_MARKERS),
          components={'synthesis': 'G_synthesis_stylegan2', 'mapping': STYLEGAN2_MAPPING}),
    RefusedEntry('G_main (StyleGAN2-ADA)', GENERATOR, lambda f, s: f == 'G_main', ADA_REFUSAL,
                 components={'synthesis': 'G_synthesis', 'mapping': 'G_mapping'}),
    Entry('G_synthesis_stylegan2', GENERATOR, lambda f, s: f == 'G_synthesis_stylegan2',
          _generator(lambda name, kwargs, comps: stylegan2.G2Synthesis(name, kwargs)),
          _generator_source_problems('G_synthesis_stylegan2', STYLEGAN2_MARKERS)),
    Entry('D_stylegan2', DISCRIMINATOR, lambda f, s: f == 'D_stylegan2',
          _not_rebuilt('the StyleGAN2 discriminator (not used by any metric)')),
    Entry('a VGG-16 feature network (recognised by its variables, any build function name)', FEATURE_NETWORK,
          _vgg_matches, _vgg_load, _vgg_source_problems, _vgg_layout, _vgg_why_not),
]


def lookup(build_func_name, stored, components=None):
    """The Entry that rebuilds a network with this build function name, stored variables and components
    ({key: build function name}; None: not checked), or None."""
    for entry in ENTRIES:
        if entry.matches(build_func_name, stored) and _components_fit(entry, components):
            return entry
    return None


def _components_fit(entry, components):
    return components is None or all(
        components.get(key) == want if isinstance(want, str) else want.matches(components.get(key), {})
        for key, want in entry.components.items())


def _required(entry):
    """{component key: build function name} a row requires (for messages)."""
    return {key: want if isinstance(want, str) else want.name for key, want in entry.components.items()}


def component_funcs(net):
    """{component key: build function name} of a stored network."""
    return {key: comp.build_func_name for key, comp in net.components.items()}


def rebuilt_names():
    """What the rows rebuild, for error messages."""
    return [e.name for e in ENTRIES]


def structural_reasons(stored):
    """Why each row that recognises networks by structure does not take these stored variables (one string)."""
    reasons = [entry.why_not(stored) for entry in ENTRIES if entry.why_not is not None]
    return ' '.join(r[0].upper() + r[1:] for r in reasons if r)


class NoRebuild:
    """Attached to a stored network that no row rebuilds: its kind is 'unknown' and using it names the reason."""
    kind = 'unknown'
    matched = False

    def __init__(self, build_func_name, stored, components=None, refusal=None):
        named = lookup(build_func_name, stored)
        if refusal:
            self.unknown = refusal
        elif named is not None and not _components_fit(named, components):
            self.unknown = ('build function %r with components %s: this rebuild follows %s with %s (the wrapper and '
                            'its components contradict each other, e.g. a StyleGAN2 or StyleGAN2-ADA generator under '
                            'another name); it is not rebuilt in TF2: run its stored code with --trust_pickle_code'
                            % (build_func_name, components, named.name, _required(named)))
        else:
            self.unknown = 'unknown build function %r; this project rebuilds %s' % (build_func_name, rebuilt_names())
        self.details = structural_reasons(stored)
        self.reason = '%s. %s' % (self.unknown, self.details)

    def load(self, net):
        raise ValueError('network %r: %s' % (net.name, self.reason))

    layout = load

    def source_problems(self, net):
        return []


def rebuild_of(build_func_name, stored, components=None):
    """The row that rebuilds this stored network, or a NoRebuild that says why none does."""
    row = lookup(build_func_name, stored, components)
    if row is not None and row.refusal:
        return NoRebuild(build_func_name, stored, components, row.refusal)
    return row or NoRebuild(build_func_name, stored, components)


def rebuild_for(net, kind=None):
    """The row for this stored network; with `kind`, a structural row of that kind is tried even when the network's
    build function name says nothing (e.g. a TorchScript archive) -> Entry, or ValueError with the reason."""
    entry = lookup(net.build_func_name, net.stored_arrays())
    if entry is None and kind is not None:
        for row in ENTRIES:
            if row.kind == kind and row.why_not is not None and not row.why_not(net.stored_arrays()):
                return row
    if entry is None or (kind is not None and entry.kind != kind):
        raise ValueError(NoRebuild(net.build_func_name, net.stored_arrays()).reason)
    return entry
