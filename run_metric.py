"""Improved precision and recall metric (Kynkaanniemi et al. 2019): the paper's experiments in TensorFlow 2.

Official experiments (flags and defaults of the official run_metric.py):
    python run_metric.py --data_dir <ffhq tfrecords dir> --truncation_sweep [--realism_score]

Your own data:
    python run_metric.py --real_dir reals/ --fake_dir fakes/ [--realism_score]
    python run_metric.py --real_features real.npz --fake_features fake.npz
    python run_metric.py --real_dir reals/ --network my_stylegan.pkl --truncation_sweep
    python run_metric.py --real_dir reals/ --fake_dir fakes/ --feature_network vgg16.pt

Cross-checking a port (why two P&R implementations disagree):
    python run_metric.py --real_features real.npz --fake_features fake.npz --conventions [--port_results mine.json]

The StyleGAN2 paper's precision/recall (NVlabs/stylegan2 pr50k3: 50k images, k=3, float16 distances):
    python run_metric.py --data_dir <ffhq tfrecords dir> --protocol stylegan2_pr50k3 [--network my_stylegan2.pkl]

Checking NVIDIA's network files against this project's TF2 rebuild:
    python -m networks.check_pickle vgg16.pkl --trust_pickle_code

With no arguments: a self-contained feature-space truncation sweep (no downloads) that writes
stylegan_truncation.txt (official format) into --save_path; it takes no other settings.
Outputs of the experiments go to --save_path: stylegan_truncation.txt, results.json and
truncation_sweep.png (sweep), realism_scores.npy (fake-set realism),
stylegan_realism/truncation1.00/*.png and realism_grid.png (StyleGAN realism), features/
(--save_features) and conventions_official_decisions.npz (--conventions).
"""
import argparse
import os
import sys
import time

from dnnlib.native_settings import apply_native_settings

apply_native_settings()  # before NumPy and TensorFlow load

import numpy as np  # noqa: E402

from metrics.options import GEMM_CHOICES  # noqa: E402  light: no TensorFlow before the arguments are read

