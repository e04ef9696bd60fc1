"""Every protocol and experiment run_metric.py can run, as rows (experiments/rows.py).

To add an experiment: write its module with `run(ctx, reals) -> results entry` and add its row to EXPERIMENTS
(flags, checks, when it runs); nothing else changes. A protocol with fixed settings is a module holding its
Protocol row (e.g. experiments/stylegan2_pr50k3.py), listed in PROTOCOLS.
"""
import math

from experiments import adm_evaluator, stylegan2_pr50k3
from experiments.checks import check_port_results
from experiments.rows import BEYOND, INPUTS, OFFICIAL, OUTPUT, Experiment, Flag, Protocol, Registry
from metrics.convention import CONVENTIONS, DTYPES, Convention, resolve
from metrics.options import GEMM_CHOICES, Options

GENERATOR_NUM_IMAGES = 50000  # official: reals and generated images per evaluation of a generator


def fake_set(s):
    """Whether the run evaluates a given generated set."""
    return bool(s.fake_dir or s.fake_features)


REAL_FLAGS = ('data_dir', 'real_dir', 'real_features')

FLAGS = (
    Flag('data_dir', str, short='-d', group=OFFICIAL, data=True,
         help='FFHQ TFRecords directory (dataset_tool format; the highest-resolution file is read as one '
              'unshuffled, repeating stream)'),
    Flag('realism_score', bool, short='-r', group=OFFICIAL, help='realism score experiment (paper Fig. 11)'),
    Flag('real_dir', str, group=INPUTS, data=True, help='folder of real PNG/JPEG images (instead of --data_dir)'),
    Flag('real_features', str, group=INPUTS, data=True,
         help='.npz/.npy of real features [N, d] (instead of images); FILE.npz:KEY names the array in a file with '
              'several'),
    Flag('fake_dir', str, group=INPUTS, data=True,
         help='folder of generated PNG/JPEG images: evaluate them instead of a generator'),
    Flag('fake_features', str, group=INPUTS, data=True,
         help='.npz/.npy of generated features [M, d] (FILE.npz:KEY as above)'),
    Flag('network', str, group=INPUTS,
         help='StyleGAN or StyleGAN2 pickle, path or URL (default: the official FFHQ-1024 StyleGAN, from the first '
              'of its published locations that answers; a protocol may name its own, see --protocol)'),
    Flag('feature_network', str, group=INPUTS,
         help='VGG16 feature network: a vgg16.pkl-format pickle or NVIDIA\'s TorchScript vgg16.pt, path or URL '
              '(default: the official vgg16.pkl, then its mirrors, then vgg16.pt)'),
    Flag('trust_pickle_code', bool, group=INPUTS,
         help='run the Python code stored inside the network pickles (exactly as the official TF1 code does) '
              'instead of the safe TF2 rebuild. DANGEROUS with untrusted files: the code runs with your rights. '
              'Check agreement first: python -m networks.check_pickle FILE --trust_pickle_code'),
    Flag('num_images', int,
         help='real and generated images per evaluation (default %d; with --fake_dir/--fake_features: all real '
              'images)' % GENERATOR_NUM_IMAGES),
    Flag('minibatch_size', int, 8, 'images per network call (default 8)'),
    Flag('num_gpus', int, 1, 'devices to split work over (default 1)'),
    Flag('gemm', str, 'auto', choices=GEMM_CHOICES,
         help='library of the distance products on a CPU: auto (default) times both on the first tiles of each '
              'evaluation and continues with the faster; whatever the choice, passes over sets that repeat a row use TensorFlow (official ties: '
              'a speed setting never changes a number)'),
    Flag('random_seed', int, 1234, 'latent seed of the generated images (default 1234)'),
    Flag('nhood_sizes', int, (3,), 'k values (default 3)', many=True),
    Flag('show_n_images', int, 64, 'highest/lowest realism images saved'),
    Flag('dtype', str, choices=DTYPES,
         help='distance precision of the official convention: float32 (current official, the default), float16 '
              '(official before 2021-10) or float64 (exact arithmetic, for features the float32 formula cannot '
              'resolve: a large common offset, tiny values; the run warns when that happens)'),
    Flag('convention', str, choices=tuple(CONVENTIONS),
         help='the P&R convention of every experiment of the run (default: official), e.g. euclidean_fp16 to '
              'emulate the stylegan2-ada-pytorch family of ports; see --conventions for what each one flips'),
    Flag('bootstrap', int, 0, metavar='N', group=BEYOND,
         help='95%% bootstrap intervals from N resamples for every k of --nhood_sizes (evaluated samples '
              'resampled, spheres fixed)'),
    Flag('prdc', int, 0, metavar='K', group=BEYOND,
         help='also density/coverage (Naeem et al.) and symmetric precision/recall (Khayatkhoei & AbdAlmageed) at '
              'k=K with their strict < rule (their default K is 5)'),
    Flag('save_path', str, 'results', 'output folder (default ./results)', group=OUTPUT),
    Flag('cache_dir', str, group=OUTPUT, help='downloads and real-feature cache (default: _cache beside this script)'),
    Flag('no_feature_cache', bool, group=OUTPUT, help='do not read or write cached image features'),
    Flag('clear_cache', bool, group=OUTPUT,
         help='remove the files this tool wrote into --cache_dir (cached features, saved network sources, '
              'downloads, the GEMM choice; each listed, nothing else touched) first (alone: clear and exit)'),
    Flag('save_features', bool, group=OUTPUT,
         help='also save the features used, under features/ (evaluation.npz, truncation_<psi>.npz or pr50k3.npz, '
              'each holding real_features and fake_features; --real_features/--fake_features read them by role)'),
    Flag('quiet', bool, group=OUTPUT, help='no progress bars (downloads included)'),
    Flag('allow_large_images', bool, group=OUTPUT,
         help="read images above PIL's decompression-bomb limit (~179 megapixels); only for files you trust"),
)


