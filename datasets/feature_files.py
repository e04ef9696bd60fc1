"""Precomputed feature files (.npz with a 'features' array, or .npy) for --real_features/--fake_features."""
import os

import numpy as np

from metrics.feature_checks import as_feature_matrix


def load_features(path):
    """float32 [N, d] features from `path`; ValueError with the reason when unusable."""
    if not os.path.isfile(path):
        raise FileNotFoundError('feature file %s does not exist' % path)
    try:
        data = np.load(path, allow_pickle=False)
    except Exception as e:
        raise ValueError('cannot read feature file %s: %s' % (path, e)) from e
    if isinstance(data, np.lib.npyio.NpzFile):
        with data:
            keys = list(data.keys())
            if 'features' in keys:
                array = data['features']
            elif len(keys) == 1:
                array = data[keys[0]]
            else:
                raise ValueError('%s holds arrays %s; name the features array "features"' % (path, keys))
    else:
        array = data
    return as_feature_matrix(array, os.path.basename(path))


def save_features(path, features, **extra):
    """Write features [N, d] (plus any extra arrays) to an .npz, atomically."""
    from utils import atomic_output
    with atomic_output(path, 'wb') as f:
        np.savez(f, features=np.asarray(features, np.float32), **extra)