# The protocols a run can follow: the settings each fixes (None: the protocol does not fix it).
PROTOCOLS = {
    'kynkaat2019': {},
    'stylegan2_pr50k3': {'nhood_sizes': [3], 'dtype': 'float16', 'truncations': [1.0, 0.7, 0.3], 'minibatch_size': 8,
                         'truncation_sweep': False, 'realism_score': False, 'fake_dir': None, 'fake_features': None,
                         'prdc': 0, 'bootstrap': 0, 'conventions': False},
}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_argument_group('official flags')
    g.add_argument('-d', '--data_dir', help='FFHQ TFRecords directory (dataset_tool format; the highest-resolution '
                                            'file is read as one unshuffled, repeating stream)')
    g.add_argument('-t', '--truncation_sweep', action='store_true', help='StyleGAN truncation sweep (paper Fig. 4)')
    g.add_argument('-r', '--realism_score', action='store_true', help='realism score experiment (paper Fig. 11)')
    g.add_argument('--protocol', choices=sorted(PROTOCOLS), default='kynkaat2019',
                   help='kynkaat2019 (default): the experiments of the 2019 script, as the flags say. '
                        'stylegan2_pr50k3: the StyleGAN2 paper\'s P&R of one generator (50k reals and fakes, k=3, '
                        'is_validation=True, float16 distances, default network stylegan2-ffhq-config-f.pkl); '
                        'fixes its own settings')
    g = p.add_argument_group('inputs beyond the official script')
    g.add_argument('--real_dir', help='folder of real PNG/JPEG images (instead of --data_dir)')
    g.add_argument('--real_features', help='.npz/.npy of real features [N, d] (instead of images); FILE.npz:KEY names '
                                           'the array in a file with several')
    g.add_argument('--fake_dir', help='folder of generated PNG/JPEG images: evaluate them instead of a generator')
    g.add_argument('--fake_features', help='.npz/.npy of generated features [M, d] (FILE.npz:KEY as above)')
    g.add_argument('--network', default=None,
                   help='StyleGAN or StyleGAN2 pickle, path or URL (default: the official FFHQ-1024 StyleGAN, from the '
                        'first of its published locations that answers; with --protocol stylegan2_pr50k3: NVIDIA\'s '
                        'stylegan2-ffhq-config-f.pkl)')
    g.add_argument('--feature_network', default=None,
                   help='VGG16 feature network: a vgg16.pkl-format pickle or NVIDIA\'s TorchScript vgg16.pt, path or '
                        'URL (default: the official vgg16.pkl, then its mirrors, then vgg16.pt)')
    g.add_argument('--trust_pickle_code', action='store_true',
                   help='run the Python code stored inside the network pickles (exactly as the official TF1 code '
                        'does) instead of the safe TF2 rebuild. DANGEROUS with untrusted files: the code runs with '
                        'your rights. Check agreement first: python -m networks.check_pickle FILE --trust_pickle_code')
    g = p.add_argument_group('settings (official defaults)')
    g.add_argument('--num_images', type=int, default=None,
                   help='real and generated images per evaluation (default 50000; with --fake_dir/--fake_features: '
                        'all real images)')
    g.add_argument('--minibatch_size', type=int, default=8, help='images per network call (default 8)')
    g.add_argument('--num_gpus', type=int, default=1, help='devices to split work over (default 1)')
    g.add_argument('--gemm', choices=GEMM_CHOICES, default='auto',
                   help='library of the distance products on a CPU: auto (default) measures both once per machine '
                        'and keeps the faster; whatever the choice, passes over sets that repeat a row use TensorFlow '
                        '(official ties: a speed setting never changes a number)')
    g.add_argument('--random_seed', type=int, default=1234, help='latent seed of the sweep (default 1234)')
    g.add_argument('--realism_seed', type=int, default=123456, help='latent seed of the realism run (default 123456)')
    g.add_argument('--truncations', type=float, nargs='+', default=[1.0, 0.7, 0.3], help='psi values')
    g.add_argument('--num_gen_images', type=int, default=1000, help='generated images scored for realism')
    g.add_argument('--show_n_images', type=int, default=64, help='highest/lowest realism images saved')
    g.add_argument('--nhood_sizes', type=int, nargs='+', default=[3], help='k values (default 3)')
    g.add_argument('--dtype', choices=['float32', 'float16', 'float64'], default=None,
                   help='distance precision: float32 (current official, the default), float16 (official before '
                        '2021-10) or float64 (exact arithmetic, for features the float32 formula cannot resolve: a '
                        'large common offset, tiny values; the run warns when that happens)')
    g = p.add_argument_group('beyond the official metric')
    g.add_argument('--bootstrap', type=int, default=0, metavar='N',
                   help='95%% bootstrap intervals from N resamples for every k of --nhood_sizes (evaluated samples '
                        'resampled, spheres fixed)')
    g.add_argument('--prdc', type=int, default=0, metavar='K',
                   help='also density/coverage (Naeem et al.) and symmetric precision/recall (Khayatkhoei & '
                        'AbdAlmageed) at k=K with their strict < rule (their default K is 5)')
    g.add_argument('--conventions', action='store_true',
                   help='cross-checking ports: P&R under the official rule, the pre-2021 float16 numerics, strict < '
                        '(prdc, dgm-eval), and Euclidean float16 (stylegan2-ada-pytorch family), with the decisions '
                        'each flips and why (needs --fake_dir or --fake_features)')
    g.add_argument('--port_results', metavar='FILE',
                   help='with --conventions: your port\'s results, JSON {"precision": p, "recall": r} or .npz with '
                        'per-sample 0/1 precision_pred [M] / recall_pred [N]; names the closest convention')
    g.add_argument('--ms_ssim', action='store_true', help='MS-SSIM diversity of --fake_dir images')
    g.add_argument('--ms_ssim_filter_size', type=int, default=11, help='MS-SSIM filter size (small images: smaller)')
    g = p.add_argument_group('output')
    g.add_argument('--save_path', default='results', help='output folder (default ./results)')
    g.add_argument('--cache_dir', default=None,
                   help='downloads and real-feature cache (default: _cache beside this script)')
    g.add_argument('--no_feature_cache', action='store_true', help='do not read or write cached image features')
    g.add_argument('--clear_cache', action='store_true',
                   help='remove the files this tool wrote into --cache_dir (cached features, saved network sources, '
                        'downloads; each listed, nothing else touched) first (alone: clear and exit)')
    g.add_argument('--save_features', action='store_true',
                   help='also save the features used, under features/ (evaluation.npz, truncation_<psi>.npz or '
                        'pr50k3.npz, each holding real_features and fake_features; --real_features/--fake_features '
                        'read them by role)')
    g.add_argument('--quiet', action='store_true', help='no progress bars (downloads included)')
    g.add_argument('--allow_large_images', action='store_true',
                   help="read images above PIL's decompression-bomb limit (~179 megapixels); only for files you trust")
    g.add_argument('--demo', action='store_true', help='run the embedded feature-space demo')
    return p.parse_args(argv)


