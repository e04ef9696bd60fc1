"""Structure measurements of the project: import cycles, wide functions, settings threading, loading crossings.

    python tools/check_structure.py [--loading]

* import cycles between project modules, counting imports inside functions too (must be none);
* functions with more than MAX_PARAMS parameters, outside the official signatures (must be none);
* lines and files that mention `num_gpus` and `progress` (how far settings are threaded by hand);
* with --loading: the package borders crossed while loading a network file (calls from a function of
  one top-level package into another), measured by tracing a real load of a test-made VGG pickle.
* imports against the layering (ALLOWED_IMPORTS: e.g. dnnlib never imports networks; must be none).
Exit status 1 when a cycle, a wide function or a layering violation is found.
"""
import ast
import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ('dnnlib', 'metrics', 'networks', 'features', 'datasets', 'experiments')
TOP_MODULES = ('precision_recall', 'utils', 'run_metric')
MAX_PARAMS = 8
# What each layer may import (besides itself): the lower layers only. dnnlib, the official dnnlib stand-in, is the
# bottom; networks and metrics never import each other; the experiments and the command line sit on top.
ALLOWED_IMPORTS = {
    'dnnlib': set(),
    'datasets': {'dnnlib'},
    'networks': {'dnnlib'},
    'metrics': {'dnnlib', 'datasets'},
    'features': {'dnnlib', 'datasets', 'metrics'},
    'precision_recall': {'dnnlib', 'metrics'},
    'utils': {'dnnlib', 'networks'},
    'experiments': {'dnnlib', 'datasets', 'metrics', 'features', 'networks', 'precision_recall', 'utils'},
    'run_metric': {'dnnlib', 'datasets', 'metrics', 'features', 'networks', 'experiments', 'utils'},
}
# Signatures fixed elsewhere: the official code (kynkaat precision_recall.py, dnnlib Network.run, StyleGAN's
# G_style dynamic arguments), and the APIs that NVIDIA's stored network code calls with their own signatures
# (NVIDIA's upfirdn_2d op, TensorFlow's tf.nn.conv2d / conv2d_transpose / fused_batch_norm).
OFFICIAL_SIGNATURES = {
    'precision_recall.py:knn_precision_recall_features', 'precision_recall.py:__init__',
    'dnnlib/tflib/network.py:run', 'dnnlib/tflib/trusted_exec.py:run', 'networks/stylegan.py:dlatents',
    'dnnlib/tflib/ops/upfirdn_2d.py:upfirdn_2d', 'dnnlib/tflib/nchw.py:conv2d', 'dnnlib/tflib/nchw.py:conv2d_transpose',
    'dnnlib/tflib/nchw.py:fused_batch_norm',
}


def project_files():
    """Paths (relative to the repository) of the project's own Python modules (not tests, benchmarks, tools)."""
    out = [m + '.py' for m in TOP_MODULES]
    for package in PACKAGES:
        for root, _, files in os.walk(os.path.join(REPO, package)):
            out += [os.path.relpath(os.path.join(root, f), REPO) for f in files if f.endswith('.py')]
    return sorted(p for p in out if os.path.isfile(os.path.join(REPO, p)))


def module_name(path):
    name = path[:-3].replace(os.sep, '.')
    return name[:-len('.__init__')] if name.endswith('.__init__') else name


def imports_of(path, known):
    """Project modules imported anywhere in the file (module level or inside functions)."""
    tree = ast.parse(open(os.path.join(REPO, path)).read())
    found = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + ['%s.%s' % (node.module, a.name) for a in node.names]
        for name in names:
            while name and name not in known:
                name = name.rpartition('.')[0]
            if name:
                found.add(name)
    return found


def import_graph(files):
    """{module: project modules it imports anywhere}."""
    known = {module_name(p) for p in files}
    return {module_name(p): imports_of(p, known) - {module_name(p)} for p in files}


def import_cycles(files):
    """(cycles, graph) of the project's modules."""
    graph = import_graph(files)
    return find_cycles(graph), graph


def find_cycles(graph):
    """Strongly connected groups of more than one module (sorted lists) of an import graph."""
    index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]

    def strongconnect(v):  # Tarjan
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))
    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            strongconnect(v)
    return sccs