def check_common(s):
    """Checks of the flags every run reads (ValueError, before any work)."""
    for name in ('minibatch_size', 'num_gpus', 'show_n_images'):
        if getattr(s, name) < 1:
            raise ValueError('--%s must be >= 1' % name)
    if any(k < 1 for k in s.nhood_sizes):
        raise ValueError('--nhood_sizes must be positive integers')
    if s.num_images is not None and s.num_images < 1:
        raise ValueError('--num_images must be >= 1')
    largest_k = max(s.nhood_sizes + (s.prdc,))
    if s.num_images is not None and s.num_images <= largest_k:
        raise ValueError('--num_images %d is too few for k = %d: each set needs more samples than the largest k'
                         % (s.num_images, largest_k))
    reals = [name for name in REAL_FLAGS if getattr(s, name)]
    if len(reals) > 1:
        raise ValueError('give only one of --data_dir, --real_dir, --real_features')
    if s.fake_dir and s.fake_features:
        raise ValueError('give only one of --fake_dir, --fake_features')
    if s.bootstrap < 0 or s.bootstrap == 1:
        raise ValueError('--bootstrap needs at least 2 resamples')
    if s.prdc < 0:
        raise ValueError('--prdc must be a positive k')


def check_reals_given(s):
    if not any(getattr(s, name) for name in REAL_FLAGS):
        raise ValueError('no real data: give --data_dir, --real_dir or --real_features (or no arguments for the demo)')


def derive(values, protocol):
    """The settings computed from the flags: options, convention, feature cache, default network, and the
    official number of images when a generator is sampled."""
    from dnnlib.util import CACHE_DIR, cache_subfolder
    cache_dir = values['cache_dir'] or CACHE_DIR
    given_set = values['fake_dir'] or values['fake_features']
    return dict(
        cache_dir=cache_dir,
        num_images=values['num_images'] if given_set else (values['num_images'] or GENERATOR_NUM_IMAGES),
        protocol_network=protocol.network,
        feature_cache_dir=None if values['no_feature_cache'] else cache_subfolder('features', cache_dir),
        convention=resolve(values['convention'], values['dtype']),
        options=Options(num_gpus=values['num_gpus'], minibatch_size=values['minibatch_size'] * (
            values['num_gpus'] if protocol.minibatch_per_device else 1),
                        progress=not values['quiet'], gemm=values['gemm'], **dict(protocol.options)))


DERIVED = (('protocol_network', object), ('feature_cache_dir', object), ('convention', Convention),
           ('options', Options))


def check_fake_set(s):
    check_port_results(s)
    if s.ms_ssim and not s.fake_dir:
        raise ValueError('--ms_ssim needs --fake_dir (generated images)')
    if s.realism_score:
        check_realism_convention(s)