def check_protocol(args):
    """Refuse options that contradict what the chosen protocol fixes (naming them), rather than ignore them."""
    defaults = vars(parse_args([]))
    fixed = PROTOCOLS[args.protocol]
    clashes = sorted('--%s' % k for k, v in fixed.items() if getattr(args, k) != defaults[k] and getattr(args, k) != v)
    if clashes:
        raise ValueError('--protocol %s fixes its own settings and cannot be combined with %s'
                         % (args.protocol, ', '.join(clashes)))


def check_args(args):
    check_protocol(args)
    for name in ('minibatch_size', 'num_gpus', 'num_gen_images', 'show_n_images'):
        if getattr(args, name) < 1:
            raise ValueError('--%s must be >= 1' % name)
    bad = [psi for psi in args.truncations if not np.isfinite(psi)]
    if bad:
        raise ValueError('--truncations must be finite numbers, got %s' % bad)
    if any(k < 1 for k in args.nhood_sizes):
        raise ValueError('--nhood_sizes must be positive integers')
    if args.num_images is not None and args.num_images < 1:
        raise ValueError('--num_images must be >= 1')
    largest_k = max(args.nhood_sizes + [args.prdc])
    if args.num_images is not None and args.num_images <= largest_k:
        raise ValueError('--num_images %d is too few for k = %d: each set needs more samples than the largest k'
                         % (args.num_images, largest_k))
    reals = [x for x in (args.data_dir, args.real_dir, args.real_features) if x]
    if len(reals) > 1:
        raise ValueError('give only one of --data_dir, --real_dir, --real_features')
    if args.fake_dir and args.fake_features:
        raise ValueError('give only one of --fake_dir, --fake_features')
    if not reals:
        raise ValueError('no real data: give --data_dir, --real_dir or --real_features (or no arguments for the demo)')
    if (args.fake_dir or args.fake_features) and args.truncation_sweep:
        raise ValueError('--truncation_sweep samples a generator; it cannot be combined with --fake_dir / '
                         '--fake_features (use --network to sweep your own StyleGAN pickle)')
    if not (args.fake_dir or args.fake_features) and not (args.truncation_sweep or args.realism_score) and \
            args.protocol == 'kynkaat2019':
        raise ValueError('nothing to do: add --truncation_sweep and/or --realism_score, or give --fake_dir / '
                         '--fake_features to evaluate a set of generated images')
    if args.bootstrap < 0 or args.bootstrap == 1:
        raise ValueError('--bootstrap needs at least 2 resamples')
    if args.prdc < 0:
        raise ValueError('--prdc must be a positive k')
    if (args.conventions or args.port_results) and not (args.fake_dir or args.fake_features):
        raise ValueError('--conventions compares a given generated set: add --fake_dir or --fake_features')
    if args.port_results and not args.conventions:
        raise ValueError('--port_results is read by --conventions; add --conventions')
    if args.port_results and not os.path.isfile(args.port_results):
        raise FileNotFoundError('--port_results %s does not exist' % args.port_results)
    if args.port_results:
        from metrics.conventions import read_port_results
        read_port_results(args.port_results)  # a bad file is an error before any work
    if args.ms_ssim and not args.fake_dir:
        raise ValueError('--ms_ssim needs --fake_dir (generated images)')
    if args.show_n_images > args.num_gen_images:
        raise ValueError('--show_n_images cannot exceed --num_gen_images')


# Options the embedded demo (no data given) honours; any other option given is refused rather than ignored.
DEMO_OPTIONS = ('save_path', 'quiet', 'demo', 'cache_dir', 'clear_cache', 'no_feature_cache', 'allow_large_images')


def check_demo_args(args):
    """The embedded demo runs fixed settings: refuse options it would silently ignore, naming them."""
    defaults = vars(parse_args([]))
    ignored = sorted('--' + k for k, v in vars(args).items() if k not in DEMO_OPTIONS and v != defaults.get(k))
    if ignored:
        raise ValueError('the embedded demo (no data given) runs fixed settings and would ignore %s; give real data '
                         '(--data_dir, --real_dir or --real_features, see --help) to use them' % ', '.join(ignored))


