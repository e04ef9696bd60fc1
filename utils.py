"""Small helpers shared by the command-line tools: atomic file output and seeding."""
import contextlib
import json
import os
import re
import tempfile

import numpy as np


# TensorFlow's C++ log lines: glog/absl style 'I1203 15:34:25.123456  1234 file.cc:12] ...' (or the
# 'I0000 00:00:<epoch>' form absl uses before initialization) and absl's one-time preamble.
_TF_LOG_LINE = re.compile(rb'^([IWE]\d{4} \d\d:\d\d:[\d.]+ +\d+ [\w./-]+:\d+\]|WARNING: All log messages before absl)')


def quiet_tensorflow():
    """Import TensorFlow without its C++ log lines on stderr, then and later; silence Python-side warnings.

    Unless the user set TF_CPP_MIN_LOG_LEVEL (then their choice stands): sets it to 2, mutes file
    descriptor 2 while TensorFlow loads and runs its first op (the oneDNN notice and the CPU-feature
    guard print before any level applies), and from then on passes what C++ code writes to fd 2
    through a filter that drops TensorFlow's info, warning and error log lines (e.g. absl's preamble,
    MLIR notices when a graph session starts, oneDNN's float16 fallback notice; a real op error also
    reaches Python as an exception) and forwards everything else, fatal (F) lines included. Python's own `sys.stderr` (messages, warnings, progress bars) writes directly.
    Call before anything imports tensorflow; later calls do nothing.
    """
    import logging
    import sys
    if 'tensorflow' in sys.modules:
        return
    user_choice = 'TF_CPP_MIN_LOG_LEVEL' in os.environ
    saved = None
    if not user_choice:
        os.environ['TF_CPP_MIN_LOG_LEVEL'] = '2'
        try:
            sys.stderr.flush()
            saved = os.dup(2)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.close(devnull)
        except OSError:  # no usable descriptor 2 (some embedded interpreters): just import
            saved = None
    try:
        import tensorflow as tf
        tf.constant(0) + 1  # device and CPU-feature initialization happen here
    finally:
        if saved is not None:
            _filter_native_stderr(saved)
    if not user_choice:
        tf.get_logger().setLevel(logging.ERROR)


def _filter_native_stderr(real_fd):
    """Route fd 2 through a thread that drops TensorFlow log lines; sys.stderr writes to `real_fd` directly."""
    import atexit
    import sys
    import threading
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, 2)
    os.close(write_fd)
    sys.stderr = open(os.dup(real_fd), 'w', buffering=1, encoding=sys.stderr.encoding or 'utf-8',
                      errors='backslashreplace')

    def forward():
        with open(read_fd, 'rb', buffering=0) as pipe:
            for line in iter(pipe.readline, b''):
                if not _TF_LOG_LINE.match(line):
                    os.write(real_fd, line)

    thread = threading.Thread(target=forward, name='native-stderr-filter', daemon=True)
    thread.start()

    def drain():  # close the pipe's last writer so the thread sees the end and forwards what is left
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
        thread.join(timeout=2)
    atexit.register(drain)


_BEFORE_FIRST_OUTPUT = {}  # folder -> function to call once, before the first output is written below it
_WRITTEN = set()  # absolute paths this process wrote with atomic_output


def written_files(folder):
    """Paths (relative to `folder`, '/'-separated, sorted) this process wrote with `atomic_output` below folder."""
    folder = os.path.abspath(folder)
    return sorted(os.path.relpath(p, folder).replace(os.sep, '/') for p in _WRITTEN
                  if p.startswith(folder + os.sep) and os.path.lexists(p))


def before_first_output(folder, func):
    """Call func() once, when `atomic_output` is first about to write a file inside `folder` (None: forget)."""
    folder = os.path.abspath(folder)
    if func is None:
        _BEFORE_FIRST_OUTPUT.pop(folder, None)
    else:
        _BEFORE_FIRST_OUTPUT[folder] = func


def _run_before_first_output(path):
    for folder in list(_BEFORE_FIRST_OUTPUT):
        if path == folder or path.startswith(folder + os.sep):
            _BEFORE_FIRST_OUTPUT.pop(folder)()