def layer_violations(graph):
    """Imports from a module into a layer it may not import (ALLOWED_IMPORTS), as 'a -> b' strings."""
    out = []
    for mod, targets in graph.items():
        layer = mod.split('.')[0]
        for target in sorted(targets):
            other = target.split('.')[0]
            if other != layer and other not in ALLOWED_IMPORTS.get(layer, set()):
                out.append('%s -> %s' % (mod, target))
    return out


def wide_functions(files):
    out = []
    for path in files:
        tree = ast.parse(open(os.path.join(REPO, path)).read())
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                a = node.args
                params = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs if x.arg not in ('self', 'cls')]
                count = len(params) + bool(a.vararg) + bool(a.kwarg)
                if count > MAX_PARAMS and '%s:%s' % (path, node.name) not in OFFICIAL_SIGNATURES:
                    out.append((count, '%s:%d %s' % (path, node.lineno, node.name)))
    return sorted(out, reverse=True)


def mentions(files, word):
    lines, where = 0, set()
    for path in files:
        for line in open(os.path.join(REPO, path)):
            if re.search(r'\b%s\b' % word, line):
                lines += 1
                where.add(path)
    return lines, len(where)


def loading_crossings():
    """Package borders crossed by calls while loading a VGG pickle made by the tests' factory."""
    import tempfile
    sys.path[:0] = [REPO, os.path.join(REPO, 'tests')]
    from network_factory import write_vgg_pickle
    import utils
    with tempfile.TemporaryDirectory() as tmp:
        path = write_vgg_pickle(os.path.join(tmp, 'vgg.pkl'), width_divisor=16, seed=0)
        edges = []

        def package_of(frame):
            f = frame.f_code.co_filename
            if f.startswith('<'):
                return None
            f = os.path.abspath(f)
            if not f.startswith(REPO + os.sep) or os.path.relpath(f, REPO).split(os.sep)[0] in ('tests', 'tools'):
                return None
            rel = os.path.relpath(f, REPO)
            return rel.split(os.sep)[0].replace('.py', '')

        def profile(frame, event, arg):
            if event == 'call' and frame.f_back is not None:
                callee, caller = package_of(frame), package_of(frame.f_back)
                if callee and caller and callee != caller:
                    edges.append('%s.%s -> %s.%s' % (caller, frame.f_back.f_code.co_name, callee,
                                                     frame.f_code.co_name))
        sys.setprofile(profile)
        try:
            net = utils.initialize_feature_extractor(path, cache_dir=os.path.join(tmp, 'cache'), verbose=False)
            net.output_shape
        finally:
            sys.setprofile(None)
    distinct = list(dict.fromkeys(edges))
    return distinct


def main(argv=None):
    import argparse
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--loading', action='store_true',
                   help='also trace the package crossings while a network file is loaded')
    args = p.parse_args(argv)
    files = project_files()
    cycles, graph = import_cycles(files)
    wide = wide_functions(files)
    layers = layer_violations(graph)
    print('modules: %d' % len(files))
    print('import cycles (imports inside functions included): %d' % len(cycles))
    for comp in cycles:
        print('  ' + ' <-> '.join(comp))
    print('imports against the layering (ALLOWED_IMPORTS): %d' % len(layers))
    for line in layers:
        print('  ' + line)
    print('functions with more than %d parameters (official signatures excepted): %d' % (MAX_PARAMS, len(wide)))
    for count, where in wide:
        print('  %2d  %s' % (count, where))
    for word in ('num_gpus', 'progress'):
        print('%s: on %d lines in %d files' % ((word,) + mentions(files, word)))
    if args.loading:
        edges = loading_crossings()
        upward = [e for e in edges if e.split(' -> ')[1].split('.')[0] not in
                  ALLOWED_IMPORTS.get(e.split('.')[0], set())]
        print('package crossings while loading a network file: %d distinct calls, %d of them upward (a lower layer '
              'calling a higher one)' % (len(edges), len(upward)))
        for edge in edges:
            print('  %s%s' % (edge, '   <- upward' if edge in upward else ''))
    return 1 if cycles or wide or layers else 0


if __name__ == '__main__':
    sys.exit(main())