def check_output_folders(args):
    """Refuse, before any work, output or cache folders that cannot be written and an output folder inside an input
    folder (or the reverse)."""
    from dnnlib.output_files import check_writable_folder
    check_apart(args.save_path, [('--data_dir', args.data_dir), ('--real_dir', args.real_dir),
                                 ('--fake_dir', args.fake_dir)])
    folders = [('--save_path', args.save_path)]
    if not (args.real_features and args.fake_features):  # images or networks: features cache, downloads
        folders.append(('--cache_dir', args.cache_dir))
    for flag, folder in folders:
        check_writable_folder(folder, flag)
    if os.path.realpath(args.save_path) == os.path.realpath(args.cache_dir):
        raise ValueError('--save_path and --cache_dir are the same folder %s: a rerun would clear the cache with the '
                         'previous results; give each its own folder' % args.save_path)


def check_apart(save_path, inputs):
    """ValueError when --save_path is an input folder, lies inside one, or holds one (its outputs would be read)."""
    out = os.path.realpath(save_path)
    for flag, folder in inputs:
        if not folder:
            continue
        given = os.path.realpath(folder)
        if out == given or out.startswith(given + os.sep) or given.startswith(out + os.sep):
            raise ValueError('--save_path %s and %s %s overlap: the outputs would be read as input on the next run; '
                             'choose an output folder outside the input folder' % (save_path, flag, folder))


def make_config(args):
    """The run's settings, built once: cfg.options (how to compute) and cfg.convention (the official numerics)."""
    from dnnlib import EasyDict
    from dnnlib.util import cache_subfolder
    from metrics.convention import official
    from metrics.options import Options
    fake_set = bool(args.fake_dir or args.fake_features)
    pr50k3 = args.protocol == 'stylegan2_pr50k3'
    if pr50k3:
        from experiments import stylegan2_pr50k3 as preset
        from networks.sources import STYLEGAN2_FFHQ_SOURCES
    return EasyDict(protocol=args.protocol, num_images=args.num_images if fake_set else (args.num_images or 50000),
                    random_seed=args.random_seed, realism_seed=args.realism_seed, truncations=args.truncations,
                    truncation=1.0, num_gen_images=args.num_gen_images, show_n_images=args.show_n_images,
                    nhood_sizes=args.nhood_sizes, save_path=args.save_path, bootstrap=args.bootstrap,
                    extra_k=args.prdc, data_dir=args.data_dir, real_dir=args.real_dir,
                    real_features=args.real_features, fake_dir=args.fake_dir, fake_features=args.fake_features,
                    realism_score=args.realism_score, truncation_sweep=args.truncation_sweep, ms_ssim=args.ms_ssim,
                    ms_ssim_filter_size=args.ms_ssim_filter_size, save_features=args.save_features,
                    conventions=args.conventions, port_results=args.port_results,
                    network=args.network or (STYLEGAN2_FFHQ_SOURCES if pr50k3 else None),
                    feature_network=args.feature_network, trust_code=args.trust_pickle_code,
                    cache_dir=args.cache_dir,
                    feature_cache_dir=None if args.no_feature_cache else cache_subfolder('features', args.cache_dir),
                    options=Options(num_gpus=args.num_gpus, minibatch_size=args.minibatch_size, progress=not args.quiet,
                                    gemm=args.gemm,
                                    **(dict(row_batch_size=preset.ROW_BATCH_SIZE, col_batch_size=preset.COL_BATCH_SIZE)
                                       if pr50k3 else {})),
                    convention=official('float16' if pr50k3 else args.dtype or 'float32'))


def config_record(cfg):
    """The settings as results.json records them (options and convention as plain values)."""
    import dataclasses
    record = {k: v for k, v in cfg.items() if k not in ('options', 'convention')}
    record.update(dataclasses.asdict(cfg.options), dtype=cfg.convention.dtype, convention=cfg.convention.name)
    if cfg.network is not None and not isinstance(cfg.network, str):  # a protocol's default published sources
        record['network'] = [source.url for source in cfg.network]
    return record


# The experiments, in the official order (realism before the sweep: they share one real stream): results.json key,
# when it runs, and its module, whose run(RunContext, RealStream) writes its outputs and returns its results entry.
EXPERIMENTS = [
    ('evaluation', lambda cfg: bool(cfg.fake_dir or cfg.fake_features), 'experiments.fake_set'),
    ('realism', lambda cfg: cfg.realism_score and not (cfg.fake_dir or cfg.fake_features),
     'experiments.stylegan_realism'),
    ('truncation_sweep', lambda cfg: cfg.truncation_sweep, 'experiments.stylegan_truncation'),
    ('pr50k3', lambda cfg: cfg.protocol == 'stylegan2_pr50k3', 'experiments.stylegan2_pr50k3'),
]


