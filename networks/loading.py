"""The one entry point from a network file (or its published sources) to a network that runs.

    load_network(sources, kind, cache_dir, trust_code) -> Network-like object

Steps, all here: open the first source that delivers a whole file (networks/sources.py: URLs,
mirrors, downloads, checksums); read it -- a dnnlib pickle with the allow-list unpickler
(dnnlib/tflib/safe_pickle.py) or a TorchScript archive (networks/torchscript.py); attach the TF2
rebuild that the registry (networks/registry.py) finds for each network, or -- only with
`trust_code` -- run the pickle's own code (dnnlib/tflib/trusted_exec.py); pick the network of the
asked kind; note its stored source and layout in the cache. Every path returns objects with the
official `Network` interface (`run`, `input_shape`, `output_shape`, `name`, `fingerprint()`), a
`kind` and a `load_path`:

* SAFE_REBUILD: a dnnlib pickle rebuilt by this project's TF2 code (default; nothing executed);
* TRUSTED_CODE: a dnnlib pickle evaluated by its own stored TF1 source (`trust_code=True`);
* TORCHSCRIPT: the weights of a TorchScript VGG-16 (`vgg16.pt`) in the same TF2 rebuild.
"""
import os
import warnings

from dnnlib import owned_files, util
from dnnlib.output_files import atomic_output
from dnnlib.tflib import trusted_exec
from dnnlib.tflib.network import Network, NetworkPickleError
from dnnlib.tflib.safe_pickle import build_source_sha256, read_network_states
from networks import registry, sources, torchscript

SAFE_REBUILD = Network.load_path
TRUSTED_CODE = trusted_exec.TrustedNetwork.load_path
TORCHSCRIPT = 'TorchScript weights'
ZIP_MAGIC = b'PK\x03\x04'
WHAT = {'generator': 'StyleGAN pickle', 'feature network': 'feature network file'}

# sha256 of build_module_src texts whose build functions our rebuild follows (checked by running both).
VERIFIED_SOURCES = {
    '59128b51ac64d5565b79017275f51532e7797bf1a1b701f5c1316bf8c6a4c959':
        'NVlabs/stylegan training/networks_stylegan.py (1e0d5c7)',
    'e9e77f184660883fdfd9b283d3c11e076859a5e8192ee7c9b4c1c70d84c1b0b6':
        'NVlabs/stylegan2 training/networks_stylegan2.py (bf0fe0b)',
}
PLACEHOLDER_SOURCES = ('# network source omitted from this fixture',)


def load_network(network_sources, kind, cache_dir=util.CACHE_DIR, trust_code=False, verbose=True):
    """The network of `kind` ('generator' or 'feature network') from the first working source.

    network_sources: a path or URL, or a sequence of sources.NetworkSource (None: the official ones).
    Returns the network with `.source` (url or path used) and `.load_path` set. A cached download
    that turns out unreadable is removed (only when the cache's ledger proves the tool wrote it, unchanged: see
    dnnlib.owned_files) and named in the error, so a rerun fetches it again; a file you gave (a path or a file://
    URL) is named and never touched.
    """
    f, source = sources.open_network(network_sources or sources.DEFAULT_SOURCES[kind], check_network_file, cache_dir,
                                     verbose)
    with f:
        try:
            nets = load_network_file(f, trust_code=trust_code)
        except util.CorruptFileError as e:
            raise type(e)(_damaged_file_message(f, source, e)) from e
        net = pick_network(nets, kind, '%s %s' % (WHAT.get(kind, kind), source.url))
    net.source = source.url
    _note_network(net, cache_dir, verbose)
    return net


def _damaged_file_message(f, source, error):
    """The error text for a network file that does not parse; removes it only when it is the tool's own download."""
    if not util.is_download(source.url):
        return '%s: %s (your file is left as it is)' % (source.url, error)
    cached = getattr(f, 'name', None)
    f.close()
    if not isinstance(cached, str):
        return '%s: %s' % (source.url, error)
    removed, reason = owned_files.remove_file_if_owned(cached)
    if removed:
        return '%s: %s (this cached copy was removed; run again to download it anew)' % (cached, error)
    aside = owned_files.set_aside(cached)  # not provably the tool's as it is now: its bytes are kept
    if aside:
        return ('%s: %s (this cached copy, %s, was moved aside to %s; run again to download it anew)'
                % (cached, error, reason, aside))
    return '%s: %s (the cached copy %s was kept: %s)' % (source.url, error, cached, reason)


def check_network_file(path):
    """Raise unless `path` is a complete network file (a parsable dnnlib pickle or TorchScript archive)."""
    with open(path, 'rb') as f:
        if is_zip(f):
            torchscript.read_torchscript(f)
        else:
            read_network_states(f.read())


