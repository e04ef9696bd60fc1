"""Features of the real images, read as the official stream: sequential, wrapping windows.

The official sweep reads a fresh window of `num_images` records per psi from one
unshuffled, repeating stream, so over the sweep it computes VGG features of
150,000 images. A record's features do not depend on when it is read, so here
each record's features are computed once, kept in an on-disk cache (npz holding
the first K records' features, written atomically, keyed by everything that
defines them: see features/cache.py) and windows are index slices of it.
"""
import json
import os

import numpy as np

from dnnlib import owned_files
from dnnlib.output_files import NotOurFileError
from features import cache as feature_cache
from features.extraction import features_of_images
from features.files import save_features
from metrics.options import DEFAULT


class FeatureArray:
    """Real features given directly (e.g. --real_features): windows of a fixed array [N, D]."""

    def __init__(self, features, identity='array'):
        self.features = features
        self.num_images = len(features)
        self.identity = identity

    def window(self, start, count):
        return self.features[(start + np.arange(count)) % self.num_images]


class CachedImageFeatures:
    """Features of the images of `source` (TFRecordImages or ImageFolder), computed on demand and cached.

    Attributes: key_parts (what the cache key covers), cache_path (None without a cache), features.
    """

    def __init__(self, source, feature_net, options=DEFAULT, cache_dir=None, desc='real features'):
        self.source = source
        self.num_images = source.num_images
        self.feature_net = feature_net
        self.options = options
        self.desc = desc  # progress bar label
        self.identity = source.identity
        self.key_parts = feature_cache.feature_cache_parts(source, feature_net, options.minibatch_size)
        self.cache_path = (os.path.join(cache_dir, feature_cache.feature_cache_name(
            self.key_parts, feature_cache.source_label(source)))
                           if cache_dir else None)
        if cache_dir:
            owned_files.track(cache_dir)  # cache files are recorded: --clear_cache removes only those
        self.features = np.zeros([0, feature_net.output_shape[1]], np.float32)
        if self.cache_path and os.path.isfile(self.cache_path):
            self._load_cache()

    def _load_cache(self):
        try:
            with np.load(self.cache_path, allow_pickle=False) as data:
                parts = feature_cache.stored_parts(data)
                if parts is None:
                    print('Ignoring feature cache %s: written with an older key format' % self.cache_path)
                    return
                if parts != dict(self.key_parts):
                    print('Ignoring feature cache %s: its key parts differ' % self.cache_path)
                    return
                features = data['features']
        except Exception as e:  # a damaged cache is recomputed, never trusted
            print('Ignoring unreadable feature cache %s (%s)' % (self.cache_path, e))
            return
        if features.ndim == 2 and features.shape[1] == self.features.shape[1] and np.isfinite(features).all():
            self.features = features.astype(np.float32)
            print('Features of %d images from cache %s: %s'
                  % (len(features), self.cache_path, feature_cache.describe(self.key_parts)))

    def _ensure_prefix(self, count):
        have = len(self.features)
        if count <= have:
            return
        new = features_of_images(self.feature_net, self.source.iterate(have), count - have, self.options, self.desc)
        self.features = np.concatenate([self.features, new], axis=0)
        if self.cache_path:
            try:
                save_features(self.cache_path, self.features, key_parts=np.array(json.dumps(self.key_parts)))
            except NotOurFileError as e:  # a file the tool cannot prove its own holds the name: left alone
                print('Note: not caching these features: %s' % e)
                self.cache_path = None

    def window(self, start, count):
        """Features [count, D] of records start, start+1, ... (modulo the dataset size, like the repeating stream)."""
        start %= self.num_images
        end = self.num_images if start + count > self.num_images else start + count
        self._ensure_prefix(end)
        return self.features[(start + np.arange(count)) % self.num_images]


class RealStream:
    """The official reader's position: successive `take(count)` calls return successive windows."""

    def __init__(self, features, start=0):
        self.features = features
        self.position = start

    def take(self, count):
        start = self.position
        self.position += count
        if count > self.features.num_images:
            print('Note: %d real images requested but the dataset has %d; the stream wraps around like the '
                  'official repeating reader (images repeat)' % (count, self.features.num_images))
        return start % self.features.num_images, self.features.window(start, count)