def run_experiments(args):
    import importlib

    import utils
    from dnnlib.output_files import save_json
    from experiments.run_context import RunContext
    from features.store import RealStream

    cfg = make_config(args)
    results = {'config': config_record(cfg), 'started': time.strftime('%Y-%m-%d %H:%M:%S')}
    utils.init_tf(cfg.random_seed)
    ctx = RunContext(cfg)
    stream = RealStream(ctx.reals())  # one reader shared by the experiments, realism first (official order)
    for key, wanted, module in EXPERIMENTS:
        if wanted(cfg):
            results[key] = importlib.import_module(module).run(ctx, stream)
    if ctx.networks:
        results['networks'] = ctx.networks
    from metrics.gemm import choices_made
    results['config']['gemm_chosen'] = choices_made()  # what gemm='auto' measured as faster, per feature width
    results['finished'] = time.strftime('%Y-%m-%d %H:%M:%S')
    peak = peak_gpu_memory_gb()
    if peak is not None:
        print('Peak GPU memory usage: %g GB' % peak)
        results['peak_gpu_memory_gb'] = peak
    save_json(os.path.join(cfg.save_path, 'results.json'), results)
    print('Results in %s' % os.path.abspath(cfg.save_path))
    return results


def peak_gpu_memory_gb():
    import tensorflow as tf
    if not tf.config.list_physical_devices('GPU'):
        return None
    return tf.config.experimental.get_memory_info('GPU:0')['peak'] / 2 ** 30


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from dnnlib.tf_logging import quiet_tensorflow
    quiet_tensorflow()
    try:
        return run(args)
    except KeyboardInterrupt:
        print('interrupted', file=sys.stderr)  # outputs are written atomically: nothing is left half-written
        return 130


def run(args):
    """Dispatch: clear the cache, run the demo, or check the arguments and run the experiments -> exit status."""
    from dnnlib import owned_files, util
    if args.cache_dir is None:
        args.cache_dir = util.CACHE_DIR
    owned_files.track(args.save_path)  # files the tool writes there are recorded, so only those are ever removed
    owned_files.track(args.cache_dir)
    nothing_given = not any([args.data_dir, args.real_dir, args.real_features, args.fake_dir, args.fake_features,
                             args.truncation_sweep, args.realism_score])
    if args.clear_cache:
        removal = owned_files.remove_owned(args.cache_dir)
        print('\n'.join(removal.report('files this tool wrote into %s' % args.cache_dir)))
        if nothing_given:
            return 0
    if args.demo or nothing_given:
        return _run_guarded(args, check_demo_args, run_demo)
    return _run_guarded(args, check_run_args, run_experiments)


def check_run_args(args):
    check_args(args)
    check_output_folders(args)
    from metrics.gemm import remember_choices_in
    remember_choices_in(args.cache_dir)  # the GEMM choice is a cache entry like the others
    if args.allow_large_images:
        from datasets.image_folder import allow_large_images
        allow_large_images(True)


def run_demo(args):
    from experiments import feature_space_demo
    print('No data given: running the embedded feature-space truncation sweep (no downloads).')
    feature_space_demo.run(args.save_path)
    print('To run on real data: python run_metric.py --data_dir /path/to/ffhq-tfrecords --truncation_sweep '
          '(see --help)')


def _run_guarded(args, check, work):
    """check(args), then work(args) holding --save_path's lock, the previous run's files cleared just before the
    first new output -> exit status (2 with 'error: ...' for bad input, before any work where it can be known)."""
    from datasets.tfrecords import DatasetError
    from dnnlib import output_files
    from dnnlib.folder_lock import FolderLock
    from dnnlib.tflib import NetworkPickleError
    from dnnlib.util import DownloadError
    from experiments.outputs import check_output_names, clear_previous_outputs
    try:
        check(args)
        output_files.check_writable_folder(args.save_path, '--save_path')
        check_output_names(args.save_path)
        with FolderLock(args.save_path, '--save_path'):
            output_files.before_first_output(
                args.save_path, lambda: clear_previous_outputs(args.save_path, skip=[args.cache_dir]))
            work(args)
    except (ValueError, DatasetError, NetworkPickleError, DownloadError, FileNotFoundError, FileExistsError,
            NotImplementedError) as e:
        print('error: %s' % e, file=sys.stderr)
        return 2
    except OSError as e:
        print('error: %s%s' % (e.strerror or e, ': %s' % e.filename if e.filename else ''), file=sys.stderr)
        return 2
    finally:
        output_files.before_first_output(args.save_path, None)
    return 0


if __name__ == '__main__':
    sys.exit(main())
