"""Check a network file against this project's TF2 rebuild: `python -m networks.check_pickle FILE [--trust_pickle_code]`.

For a dnnlib pickle (vgg16.pkl, a StyleGAN pickle) it prints, per network: build function,
static kwargs, the stored variable table, the sha256 of the stored build source and where it
was saved, the rebuild's layout mapping, and the assumptions of the rebuild that the source
contradicts. With --trust_pickle_code it also runs the safe rebuild and the pickle's own code on
the same inputs (VGG: random uint8 images at 224x224, 256x256, 1024x1024 and 96x160;
generators: fixed latents, randomize_noise=False, psi 1.0 and 0.7) and prints the differences.

For a TorchScript archive (NVIDIA's vgg16.pt) it prints the parameters, the archive's own
`forward` source, the layout mapping and what in the archive contradicts the rebuild's
preprocessing (resize method and size, mean/std, output layer). Nothing is executed.

Exit status: 0 = agreement (or nothing contradicts, without --trust_pickle_code), 1 = the
rebuild disagrees or the source contradicts it, 2 = the file cannot be checked.
"""
import argparse
import os
import sys

import numpy as np

FEATURE_RTOL = 1e-4  # max |safe - trusted| / max |trusted| allowed for features
IMAGE_FRACTION = 1e-4  # uint8 images: values may differ by 1 on at most 0.01% of them
VGG_SIZES = [(224, 224), (256, 256), (1024, 1024), (96, 160)]


def _networks_of(obj):
    """Distinct networks of a loaded pickle with their components, depth first: [(label, net)]."""
    items = obj if isinstance(obj, (tuple, list)) else (obj,)
    out, seen = [], set()

    def visit(label, net):
        if id(net) in seen:
            return
        seen.add(id(net))
        out.append((label, net))
        for key, comp in net.components.items():
            visit('%s.components.%s' % (label, key), comp)
    for index, net in enumerate(items):
        visit('item %d (%s)' % (index, net.name) if len(items) > 1 else net.name, net)
    return out


def describe_network(label, net, notes_dir):
    """Printable report of one stored network; returns (lines, problems)."""
    from dnnlib.tflib.safe_pickle import build_source_sha256
    from networks import loading, vgg16
    from networks.loading import is_verified_source, source_problems
    lines = ['== %s: network %r, build function %r, version %s, kind: %s'
             % (label, net.name, net.build_func_name, net.version, net.kind),
             'static kwargs: %s' % dict(net.static_kwargs),
             'stored variables (%d):' % len(net.stored_arrays())] + vgg16.variable_table(net.stored_arrays())
    sha = build_source_sha256(net)
    lines.append('build_module_src: %d characters, sha256 %s%s' % (len(net.build_module_src or ''), sha,
                                                                  ' (verified)' if is_verified_source(net) else ''))
    if notes_dir:
        src_path, layout_path, _ = loading.save_network_notes(net, notes_dir)
        lines.append('saved: %s and %s' % (src_path, layout_path))
    problems = []
    if not net.rebuild.matched:
        problems.append('no TF2 rebuild recognises this network (the safe path cannot load it): %s'
                        % net.rebuild.unknown)
    else:
        lines.append('layout (stored name [shape] -> role in the rebuild):')
        try:
            lines += loading.layout_lines(net)
        except ValueError as e:
            problems.append(str(e))
        problems += source_problems(net)
    lines += ['contradicts the rebuild: ' + p for p in problems] or ['nothing in the stored source contradicts the '
                                                                     'rebuild\'s assumptions']
    return lines, problems


def compare_feature_networks(safe, trusted, num):
    """(lines, ok): features of both paths on random uint8 images of VGG_SIZES."""
    lines, ok = [], True
    rs = np.random.RandomState(0)
    for height, width in VGG_SIZES:
        images = rs.randint(0, 256, size=(num, 3, height, width)).astype(np.uint8)
        a = safe.run(images, minibatch_size=2)
        b = trusted.run(images, minibatch_size=2)
        diff = float(np.abs(a - b).max())
        rel = diff / max(float(np.abs(b).max()), 1e-30)
        good = a.shape == b.shape and rel <= FEATURE_RTOL
        ok &= good
        lines.append('  %4dx%-4d features %s: max abs diff %.3g, max rel diff %.3g  %s'
                     % (height, width, list(a.shape), diff, rel, 'OK' if good else 'DISAGREE'))
    return lines, ok


