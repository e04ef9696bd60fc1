"""Benchmark: images/s of the safe TF2 rebuild of StyleGAN / StyleGAN2 generators against the trusted path.

    python benchmarks/bench_generators.py [--images 4] [--minibatch 2] [--onednn both]
                                          [--stylegan_repo CHECKOUT] [--stylegan2_repo CHECKOUT]

The networks have the real FFHQ-1024 structure (G_style and StyleGAN2's config-f G_main at 1024x1024, 18 style
layers; variables as the rebuild creates them, in the official names, shapes and order) with seeded random
weights. Both paths run in this one process on the same latents with `Gs.run(z, None, truncation_psi=0.7,
randomize_noise=False, minibatch_size=...)`, as NVIDIA's scripts call it, after one warm-up minibatch each; the
best of --repeats is kept and the largest difference of their images printed. The trusted path runs the network
source stored in the pickle in a TF1 graph: NVIDIA's own file from a checkout when given, else (StyleGAN only) the
project's TF1 test source, tests/data/tf1_stylegan_source.py (it has no fused up-convolution, so from 128x128 on
its images are not StyleGAN's: the max diff column shows it, and only its timing compares); StyleGAN2 without a
checkout is timed on the rebuild only. `--onednn both` runs the benchmark under TF_ENABLE_ONEDNN_OPTS=0 and =1 in
subprocesses.
"""
import argparse
import io
import json
import os
import pickle
import subprocess
import sys
import time
import warnings

import numpy as np

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, PROJECT)

from dnnlib.tf_logging import quiet_tensorflow  # noqa: E402

quiet_tensorflow()

import dnnlib.tflib as tflib  # noqa: E402
from networks import stylegan, stylegan2  # noqa: E402
from networks.loading import load_network_file  # noqa: E402

FFHQ = dict(num_channels=3, resolution=1024, label_size=0)
GENERATIONS = {  # build functions of (Gs, synthesis, mapping), the rebuild classes, NVIDIA's source file
    'stylegan': (('G_style', 'G_synthesis', 'G_mapping'), (stylegan.GSynthesis, stylegan.GMapping),
                 'training/networks_stylegan.py'),
    'stylegan2': (('G_main', 'G_synthesis_stylegan2', 'G_mapping'), (stylegan2.G2Synthesis, stylegan2.G2Mapping),
                  'training/networks_stylegan2.py'),
}


def random_network(name, build_func_name, kwargs, variables, source, components=None):
    """A dnnlib Network in the official pickle format, its [(name, shape)] variables filled with seeded numbers
    (lod 0), as unpickling makes it."""
    rnd = np.random.RandomState(len(name))
    values = [(var, (np.zeros(shape) if var == 'lod' else rnd.standard_normal(shape)).astype(np.float32))
              for var, shape in variables]
    net = tflib.Network.__new__(tflib.Network)
    net.__setstate__({'version': 4, 'name': name, 'static_kwargs': dict(kwargs), 'components': components or {},
                      'build_module_src': source, 'build_func_name': build_func_name, 'variables': values})
    return net


def variable_shapes(module):
    """[(official local name, shape)] of a rebuilt module's variables, in creation order."""
    return [(name, var.shape.as_list()) for name, var in module.named_vars.items()]


def ffhq_pickle(generation, source):
    """Pickle bytes of (Gs,) with the FFHQ-1024 structure of `generation` and random weights."""
    (g_func, s_func, m_func), (synthesis_cls, mapping_cls), _ = GENERATIONS[generation]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # kwargs forwarded to the components, as G_style/G_main forward them
        synthesis = synthesis_cls('G_synthesis', FFHQ)
        num_layers = synthesis.input_shapes[0][1]
        mapping = mapping_cls('G_mapping', dict(FFHQ, dlatent_broadcast=num_layers))
    comps = {'synthesis': random_network('G_synthesis', s_func, FFHQ, variable_shapes(synthesis), source),
             'mapping': random_network('G_mapping', m_func, dict(FFHQ, dlatent_broadcast=num_layers),
                                       variable_shapes(mapping), source)}
    gs = random_network('Gs', g_func, FFHQ, [('lod', []), ('dlatent_avg', [512])], source, comps)
    return pickle.dumps((gs,), protocol=4)