@contextlib.contextmanager
def atomic_output(path, mode='w'):
    """Open a temporary file beside `path`; on success it replaces `path`, on error it is removed.

    Readers never see a half-written file, and an interrupted run leaves the old file (or none).
    A function registered with `before_first_output` for a folder above `path` runs first.
    """
    _run_before_first_output(os.path.abspath(path))
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.tmp_' + os.path.basename(path) + '.', dir=folder)
    try:
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600; give the file the normal permissions
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _WRITTEN.add(os.path.abspath(path))
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def check_writable_folder(folder, flag):
    """Create `folder` if needed and prove a file can be written in it; ValueError naming the flag otherwise."""
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        raise ValueError('%s %s cannot be written: %s' % (flag, folder, e.strerror or e)) from e


def current_umask():
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save_truncation_txt(path, rows):
    """Write the official `stylegan_truncation.txt`: header 'truncation_psi,precision,recall', float32 rows, %.18e."""
    table = np.asarray(rows, dtype=np.float32).reshape(-1, 3)
    with atomic_output(path) as f:
        np.savetxt(f, table, header='truncation_psi,precision,recall', delimiter=',', comments='')


def save_json(path, obj):
    """Write `obj` as indented JSON, atomically."""
    with atomic_output(path) as f:
        json.dump(obj, f, indent=2, sort_keys=False)
        f.write('\n')


# ---- the official networks ----------------------------------------------------------------------------------

BASE_PATH = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CACHE_DIR = os.path.join(BASE_PATH, '_cache')


class NetworkSource:
    """One published location of a network file: url, sha256/size where published, and where it is documented."""

    def __init__(self, url, where, sha256=None, size=None):
        self.url, self.where, self.sha256, self.size = url, where, sha256, size


# Tried in this order; the next is tried when one answers with Google Drive's quota page, an error page or an
# HTTP error. The official code's own Google Drive copy comes first.
STYLEGAN_FFHQ_SOURCES = (
    NetworkSource('https://drive.google.com/uc?id=1zwhFLIvQYyNVOwQCLAhIJHmN7sjvAM84',
                  'Google Drive, kynkaat/improved-precision-and-recall-metric utils.py'),
    NetworkSource('https://drive.google.com/uc?id=1MEGjdvVpUsu1jB4zrXZN7Y4kBBOzizDQ',
                  'Google Drive, NVlabs/stylegan README.md and pretrained_example.py'),
)
VGG16_SOURCES = (
    NetworkSource('https://drive.google.com/uc?id=1fk6r8vetqpRShtEODXm9maDytbMkHLfa',
                  'Google Drive, kynkaat/improved-precision-and-recall-metric utils.py (3-tuple pickle)'),
    NetworkSource('https://nvlabs-fi-cdn.nvidia.com/stylegan/networks/metrics/vgg16.pkl',
                  'NVIDIA CDN, NVlabs/stylegan2 metrics/precision_recall.py (single-network pickle)'),
    NetworkSource('https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada/pretrained/metrics/vgg16.pkl',
                  'NVIDIA CDN, NVlabs/stylegan2-ada metrics/precision_recall.py (single-network pickle)'),
    NetworkSource('https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/metrics/vgg16.pt',
                  'NVIDIA CDN, NVlabs/stylegan2-ada-pytorch metrics/precision_recall.py (TorchScript)',
                  sha256='b437eb095feaeb0b83eb3fa11200ebca4548ee39a07fb944a417ddc516cc07c3'),
)
STYLEGAN_FFHQ_URL = STYLEGAN_FFHQ_SOURCES[0].url  # karras2019stylegan-ffhq-1024x1024.pkl
VGG16_URL = VGG16_SOURCES[0].url  # vgg16.pkl


def init_tf(random_seed=1234):
    """Seed NumPy and TensorFlow like the official init_tf (TF1's graph seed cannot be reproduced in TF2)."""
    import tensorflow as tf
    print('Initializing TensorFlow...\n')
    np.random.seed(random_seed)
    tf.random.set_seed(np.random.randint(1 << 31))


def _check_network_file(path):
    """Raise unless `path` is a complete network file (a parsable dnnlib pickle or TorchScript archive)."""
    from networks import loading
    from dnnlib.tflib.safe_pickle import read_network_states
    with open(path, 'rb') as f:
        if loading.is_zip(f):
            from dnnlib import torchscript
            torchscript.read_torchscript(f)
        else:
            read_network_states(f.read())