def compare_generators(safe, trusted, num):
    """(lines, ok): images of both paths for fixed latents, randomize_noise=False, psi 1.0 and 0.7."""
    import dnnlib.tflib as tflib
    lines, ok = [], True
    latents = np.random.RandomState(0).randn(num, *safe.input_shape[1:])
    fmt = dict(func=tflib.convert_images_to_uint8)
    for psi in (1.0, 0.7):
        kwargs = dict(truncation_psi=psi, randomize_noise=False)
        a = safe.run(latents, None, minibatch_size=2, **kwargs)
        b = trusted.run(latents, None, minibatch_size=2, **kwargs)
        a8 = safe.run(latents, None, minibatch_size=2, output_transform=fmt, **kwargs).astype(np.int16)
        b8 = trusted.run(latents, None, minibatch_size=2, output_transform=fmt, **kwargs).astype(np.int16)
        off = np.abs(a8 - b8)
        good = a.shape == b.shape and off.max() <= 1 and (off > 0).sum() <= IMAGE_FRACTION * off.size
        ok &= bool(good)
        lines.append('  psi %.1f images %s: float max abs diff %.3g; uint8 off by 1: %d of %d values, max %d  %s'
                     % (psi, list(a.shape), float(np.abs(a - b).max()), int((off > 0).sum()), off.size,
                        int(off.max()), 'OK' if good else 'DISAGREE'))
    return lines, ok


def check_pickle(path, trust_code=False, num=4, notes_dir=None):
    """Report on a dnnlib pickle -> (lines, exit status)."""
    from networks import loading
    with open(path, 'rb') as f:
        data = f.read()
    obj = loading.read_networks(data)
    lines, problems = ['file: %s (%d bytes)' % (path, len(data))], []
    for label, net in _networks_of(obj):
        more, found = describe_network(label, net, notes_dir)
        lines += more
        if net.kind != 'discriminator' and 'components' not in label:  # the networks a metric would use
            problems += found
    if not trust_code:
        lines.append('Run with --trust_pickle_code to compare the rebuild with the pickle\'s own code on the same '
                     'inputs (this executes the code stored in the file).')
        return lines, 1 if problems else 0
    safe = obj[2] if isinstance(obj, (tuple, list)) else obj
    if safe.kind not in ('generator', 'feature network'):
        lines.append('nothing to compare: no TF2 rebuild recognises the main network (%s)' % safe.kind)
        return lines, 1
    import io
    trusted = loading.load_network_file(io.BytesIO(data), trust_code=True)
    trusted = trusted[2] if isinstance(trusted, (tuple, list)) else trusted
    lines.append('rebuild vs the pickle\'s own code (%s %r):' % (safe.kind, safe.name))
    compare = compare_feature_networks if safe.kind == 'feature network' else compare_generators
    more, ok = compare(safe, trusted, num)
    lines += more
    lines.append('AGREEMENT within tolerance' if ok else 'DISAGREEMENT: the TF2 rebuild does not compute what the '
                                                         'pickle\'s code computes; please report it')
    return lines, 0 if ok else 1


def check_torchscript(path):
    """Report on a TorchScript archive -> (lines, exit status)."""
    from networks import loading, vgg16
    net = loading.network_from_torchscript(path)
    archive = net.archive
    lines = ['file: %s (TorchScript archive %r, root class %s)' % (path, archive.name, archive.classes['']),
             'parameters and buffers (%d):' % len(archive.arrays)] + vgg16.variable_table(archive.arrays)
    lines += ['forward source (code/%s):' % archive.classes[''].rpartition('.')[0].replace('.', '/'),
              archive.forward_source().rstrip(), 'layout (archive attribute [shape] -> role in the rebuild):']
    lines += loading.layout_lines(net)
    problems = vgg16.torchscript_problems(archive)
    lines += ['contradicts the rebuild: ' + p for p in problems] or [
        'nothing in the archive contradicts the rebuild (TF1 bilinear resize to 224, ImageNet mean/std, fc2 after '
        'ReLU)']
    return lines, 1 if problems else 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('file', help='network pickle (.pkl) or TorchScript archive (.pt), local path')
    p.add_argument('--trust_pickle_code', action='store_true',
                   help='also run the code stored in the pickle and compare (executes code from the file!)')
    p.add_argument('--num', type=int, default=4, help='images or latents per comparison (default 4)')
    p.add_argument('--cache_dir', default=None, help='the source and layout are saved under '
                                                              '<cache_dir>/network_sources')
    args = p.parse_args(argv)
    from dnnlib.tf_logging import quiet_tensorflow
    quiet_tensorflow()
    from dnnlib import util
    from dnnlib.tflib import NetworkPickleError
    from networks import torchscript
    try:
        if args.num < 1:
            raise ValueError('--num must be >= 1')
        if not os.path.isfile(args.file):
            raise FileNotFoundError('no such file: %s' % args.file)
        if torchscript.is_torchscript(args.file):
            lines, status = check_torchscript(args.file)
            if args.trust_pickle_code:
                lines.append('--trust_pickle_code: a TorchScript archive\'s code needs PyTorch to run; compare with '
                             'your PyTorch port instead (the weights and the rebuild above are what this project uses)')
        else:
            notes = util.cache_subfolder('network notes', args.cache_dir)
            lines, status = check_pickle(args.file, args.trust_pickle_code, args.num, notes)
    except (ValueError, NetworkPickleError, FileNotFoundError, OSError) as e:
        print('error: %s' % e, file=sys.stderr)
        return 2
    print('\n'.join(lines))
    return status


if __name__ == '__main__':
    sys.exit(main())