def is_zip(f):
    """True when the binary file object starts like a zip archive (TorchScript); the position is kept."""
    position = f.tell()
    head = f.read(4)
    f.seek(position)
    return head == ZIP_MAGIC


def load_network_file(file_or_path, trust_code=False):
    """A dnnlib pickle or a TorchScript archive -> Network, or tuple of Networks (as the pickle holds them).

    trust_code=False (default): networks are rebuilt by this project's TF2 code; nothing from the file
    runs. trust_code=True: each pickled network's stored `build_module_src` is executed in a TF1-compatible
    graph, as the official dnnlib does -- only for files you trust. Raises NetworkPickleError for corrupt
    files, unexpected globals, unknown build functions (safe path) and malformed states.
    """
    if isinstance(file_or_path, (str, os.PathLike)):
        if not os.path.isfile(file_or_path):
            raise FileNotFoundError('no such network file: %s' % file_or_path)
        with open(file_or_path, 'rb') as f:
            return load_network_file(f, trust_code)
    if is_zip(file_or_path):
        return network_from_torchscript(file_or_path)
    obj = read_networks(file_or_path.read())
    items = obj if isinstance(obj, (tuple, list)) else (obj,)
    if trust_code:
        trusted_exec.warn_loudly('the network pickle', ', '.join(sorted({net.name for net in items})))
        built = {}
        for net in items:  # the same network may appear several times (vgg16.pkl's (net, net, net))
            if id(net) not in built:
                built[id(net)] = trusted_exec.TrustedNetwork(net)
        trusted = [built[id(net)] for net in items]
        return type(obj)(trusted) if isinstance(obj, (tuple, list)) else trusted[0]
    for net in items:
        _check_rebuildable(net)
        _warn_about_source(net)
    return obj


def read_networks(data):
    """Pickle bytes -> Network or tuple of Networks with their TF2 rebuilds attached (registry.NoRebuild if none)."""
    obj = read_network_states(data)
    for net in obj if isinstance(obj, (tuple, list)) else (obj,):
        attach_rebuilds(net)
    return obj


def attach_rebuilds(net, rebuild=None):
    """Give `net` and its components the registry row that rebuilds each (a registry.NoRebuild where none does).

    A row may name the rows of its components (StyleGAN2's G_main: its G_mapping is not StyleGAN's G_mapping).
    """
    net.rebuild = rebuild or registry.rebuild_of(net.build_func_name, net.stored_arrays(),
                                                 registry.component_funcs(net))
    rows = getattr(net.rebuild, 'component_rows', {})
    for key, comp in net.components.items():
        attach_rebuilds(comp, rows.get(key))


def _check_rebuildable(net):
    for comp in net.components.values():
        _check_rebuildable(comp)
    if not net.rebuild.matched:
        raise NetworkPickleError('network %r: %s (or run the stored code with --trust_pickle_code). %s'
                                 % (net.name, net.rebuild.unknown, net.rebuild.details))


def network_from_torchscript(file_or_path):
    """A TorchScript VGG-16 (e.g. NVIDIA's vgg16.pt) as a dnnlib Network evaluated by the TF2 VGG16 rebuild.

    The archive's parameters become the Network's stored variables (attribute paths as names),
    its TorchScript source becomes `build_module_src`; the layout is found by structure.
    """
    archive = torchscript.read_torchscript(file_or_path)
    state = {'version': 5, 'name': archive.name, 'static_kwargs': {}, 'components': {},
             'build_module_src': archive.forward_source(), 'build_func_name': 'torchscript:%s' % archive.classes[''],
             'variables': list(archive.arrays.items())}
    net = Network.__new__(Network)
    net.__setstate__(state)
    try:
        net.rebuild = registry.rebuild_for(net, registry.FEATURE_NETWORK)
    except ValueError as e:
        raise NetworkPickleError('TorchScript archive %s holds no feature network this project rebuilds: %s'
                                 % (getattr(file_or_path, 'name', file_or_path), e)) from e
    net.load_path = TORCHSCRIPT
    net.archive = archive
    return net


def pick_network(nets, kind, what):
    """The network of `kind` in a loaded file: the third item of an official 3-tuple, or the single network.

    Raises ValueError when the file holds another kind (e.g. a VGG pickle given as the generator).
    """
    if isinstance(nets, (tuple, list)):
        if len(nets) != 3:
            raise ValueError('%s: expected a 3-tuple pickle (as the official files), got %d items' % (what, len(nets)))
        nets = nets[2]
    if nets.kind == 'unknown' and nets.load_path == TRUSTED_CODE:
        print('Note: %s: no TF2 rebuild recognises this network; it is used as the %s because its own code was '
              'trusted (--trust_pickle_code)' % (what, kind))
        return nets
    if nets.kind != kind:
        article = 'an' if nets.kind[0] in 'aeiou' else 'a'
        raise ValueError('%s: this file holds %s %s (%s), not a %s' % (what, article, nets.kind, nets.build_func_name,
                                                                     kind))
    return nets


