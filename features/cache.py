"""The on-disk feature cache's key: everything that defines a cached feature, so none outlives what made it.

A cache file is named `<source>-<network>-<hash>.npz`, where the hash covers all key parts:

    format          KEY_FORMAT (files of another key format are ignored, never trusted)
    source          identity of the images (folder listing with sizes/mtimes, or tfrecords file)
    image_transform how images become uint8 RGB (e.g. 16-bit PNGs scaled by >> 8)
    network         fingerprint of the feature network (build function, kwargs, weight values)
    load_path       how features are computed: safe rebuild / trusted pickle code / TorchScript weights
    feature_code    FEATURE_CODE_VERSION, bumped whenever the feature numerics change
    minibatch_size  images per network call
    tensorflow      TensorFlow version

The parts are stored in the file (`key_parts`, JSON) and compared on load.
"""
import collections
import hashlib
import json
import os
import re

import numpy as np

# Bump whenever the numerics of feature extraction change (resize, normalization, layer, dtype).
FEATURE_CODE_VERSION = 2
KEY_FORMAT = 2


def feature_cache_parts(source, feature_net, minibatch_size):
    """OrderedDict of the key parts above for images `source` and network `feature_net`."""
    import tensorflow as tf
    return collections.OrderedDict([
        ('format', KEY_FORMAT),
        ('source', source.identity),
        ('image_transform', getattr(source, 'transform', 'uint8 as stored')),
        ('network', feature_net.fingerprint()),
        ('load_path', feature_net.load_path),
        ('feature_code', FEATURE_CODE_VERSION),
        ('minibatch_size', int(minibatch_size)),
        ('tensorflow', tf.__version__),
    ])


def _slug(text, limit=24):
    return re.sub(r'[^0-9A-Za-z]+', '_', text).strip('_')[-limit:] or 'x'


def feature_cache_name(parts, label='features'):
    """Readable, collision-free file name: '<label>-<network>-<sha256 of all parts>.npz' (label: e.g. folder name)."""
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]
    return '%s-%s-%s.npz' % (_slug(label), parts['network'][:8], digest)


def source_label(source):
    """Short readable name of an image source: its folder or file name."""
    path = getattr(source, 'folder', None) or getattr(source, 'path', None) or 'images'
    return os.path.basename(os.path.normpath(path))


def describe(parts):
    """One line listing the key parts (the long identity and fingerprint shortened)."""
    short = dict(parts, source=parts['source'][:60] + ('...' if len(parts['source']) > 60 else ''),
                 network=parts['network'][:12])
    return ', '.join('%s=%s' % (k, v) for k, v in short.items() if k != 'format')


def stored_parts(data):
    """The key parts stored in an opened cache npz, or None for files of another (older) key format."""
    if 'key_parts' not in data.files:
        return None
    try:
        parts = json.loads(str(data['key_parts']))
    except ValueError:
        return None
    return parts if isinstance(parts, dict) and parts.get('format') == KEY_FORMAT else None


# What the tool writes into --cache_dir, by folder: file-name patterns of its own outputs. `clear_cache` removes
# only files that match (feature files must also hold a key of this tool's format); any other file stays.
_TMP = r'|\.tmp_.+\.[A-Za-z0-9_]{8}|tmp_[A-Za-z0-9_]{8}'  # dnnlib.output_files temporaries (and older ones)
CACHE_FILES = {
    'features': r'^([0-9A-Za-z_]+-[0-9A-Za-z_]{1,8}-[0-9a-f]{24}\.npz' + _TMP + ')$',
    'network_sources': r'^(.+_[0-9a-f]{12}\.(build_module_src\.py|layout\.txt)' + _TMP + ')$',
    'inception': r'^(classify_image_graph_def\.pb(\.tmp\d+)?|[0-9a-f]{32}_.+' + _TMP + ')$',
    '': r'^([0-9a-f]{32}_.+' + _TMP + ')$',  # open_url downloads: <md5 of the url>_<name>
}


def _is_feature_cache_file(path):
    """True for an npz this tool wrote as a feature cache (it stores key parts with a key format)."""
    if not path.endswith('.npz'):
        return True  # a temporary of the tool (its name pattern matched)
    try:
        with np.load(path, allow_pickle=False) as data:
            parts = json.loads(str(data['key_parts'])) if 'key_parts' in data.files else None
    except (OSError, ValueError, KeyError, EOFError):
        return False
    return isinstance(parts, dict) and 'format' in parts


def clear_cache(cache_dir):
    """Remove the files this tool wrote into cache_dir (feature cache, saved sources, downloads); returns their paths.

    Only files whose names match the tool's own patterns (CACHE_FILES) -- and, for feature files, that hold the
    tool's cache key -- are removed; folders only when that leaves them empty. Anything else stays.
    """
    removed = []
    for sub, pattern in CACHE_FILES.items():
        folder = os.path.join(cache_dir, sub)
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            if not os.path.isfile(path) or os.path.islink(path) or not re.match(pattern, name):
                continue
            if sub == 'features' and not _is_feature_cache_file(path):
                continue
            os.remove(path)
            removed.append(path)
        if sub and not os.listdir(folder):
            os.rmdir(folder)
    return removed
