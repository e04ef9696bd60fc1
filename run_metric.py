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
import os
import sys
import time

from dnnlib.native_settings import apply_native_settings

apply_native_settings()  # before NumPy and TensorFlow load

from experiments import settings as run_settings  # noqa: E402  light: no TensorFlow before the arguments are read
from experiments.registry import REGISTRY  # noqa: E402


def parse_args(argv, registry=REGISTRY):
    """The settings of a command line (experiments.settings: a frozen dataclass built from the registry's rows)."""
    return run_settings.build_settings(run_settings.build_parser(registry, __doc__).parse_args(argv), registry)


def check_output_folders(settings, registry):
    """Refuse, before any work, output or cache folders that cannot be written and an output folder inside an input
    folder (or the reverse)."""
    from dnnlib.output_files import check_writable_folder
    given = [('--' + f.name, getattr(settings, f.name)) for f in registry.all_flags() if f.data]
    check_apart(settings.save_path, [(flag, value) for flag, value in given if value and os.path.isdir(value)])
    check_writable_folder(settings.save_path, '--save_path')
    if not (settings.real_features and settings.fake_features):  # images or networks: features cache, downloads
        check_writable_folder(settings.cache_dir, '--cache_dir')
    if os.path.realpath(settings.save_path) == os.path.realpath(settings.cache_dir):
        raise ValueError('--save_path and --cache_dir are the same folder %s: a rerun would clear the cache with the '
                         'previous results; give each its own folder' % settings.save_path)


def input_paths(settings):
    """The existing files and folders the run's flags name (a FILE.npz:KEY flag names FILE.npz), --save_path aside:
    clearing the previous run's outputs never removes one of them."""
    paths = []
    for name, value in vars(settings).items():
        if name == 'save_path' or not isinstance(value, str):
            continue
        for path in (value, value.rsplit(':', 1)[0]):
            if os.path.exists(path):
                paths.append(path)
                break
    return paths


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


def settings_record(settings):
    """The settings as results.json records them (options and convention as plain values)."""
    import dataclasses
    record = {k: v for k, v in vars(settings).items()
              if k not in ('options', 'convention', 'given', 'protocol_network')}
    record.update(dataclasses.asdict(settings.options), dtype=settings.convention.dtype,
                  convention=settings.convention.name)
    if settings.network is None and settings.protocol_network is not None:  # a protocol's default sources
        record['network'] = [source.url for source in settings.protocol_network]
    return record


def run_experiments(settings, rows):
    """Run the experiment rows in order, sharing one real stream; write results.json -> the results."""
    import utils
    from dnnlib.output_files import save_json
    from experiments.run_context import RunContext
    from features.store import RealStream

    results = {'config': settings_record(settings), 'code_version': code_version(),
               'started': time.strftime('%Y-%m-%d %H:%M:%S')}
    utils.init_tf(settings.random_seed)
    ctx = RunContext(settings)
    # one reader shared by the experiments, realism first (official order); none when no row reads the reals
    stream = RealStream(ctx.reals()) if any('reals' in row.needs for row in rows) else None
    for row in rows:
        results[row.key] = row.runner()(ctx, stream)
    if ctx.networks:
        results['networks'] = ctx.networks
    from metrics.gemm import choices_made
    results['config']['gemm_chosen'] = choices_made()  # what gemm='auto' races decided, per feature width
    results['finished'] = time.strftime('%Y-%m-%d %H:%M:%S')
    peak = peak_gpu_memory_gb()
    if peak is not None:
        print('Peak GPU memory usage: %g GB' % peak)
        results['peak_gpu_memory_gb'] = peak
    save_json(os.path.join(settings.save_path, 'results.json'), results)
    print('Results in %s' % os.path.abspath(settings.save_path))
    return results


def code_version():
    """The checkout's git commit (short hash, '+' when it has local changes), or None outside a git checkout."""
    import subprocess
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        head = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=here, capture_output=True, text=True,
                              timeout=10)
        dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'], cwd=here,
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + ('+' if dirty.stdout.strip() else '')


def peak_gpu_memory_gb():
    import tensorflow as tf
    if not tf.config.list_physical_devices('GPU'):
        return None
    return tf.config.experimental.get_memory_info('GPU:0')['peak'] / 2 ** 30


def main(argv=None, registry=REGISTRY):
    """Command line -> exit status. registry: the rows to run from (experiments/registry.py)."""
    try:
        settings = parse_args(sys.argv[1:] if argv is None else argv, registry)
    except ValueError as e:  # a flag that contradicts the protocol
        print('error: %s' % e, file=sys.stderr)
        return 2
    from dnnlib.tf_logging import quiet_tensorflow
    quiet_tensorflow()
    try:
        return run(settings, registry)
    except KeyboardInterrupt:
        print('interrupted', file=sys.stderr)  # outputs are written atomically: nothing is left half-written
        return 130


def run(settings, registry=REGISTRY):
    """Dispatch: clear the cache, run the fallback (the demo) or a standalone row, or check the settings and run the
    experiments they ask for -> exit status."""
    from dnnlib import owned_files
    owned_files.track(settings.save_path)  # files the tool writes there are recorded, so only those are ever removed
    owned_files.track(settings.cache_dir)
    standalone = [row for row in registry.all_experiments() if row.standalone and row.wanted(settings)]
    asked = run_settings.data_given(settings, registry) or any(
        row.wanted(settings) for row in registry.all_experiments() if not row.standalone)
    if settings.clear_cache:
        removal = owned_files.remove_owned(settings.cache_dir)
        print('\n'.join(removal.report('files this tool wrote into %s' % settings.cache_dir)))
        if not asked and not standalone:
            return 0
    if not asked:
        row = (standalone or [row for row in registry.all_experiments() if row.fallback])[0]
        return _run_guarded(settings, lambda s: run_settings.check_standalone(s, row, registry), row.runner())
    wanted = []

    def check(s):
        wanted.extend(run_settings.check_settings(s, registry))
        check_run_folders(s, registry)

    return _run_guarded(settings, check, lambda s: run_experiments(s, wanted))


def check_run_folders(settings, registry):
    check_output_folders(settings, registry)
    if settings.allow_large_images:
        from datasets.image_folder import allow_large_images
        allow_large_images(True)


def _run_guarded(settings, check, work):
    """check(settings), then work(settings) holding --save_path's lock, the previous run's files cleared just before
    the first new output -> exit status (2 with 'error: ...' for bad input, before any work where it can be known)."""
    from datasets.tfrecords import DatasetError
    from dnnlib import output_files
    from dnnlib.folder_lock import FolderLock
    from dnnlib.tflib import NetworkPickleError
    from dnnlib.util import DownloadError
    from experiments.outputs import check_output_names, clear_previous_outputs
    try:
        check(settings)
        output_files.check_writable_folder(settings.save_path, '--save_path')
        check_output_names(settings.save_path)
        with FolderLock(settings.save_path, '--save_path'):
            output_files.before_first_output(
                settings.save_path, lambda: clear_previous_outputs(settings.save_path,
                                                                   skip=[settings.cache_dir] + input_paths(settings)))
            work(settings)
    except (ValueError, DatasetError, NetworkPickleError, DownloadError, FileNotFoundError, FileExistsError,
            NotImplementedError) as e:
        print('error: %s' % e, file=sys.stderr)
        return 2
    except OSError as e:
        print('error: %s%s' % (e.strerror or e, ': %s' % e.filename if e.filename else ''), file=sys.stderr)
        return 2
    finally:
        output_files.before_first_output(settings.save_path, None)
    return 0


if __name__ == '__main__':
    sys.exit(main())