# ---- what is known about a network's stored source ---------------------------------------------------------

def _source_left_out(net):
    """The network's stored source is a placeholder (this project's fixtures carry no NVIDIA code)."""
    return (net.build_module_src or '') in PLACEHOLDER_SOURCES


def _own_source_known(net):
    """The network's own stored source (not its components') is verified or a fixture placeholder."""
    return _source_left_out(net) or build_source_sha256(net) in VERIFIED_SOURCES


def is_verified_source(net):
    """True when the network's stored source (and its components') is in VERIFIED_SOURCES or a placeholder."""
    return _own_source_known(net) and all(is_verified_source(comp) for comp in net.components.values())


def source_problems(net):
    """Assumptions of the rebuild that the stored network `net` (not its components) contradicts (none when its
    source was left out, as in this project's fixtures)."""
    return [] if _source_left_out(net) else list(net.rebuild.source_problems(net))


def _warn_about_source(net):
    """Warn when the stored source contradicts what the rebuild assumes."""
    for comp in net.components.values():
        _warn_about_source(comp)
    if _own_source_known(net):
        return
    problems = source_problems(net)
    if problems:
        warnings.warn('network %r: its stored build source differs from what this rebuild assumes: %s'
                      % (net.name, '; '.join(problems)))


def describe_layout(net):
    """Lines of the stored-variable -> rebuild mapping; generators (by name) get one summary line."""
    if net.load_path == TRUSTED_CODE:
        return ['  evaluated by its own stored code (no mapping)']
    if net.kind == 'feature network':
        return layout_lines(net)
    count = len(net.stored_arrays()) + sum(len(c.stored_arrays()) for c in net.components.values())
    return ['  %d stored variables assigned by name to the TF2 rebuild of %s' % (count, net.build_func_name)]


def layout_lines(net):
    """Lines 'stored name [shape] -> role in the rebuild', one per stored variable (NetworkPickleError if none fits)."""
    try:
        return net.rebuild.layout(net)
    except ValueError as e:
        raise NetworkPickleError(str(e)) from e


def save_network_notes(net, folder):
    """Write the network's stored source and its layout into `folder`; returns (source path, layout path, new).

    `new` is False when the same source was saved before (the user has seen the pointer to check_pickle).
    """
    state = getattr(net, 'state', net)  # a TrustedNetwork keeps the dnnlib state it was made from
    sha = build_source_sha256(state)
    stem = os.path.join(folder, '%s_%s' % (net.name.replace('/', '_'), sha[:12]))
    src_path, layout_path = stem + '.build_module_src.py', stem + '.layout.txt'
    new = not os.path.isfile(src_path)
    with atomic_output(src_path) as f:
        f.write(net.build_module_src or '')
    lines = ['network: %s' % net.name, 'build function: %s' % net.build_func_name,
             'static kwargs: %s' % dict(net.static_kwargs), 'load path: %s' % net.load_path,
             'build_module_src sha256: %s%s' % (sha, ' (verified)' if is_verified_source(state) else ''),
             'layout (stored name [shape] -> role in the rebuild):'] + describe_layout(net)
    problems = source_problems(state)
    if problems:
        lines += ['assumptions the stored source contradicts:'] + ['  ' + p for p in problems]
    with atomic_output(layout_path) as f:
        f.write('\n'.join(lines) + '\n')
    return src_path, layout_path, new


_NOTED = set()


def _note_network(net, cache_dir, verbose):
    """Once per network and run: print the layout mapping, save source + layout, point to the check tool."""
    key = (net.fingerprint(), net.load_path)
    if key in _NOTED:
        return
    _NOTED.add(key)
    state = getattr(net, 'state', net)
    if verbose:
        print('%s %r (%s, %s):' % (net.kind.capitalize(), net.name, net.build_func_name, net.load_path))
        print('\n'.join(describe_layout(net)))
    if cache_dir is None:
        return
    owned_files.track(cache_dir)
    try:
        src_path, layout_path, new = save_network_notes(net, util.cache_subfolder('network notes', cache_dir))
    except OSError as e:
        print('Note: could not save the network source beside the cache (%s)' % e)
        return
    if verbose:
        print('Stored build source and layout: %s, %s' % (src_path, layout_path))
    if new and not is_verified_source(state):
        flag = '' if net.load_path == TORCHSCRIPT else ' --trust_pickle_code'
        print('This network\'s stored source is not one this project has verified; to check it against the TF2 '
              'rebuild, run: python -m networks.check_pickle %s%s' % (getattr(net, 'source', '<file>'), flag))
