"""The official utils.py names, each one call into this project's modules (networks/loading.py does the work)."""
import numpy as np

from dnnlib.util import CACHE_DIR
from networks.loading import load_network
from networks.sources import STYLEGAN_FFHQ_SOURCES, VGG16_SOURCES


def init_tf(random_seed=1234):
    """Seed NumPy and TensorFlow like the official init_tf (TF1's graph seed cannot be reproduced in TF2)."""
    import tensorflow as tf
    print('Initializing TensorFlow...\n')
    np.random.seed(random_seed)
    tf.random.set_seed(np.random.randint(1 << 31))


def initialize_stylegan(url_or_path=STYLEGAN_FFHQ_SOURCES, cache_dir=CACHE_DIR, trust_code=False, verbose=True):
    """The official FFHQ-1024 StyleGAN `Gs` (third item of the (G, D, Gs) pickle), from a URL, path or sources."""
    return load_network(url_or_path, 'generator', cache_dir, trust_code, verbose)


def initialize_feature_extractor(url_or_path=VGG16_SOURCES, cache_dir=CACHE_DIR, trust_code=False, verbose=True):
    """The VGG-16 feature network (official vgg16.pkl, 3-tuple or single network, or TorchScript vgg16.pt): an object
    with .run(images [N, 3, H, W] 0..255, minibatch_size=...) -> [N, 4096] float32."""
    return load_network(url_or_path, 'feature network', cache_dir, trust_code, verbose)
