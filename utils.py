"""Small helpers shared by the command-line tools: atomic file output and seeding."""
import contextlib
import json
import os
import tempfile

import numpy as np


@contextlib.contextmanager
def atomic_output(path, mode='w'):
    """Open a temporary file beside `path`; on success it replaces `path`, on error it is removed.

    Readers never see a half-written file, and an interrupted run leaves the old file (or none).
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.tmp_' + os.path.basename(path) + '.', dir=folder)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


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
# Google Drive copies the official code downloads (utils.py of kynkaat/improved-precision-and-recall-metric).
STYLEGAN_FFHQ_URL = 'https://drive.google.com/uc?id=1zwhFLIvQYyNVOwQCLAhIJHmN7sjvAM84'  # karras2019stylegan-ffhq-1024x1024.pkl
VGG16_URL = 'https://drive.google.com/uc?id=1fk6r8vetqpRShtEODXm9maDytbMkHLfa'  # vgg16.pkl


def init_tf(random_seed=1234):
    """Seed NumPy and TensorFlow like the official init_tf (TF1's graph seed cannot be reproduced in TF2)."""
    import tensorflow as tf
    print('Initializing TensorFlow...\n')
    np.random.seed(random_seed)
    tf.random.set_seed(np.random.randint(1 << 31))


def _load_pickled(url_or_path, cache_dir, what):
    from dnnlib import util
    from dnnlib.tflib import load_network_pkl
    with util.open_url(url_or_path, cache_dir=cache_dir) as f:
        nets = load_network_pkl(f)
    if isinstance(nets, tuple):
        if len(nets) != 3:
            raise ValueError('%s: expected a 3-tuple pickle (as the official file), got %d items' % (what, len(nets)))
        return nets[2]
    return nets


def initialize_stylegan(url_or_path=STYLEGAN_FFHQ_URL, cache_dir=DEFAULT_CACHE_DIR):
    """The official FFHQ-1024 StyleGAN `Gs` (third item of the (G, D, Gs) pickle), from a URL or local path."""
    return _load_pickled(url_or_path, cache_dir, 'StyleGAN pickle')


def initialize_feature_extractor(url_or_path=VGG16_URL, cache_dir=DEFAULT_CACHE_DIR):
    """The VGG-16 feature network (third item of the official vgg16.pkl; a single-network pickle also works)."""
    return _load_pickled(url_or_path, cache_dir, 'VGG16 pickle')
