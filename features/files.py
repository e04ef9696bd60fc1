"""Feature files for --real_features/--fake_features, and the feature sets a run saves.

A file is an .npy (one array [N, d]) or an .npz. In an .npz the features are, in this order:
the array named after `FILE.npz:KEY`; the array of the requested role (`real_features` or
`fake_features`: what `--save_features` writes, both sets in one file); `features`, if it is the
only array besides the tool's metadata; the only array. A file with several candidate arrays
and none of these is refused, naming its arrays -- never guessed.
"""
import os

import numpy as np

from dnnlib.array_files import load_array_file
from dnnlib.output_files import atomic_output
from metrics.feature_checks import as_feature_matrix

METADATA = ('key_parts',)  # arrays the feature cache stores beside `features`


def split_key(spec):
    """'path.npz:key' -> (path, key); a path that exists as given (e.g. C:\\x.npz) -> (path, None)."""
    if os.path.exists(spec) or ':' not in os.path.basename(spec):
        return spec, None
    path, key = spec.rsplit(':', 1)
    return path, key


def load_features(spec, role=None):
    """float32 [N, d] features of `role` ('real', 'fake' or None) from `spec` (a path, or path:key)."""
    path, key = split_key(spec)
    data = load_array_file(path, 'feature file')  # declared sizes checked before NumPy allocates them
    if isinstance(data, np.lib.npyio.NpzFile):
        with data:
            array = _choose_array(path, data, key, role)
    else:
        if key is not None:
            raise ValueError('%s is an .npy file with one array; it has no key %r' % (path, key))
        array = data
    return as_feature_matrix(array, os.path.basename(path))


def _choose_array(path, data, key, role):
    keys = list(data.keys())
    if key is not None:
        if key not in keys:
            raise ValueError('%s has no array %r (it holds %s)' % (path, key, keys))
        return data[key]
    if role is not None and role + '_features' in keys:
        return data[role + '_features']
    candidates = [k for k in keys if k not in METADATA]
    if candidates == ['features'] or len(candidates) == 1:
        return data[candidates[0]]
    raise ValueError('%s holds several arrays %s; name the one to use as %s:KEY (files written by --save_features '
                     'hold real_features and fake_features, read by role)' % (path, keys, path))


def save_features(path, features, **extra):
    """Write one feature set [N, d] as `features` (plus extra arrays) to an .npz, atomically."""
    _save_npz(path, features=np.asarray(features, np.float32), **extra)


def save_feature_sets(path, real, fake):
    """Write the real [N, d] and generated [M, d] features of one evaluation to an .npz by role, atomically."""
    _save_npz(path, real_features=np.asarray(real, np.float32), fake_features=np.asarray(fake, np.float32))


def _save_npz(path, **arrays):
    with atomic_output(path, 'wb') as f:
        np.savez(f, **arrays)