def timed_run(net, latents, minibatch, repeats):
    """(best seconds, images) of net.run on all latents, after a warm-up minibatch (tracing / graph building)."""
    kwargs = dict(truncation_psi=0.7, randomize_noise=False, minibatch_size=minibatch)
    net.run(latents[:minibatch], None, **kwargs)
    best, images = float('inf'), None
    for _ in range(repeats):
        start = time.perf_counter()
        images = net.run(latents, None, **kwargs)
        best = min(best, time.perf_counter() - start)
    return best, images


def source_of(generation, args):
    """(network source text, where it came from) for the trusted path, or (None, reason)."""
    repo = args.stylegan_repo if generation == 'stylegan' else args.stylegan2_repo
    if repo:
        with open(os.path.join(repo, GENERATIONS[generation][2]), encoding='utf-8') as f:
            return f.read().lstrip('\ufeff'), "NVIDIA's " + GENERATIONS[generation][2]
    if generation == 'stylegan':
        with open(os.path.join(PROJECT, 'tests', 'data', 'tf1_stylegan_source.py')) as f:
            return f.read(), 'the TF1 test source'
    return None, 'no checkout given (--stylegan2_repo)'


def measure(args):
    """One process: both generations -> list of result dicts."""
    from tensorflow.python.util import _pywrap_util_port
    latents = np.random.RandomState(5).randn(args.images, 512)
    rows = []
    for generation in ('stylegan', 'stylegan2'):
        source, origin = source_of(generation, args)
        data = ffhq_pickle(generation, source or '# no source')
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            (safe,) = load_network_file(io.BytesIO(data))
            t_safe, images = timed_run(safe, latents, args.minibatch, args.repeats)
            row = {'generation': generation, 'onednn': bool(_pywrap_util_port.IsMklEnabled()), 'safe': t_safe,
                   'trusted': None, 'source': origin, 'max_diff': None}
            if source is not None:
                (trusted,) = load_network_file(io.BytesIO(data), trust_code=True)
                row['trusted'], other = timed_run(trusted, latents, args.minibatch, args.repeats)
                row['max_diff'] = float(np.abs(images - other).max())
        rows.append(row)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--images', type=int, default=4)
    parser.add_argument('--minibatch', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=2)
    parser.add_argument('--onednn', choices=['this', 'both'], default='this')
    parser.add_argument('--stylegan_repo', help='a checkout of NVlabs/stylegan (its networks_stylegan.py is timed)')
    parser.add_argument('--stylegan2_repo', help='a checkout of NVlabs/stylegan2 (its networks_stylegan2.py)')
    parser.add_argument('--json', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.onednn == 'both':
        rows = []
        for flag in ('0', '1'):
            command = [sys.executable, os.path.abspath(__file__), '--json'] + sys.argv[1:]
            command.remove('both')
            command.remove('--onednn')
            out = subprocess.run(command, env=dict(os.environ, TF_ENABLE_ONEDNN_OPTS=flag), capture_output=True,
                                 text=True, check=True).stdout
            rows += json.loads(out.split('RESULT ', 1)[1])
    else:
        rows = measure(args)
        if args.json:
            print('RESULT ' + json.dumps(rows))
            return
    print('FFHQ-1024 structure, random weights, %d images, minibatch %d, %d CPUs' % (args.images, args.minibatch,
                                                                                      os.cpu_count()))
    print('%-10s %-7s %12s %14s %9s %10s  %s' % ('generator', 'oneDNN', 'safe img/s', 'trusted img/s', 'ratio',
                                                 'max diff', 'trusted path runs'))
    for r in rows:
        trusted = r['trusted']
        print('%-10s %-7s %12.3f %14s %9s %10s  %s' % (
            r['generation'], 'on' if r['onednn'] else 'off', args.images / r['safe'],
            '%.3f' % (args.images / trusted) if trusted else '-', '%.2fx' % (trusted / r['safe']) if trusted else '-',
            '%.1e' % r['max_diff'] if r['max_diff'] is not None else '-', r['source']))


if __name__ == '__main__':
    main()