def open_network(sources, cache_dir=DEFAULT_CACHE_DIR, verbose=True, num_attempts=10):
    """Open the first source that delivers a complete file -> (binary file, the NetworkSource used).

    sources: a local path or URL (str) or a sequence of NetworkSource, tried in order.
    """
    from dnnlib import util
    if isinstance(sources, str):
        sources = [NetworkSource(sources, 'given on the command line')]
    failures, errors = [], []
    for source in sources:
        try:
            f = util.open_url(source.url, cache_dir=cache_dir, verbose=verbose, expected_sha256=source.sha256,
                              expected_size=source.size, validate=_check_network_file, num_attempts=num_attempts)
        except util.DownloadError as e:
            failures.append('%s: %s' % (source.url, e))
            errors.append(e)
            if len(sources) > 1:
                print('Could not get %s (%s)%s' % (source.url, e, '; trying the next source' if
                                                   source is not sources[-1] else ''))
            continue
        if len(sources) > 1 or util.is_url(source.url):
            print('Network source: %s [%s]' % (source.url, source.where))
        return f, source
    remedy = ''
    if any(isinstance(e, util.HostUnreachable) for e in errors):
        remedy = ('\nNo network? Download the file elsewhere and pass its path (--network FILE, --feature_network FILE; '
                  'NVIDIA\'s vgg16.pt works as the feature network).')
    raise util.DownloadError('no source could deliver the file (tried %d):\n  %s%s'
                             % (len(failures), '\n  '.join(failures), remedy))


def load_network(sources, kind, cache_dir=DEFAULT_CACHE_DIR, trust_code=False, verbose=True):
    """The network of `kind` ('generator' or 'feature network') from the first working source.

    Returns the network with `.source` (url or path used) and `.load_path` set. A cached
    download that turns out unreadable is removed and named in the error, so a rerun fetches it again.
    """
    from dnnlib import util
    from networks import loading
    f, source = open_network(sources, cache_dir, verbose)
    what = {'generator': 'StyleGAN pickle', 'feature network': 'feature network file'}.get(kind, kind)
    with f:
        cached = getattr(f, 'name', None) if util.is_url(source.url) else None
        try:
            nets = loading.load_network_file(f, trust_code=trust_code)
        except util.CorruptFileError as e:
            if cached and os.path.isfile(cached):
                os.remove(cached)
                raise type(e)('%s: %s (this cached copy was removed; run again to download it anew)'
                              % (cached, e)) from e
            raise type(e)('%s: %s' % (source.url, e)) from e
        net = loading.pick_network(nets, kind, '%s %s' % (what, source.url))
    net.source = source.url
    _note_network(net, cache_dir, verbose)
    return net


_NOTED = set()


def _note_network(net, cache_dir, verbose):
    """Once per network and run: print the layout mapping, save source + layout, point to the check tool."""
    from networks import loading
    from dnnlib.tflib.safe_pickle import is_verified_source
    key = (net.fingerprint(), net.load_path)
    if key in _NOTED:
        return
    _NOTED.add(key)
    state = getattr(net, 'state', net)
    if verbose:
        print('%s %r (%s, %s):' % (net.kind.capitalize(), net.name, net.build_func_name, net.load_path))
        print('\n'.join(loading.describe_layout(net)))
    if cache_dir is None:
        return
    try:
        src_path, layout_path, new = loading.save_network_notes(net, os.path.join(cache_dir, 'network_sources'))
    except OSError as e:
        print('Note: could not save the network source beside the cache (%s)' % e)
        return
    if verbose:
        print('Stored build source and layout: %s, %s' % (src_path, layout_path))
    if new and not is_verified_source(state):
        flag = '' if net.load_path == loading.TORCHSCRIPT else ' --trust_pickle_code'
        print('This network\'s stored source is not one this project has verified; to check it against the TF2 '
              'rebuild, run: python -m networks.check_pickle %s%s' % (getattr(net, 'source', '<file>'), flag))


def initialize_stylegan(url_or_path=STYLEGAN_FFHQ_SOURCES, cache_dir=DEFAULT_CACHE_DIR, trust_code=False,
                        verbose=True):
    """The official FFHQ-1024 StyleGAN `Gs` (third item of the (G, D, Gs) pickle), from a URL, path or sources."""
    return load_network(url_or_path, 'generator', cache_dir, trust_code, verbose)


def initialize_feature_extractor(url_or_path=VGG16_SOURCES, cache_dir=DEFAULT_CACHE_DIR, trust_code=False,
                                 verbose=True):
    """The VGG-16 feature network: official vgg16.pkl (3-tuple or single network) or TorchScript vgg16.pt.

    Returns an object with .run(images [N, 3, H, W] 0..255, minibatch_size=...) -> [N, F] float32.
    """
    return load_network(url_or_path, 'feature network', cache_dir, trust_code, verbose)