def check_realism_convention(s):
    if s.convention.round_inputs or s.convention.exact_ties:
        raise ValueError('the realism score is defined by the official code; --convention %s changes its inputs or '
                         'ties (run the realism score under official, official_fp16 or strict)' % s.convention.name)


def check_realism(s):
    if s.num_gen_images < 1:
        raise ValueError('--num_gen_images must be >= 1')
    if s.show_n_images > s.num_gen_images:
        raise ValueError('--show_n_images cannot exceed --num_gen_images')
    check_realism_convention(s)


def check_sweep(s):
    if fake_set(s):
        raise ValueError('--truncation_sweep samples a generator; it cannot be combined with --fake_dir / '
                         '--fake_features (use --network to sweep your own StyleGAN pickle)')
    if s.repeats < 1:
        raise ValueError('--repeats must be >= 1')
    bad = [psi for psi in s.truncations if not math.isfinite(psi)]
    if bad:
        raise ValueError('--truncations must be finite numbers, got %s' % bad)


EXPERIMENTS = (
    Experiment('evaluation', 'experiments.fake_set:run', fake_set, '--fake_dir or --fake_features (a given set)',
               needs=('reals', 'feature_network', 'fake_set'), check=check_fake_set, flags=(
                   Flag('conventions', bool, group=BEYOND,
                        help='cross-checking ports: P&R under the official rule, the pre-2021 float16 numerics, '
                             'strict < (prdc, dgm-eval), and Euclidean float16 (stylegan2-ada-pytorch family), with '
                             'the decisions each flips and why (needs --fake_dir or --fake_features)'),
                   Flag('port_results', str, metavar='FILE', group=BEYOND,
                        help='with --conventions: your port\'s results, JSON {"precision": p, "recall": r} or .npz '
                             'with per-sample 0/1 precision_pred [M] / recall_pred [N]; names the closest '
                             'convention'),
                   Flag('ms_ssim', bool, group=BEYOND, help='MS-SSIM diversity of --fake_dir images'),
                   Flag('ms_ssim_filter_size', int, 11, 'MS-SSIM filter size (small images: smaller)', group=BEYOND))),
    Experiment('realism', 'experiments.stylegan_realism:run', lambda s: s.realism_score and not fake_set(s),
               '--realism_score (without a given set: a generator\'s images)',
               needs=('reals', 'generator', 'feature_network'),
               check=check_realism, flags=(
                   Flag('realism_seed', int, 123456, 'latent seed of the realism run (default 123456)'),
                   Flag('num_gen_images', int, 1000, 'generated images scored for realism'))),
    Experiment('truncation_sweep', 'experiments.stylegan_truncation:run', lambda s: s.truncation_sweep,
               '--truncation_sweep', needs=('reals', 'generator', 'feature_network'), check=check_sweep, flags=(
                   Flag('truncation_sweep', bool, short='-t', group=OFFICIAL,
                        help='StyleGAN truncation sweep (paper Fig. 4)'),
                   Flag('truncations', float, (1.0, 0.7, 0.3), 'psi values', many=True),
                   Flag('repeats', int, 1, metavar='K', group=BEYOND,
                        help='draw the generated side K times (latent seeds random_seed + i, reals fixed) and record '
                             'each value, the mean and the standard deviation (tools/paper_table.py shows them)'))),
    Experiment('demo', 'experiments.feature_space_demo:run_demo', lambda s: s.demo, '--demo (the embedded demo)',
               standalone=True, fallback=True, flags=(
                   Flag('demo', bool, group=OUTPUT, help='run the embedded feature-space demo'),),
               honours=('save_path', 'quiet', 'demo', 'cache_dir', 'clear_cache', 'no_feature_cache',
                        'allow_large_images')),
)

PROTOCOLS = (
    Protocol('kynkaat2019', 'the experiments of the 2019 script, as the flags say (default)'),
    stylegan2_pr50k3.PROTOCOL,
    adm_evaluator.PROTOCOL,
)

REGISTRY = Registry(flags=FLAGS + (
    Flag('protocol', str, PROTOCOLS[0].name, group=OFFICIAL, choices=tuple(p.name for p in PROTOCOLS),
         help='; '.join('%s: %s' % (p.name, p.help) for p in PROTOCOLS)),),
    check=check_common, needs=(('reals', check_reals_given),), derive=derive, derived=DERIVED, protocols=PROTOCOLS,
    experiments=EXPERIMENTS)
