"""Weight files -> networks: dnnlib pickles (safe rebuild, or the pickle's own code when trusted) and TorchScript.

Every path returns objects with the official `Network` interface (`run`, `input_shape`,
`output_shape`, `name`, `fingerprint()`), a `kind` ('generator', 'feature network', ...) and a
`load_path` saying how the features are computed:

* SAFE_REBUILD: a dnnlib pickle rebuilt by this project's TF2 code (default; nothing executed);
* TRUSTED_CODE: a dnnlib pickle evaluated by its own stored TF1 source (`trust_code=True`);
* TORCHSCRIPT: the weights of a TorchScript VGG-16 (`vgg16.pt`) in the same TF2 rebuild.
"""
import os

from dnnlib import torchscript
from dnnlib.tflib.network import Network, NetworkPickleError
from dnnlib.tflib.safe_pickle import build_source_sha256, is_verified_source, load_network_pkl, source_problems

SAFE_REBUILD = Network.load_path
TRUSTED_CODE = 'trusted pickle code'  # = TrustedNetwork.load_path
TORCHSCRIPT = 'TorchScript weights'
ZIP_MAGIC = b'PK\x03\x04'


def is_zip(f):
    """True when the binary file object starts like a zip archive (TorchScript); the position is kept."""
    position = f.tell()
    head = f.read(4)
    f.seek(position)
    return head == ZIP_MAGIC


def network_from_torchscript(file_or_path):
    """A TorchScript VGG-16 (e.g. NVIDIA's vgg16.pt) as a dnnlib Network evaluated by the TF2 VGG16 rebuild.

    The archive's parameters become the Network's stored variables (attribute paths as names),
    its TorchScript source becomes `build_module_src`; the VGG-16 layout is found by structure.
    """
    archive = torchscript.read_torchscript(file_or_path)
    state = {'version': 5, 'name': archive.name, 'static_kwargs': {}, 'components': {},
             'build_module_src': archive.forward_source(), 'build_func_name': 'torchscript:%s' % archive.classes[''],
             'variables': list(archive.arrays.items())}
    net = Network.__new__(Network)
    net.__setstate__(state)
    if net.kind != 'feature network':
        from networks import vgg16
        try:
            vgg16.find_layout(archive.arrays)
        except vgg16.LayoutError as e:
            raise NetworkPickleError('TorchScript archive %s is not a VGG-16 feature network: %s'
                                     % (getattr(file_or_path, 'name', file_or_path), e)) from e
    net.load_path = TORCHSCRIPT
    net.archive = archive
    return net


def load_network_file(file_or_path, trust_code=False):
    """A dnnlib pickle or a TorchScript archive -> Network, or tuple of Networks (as the pickle holds them)."""
    if isinstance(file_or_path, (str, os.PathLike)):
        if not os.path.isfile(file_or_path):
            raise FileNotFoundError('no such network file: %s' % file_or_path)
        with open(file_or_path, 'rb') as f:
            return load_network_file(f, trust_code)
    if is_zip(file_or_path):
        return network_from_torchscript(file_or_path)
    return load_network_pkl(file_or_path, trust_code=trust_code)


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


def describe_layout(net):
    """Lines of the stored-variable -> rebuild mapping; generators (by name) get one summary line."""
    if net.load_path == TRUSTED_CODE:
        return ['  evaluated by its own stored code (no mapping)']
    if net.kind == 'feature network':
        return net.layout()
    count = len(net.stored_arrays()) + sum(len(c.stored_arrays()) for c in net.components.values())
    return ['  %d stored variables assigned by name to the TF2 rebuild of %s' % (count, net.build_func_name)]


def save_network_notes(net, folder):
    """Write the network's stored source and its layout into `folder`; returns (source path, layout path, new).

    `new` is False when the same source was saved before (the user has seen the pointer to check_pickle).
    """
    import utils
    state = getattr(net, 'state', net)  # a TrustedNetwork keeps the dnnlib state it was made from
    sha = build_source_sha256(state)
    stem = os.path.join(folder, '%s_%s' % (net.name.replace('/', '_'), sha[:12]))
    src_path, layout_path = stem + '.build_module_src.py', stem + '.layout.txt'
    new = not os.path.isfile(src_path)
    with utils.atomic_output(src_path) as f:
        f.write(net.build_module_src or '')
    lines = ['network: %s' % net.name, 'build function: %s' % net.build_func_name,
             'static kwargs: %s' % dict(net.static_kwargs), 'load path: %s' % net.load_path,
             'build_module_src sha256: %s%s' % (sha, ' (verified)' if is_verified_source(state) else ''),
             'layout (stored name [shape] -> role in the rebuild):'] + describe_layout(net)
    problems = source_problems(state)
    if problems:
        lines += ['assumptions the stored source contradicts:'] + ['  ' + p for p in problems]
    with utils.atomic_output(layout_path) as f:
        f.write('\n'.join(lines) + '\n')
    return src_path, layout_path, new
