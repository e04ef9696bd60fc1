"""The feature cache's key covers everything that defines a feature; stale or old-format files are never used."""
import io
import json
import os

import numpy as np
import PIL.Image
import pytest

from datasets.image_folder import ImageFolder
from features import cache as feature_cache, store as real_features
from features.store import CachedImageFeatures
from metrics.options import Options
from networks.loading import load_network_file
from network_factory import write_vgg_pickle
from conftest import listing


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('cache_assets')
    folder = root / 'images'
    folder.mkdir()
    rs = np.random.RandomState(0)
    for i in range(6):
        PIL.Image.fromarray(rs.randint(0, 256, size=(40, 40, 3)).astype(np.uint8)).save(str(folder / ('%d.png' % i)))
    vgg = write_vgg_pickle(str(root / 'vgg16.pkl'), width_divisor=32, seed=1)
    return {'folder': str(folder), 'vgg': vgg}


def make_store(setup, cache, net=None, verbose=False):
    net = net or load_network_file(setup['vgg'])[2]
    return CachedImageFeatures(ImageFolder(setup['folder'], verbose=verbose), net, Options(minibatch_size=2), cache)


def count_computations(monkeypatch):
    calls = []
    real = real_features.features_of_images

    def counting(*args, **kwargs):
        calls.append(args[2])
        return real(*args, **kwargs)
    monkeypatch.setattr(real_features, 'features_of_images', counting)
    return calls


def test_unchanged_rerun_hits_and_prints_the_key_parts(setup, tmp_path, monkeypatch, capsys):
    calls = count_computations(monkeypatch)
    first = make_store(setup, str(tmp_path)).window(0, 6)
    assert calls == [6]
    name = os.path.basename(make_store(setup, str(tmp_path)).cache_path)
    assert name.startswith('images-') and name.endswith('.npz')
    with np.load(str(tmp_path / name)) as data:
        parts = json.loads(str(data['key_parts']))
    assert set(parts) == {'format', 'source', 'image_transform', 'network', 'load_path', 'feature_code',
                          'minibatch_size', 'tensorflow'}
    capsys.readouterr()
    again = make_store(setup, str(tmp_path)).window(0, 6)
    assert calls == [6]  # nothing recomputed
    out = capsys.readouterr().out
    assert 'from cache' in out and 'load_path=safe rebuild' in out and 'feature_code=%d' % \
        feature_cache.FEATURE_CODE_VERSION in out
    np.testing.assert_array_equal(first, again)


def test_a_new_feature_code_version_misses(setup, tmp_path, monkeypatch):
    calls = count_computations(monkeypatch)
    make_store(setup, str(tmp_path)).window(0, 6)
    monkeypatch.setattr(feature_cache, 'FEATURE_CODE_VERSION', feature_cache.FEATURE_CODE_VERSION + 1)
    make_store(setup, str(tmp_path)).window(0, 6)
    assert calls == [6, 6] and len(listing(tmp_path)) == 2


def test_another_load_path_on_the_same_weights_misses(setup, tmp_path, monkeypatch):
    calls = count_computations(monkeypatch)
    safe = make_store(setup, str(tmp_path))
    safe_features = safe.window(0, 6)
    trusted_net = load_network_file(setup['vgg'], trust_code=True)[2]
    trusted = make_store(setup, str(tmp_path), trusted_net)
    assert trusted.cache_path != safe.cache_path and trusted.key_parts['network'] == safe.key_parts['network']
    trusted_features = trusted.window(0, 6)
    assert calls == [6, 6]
    # Two implementations (stored TF1 graph vs TF2 rebuild) round differently, more so on Eigen kernels:
    # the documented check_pickle tolerance, 1e-4 of the largest feature.
    assert np.abs(trusted_features - safe_features).max() <= 1e-4 * np.abs(safe_features).max()


def test_an_old_format_cache_file_is_ignored(setup, tmp_path, monkeypatch, capsys):
    calls = count_computations(monkeypatch)
    store = make_store(setup, str(tmp_path))
    np.savez(store.cache_path, features=np.full([6, 128], 7, np.float32), identity=np.array('x'))
    capsys.readouterr()
    features = make_store(setup, str(tmp_path)).window(0, 6)
    assert 'older key format' in capsys.readouterr().out
    assert calls == [6] and not (features == 7).all()


def test_a_file_whose_stored_parts_differ_is_not_trusted(setup, tmp_path, monkeypatch, capsys):
    calls = count_computations(monkeypatch)
    store = make_store(setup, str(tmp_path))
    parts = dict(store.key_parts, tensorflow='0.0')
    np.savez(store.cache_path, features=np.full([6, 128], 7, np.float32), key_parts=np.array(json.dumps(parts)))
    features = make_store(setup, str(tmp_path)).window(0, 6)
    assert 'key parts differ' in capsys.readouterr().out and calls == [6] and not (features == 7).all()


@pytest.mark.parametrize('field', ['source', 'image_transform', 'network', 'load_path', 'feature_code',
                                   'minibatch_size', 'tensorflow'])
def test_each_key_part_changes_the_file_name(field):
    parts = {'format': 2, 'source': 'folder:/data/reals:abc', 'image_transform': 'rgb8', 'network': 'f' * 64,
             'load_path': 'safe rebuild', 'feature_code': 2, 'minibatch_size': 8, 'tensorflow': '2.21.0'}
    changed = dict(parts, **{field: parts[field] + 1 if isinstance(parts[field], int) else parts[field] + 'x'})
    assert feature_cache.feature_cache_name(parts) != feature_cache.feature_cache_name(changed)
    assert feature_cache.feature_cache_name(parts) == feature_cache.feature_cache_name(dict(parts))
