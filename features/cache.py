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
