"""The run layer: an experiment added through its row alone, the settings value, --convention end to end."""
import json
import numpy as np
import pytest

import run_metric
from dummy_experiment import ROW
from experiments.registry import REGISTRY


@pytest.fixture
def features(tmp_path):
    rs = np.random.RandomState(5)
    real, fake = rs.rand(60, 8).astype(np.float32), rs.rand(50, 8).astype(np.float32)
    np.save(str(tmp_path / 'real.npy'), real)
    np.save(str(tmp_path / 'fake.npy'), fake)
    return real, fake


def test_an_experiment_is_one_module_and_one_row(features, tmp_path, capfd):
    registry = REGISTRY.with_experiment(ROW)
    out = tmp_path / 'out'
    args = ['--real_features', str(tmp_path / 'real.npy'), '--save_path', str(out), '--quiet']
    assert run_metric.main(args + ['--dummy_mean', '7'], registry) == 0
    results = json.load(open(str(out / 'results.json')))
    np.testing.assert_allclose(results['dummy_mean']['mean'], features[0][:7].astype(np.float64).mean(axis=0),
                               rtol=0, atol=1e-12)
    assert results['config']['dummy_mean'] == 7 and results['dummy_mean']['convention'] == 'official'
    assert 'dummy mean of 7 rows from 0' in capfd.readouterr().out
    # its check runs before any work; the "nothing to do" message names it; --help lists its flag
    assert run_metric.main(args + ['--dummy_mean', '5000'], registry) == 2
    assert 'at most 1000 rows' in capfd.readouterr().err
    assert run_metric.main(args, registry) == 2
    assert '--dummy_mean N' in capfd.readouterr().err
    with pytest.raises(SystemExit):
        run_metric.main(['--help'], registry)
    assert '--dummy_mean DUMMY_MEAN' in capfd.readouterr().out
    # without the row the flag does not exist
    with pytest.raises(SystemExit):
        run_metric.main(args + ['--dummy_mean', '7'])


def test_settings_are_one_frozen_typed_value():
    import dataclasses
    settings = run_metric.parse_args(['--real_features', 'r.npy', '--fake_features', 'f.npy', '--nhood_sizes', '3',
                                      '5', '--convention', 'strict'])
    fields = {f.name: f.type for f in dataclasses.fields(settings)}
    assert fields['num_images'] is not None and fields['options'].__name__ == 'Options'
    assert settings.nhood_sizes == (3, 5) and settings.convention.rule == '<' and settings.given >= {'convention'}
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.num_images = 3
    # the pr50k3 protocol's settings come from its row: NVIDIA's float16 arithmetic, k = 3, 10,000-row blocks
    pr50k3 = run_metric.parse_args(['--data_dir', 'x', '--protocol', 'stylegan2_pr50k3'])
    assert pr50k3.convention.name == 'nvidia_fp16' and pr50k3.nhood_sizes == (3,) and pr50k3.num_images == 50000
    assert pr50k3.options.row_batch_size == pr50k3.options.col_batch_size == 10000
    with pytest.raises(ValueError, match='cannot be combined with --convention'):
        run_metric.parse_args(['--data_dir', 'x', '--protocol', 'stylegan2_pr50k3', '--convention', 'strict'])


def test_convention_reaches_the_distance_block(tmp_path):
    """--convention strict ('<', prdc's rule) on integer features, where many distances tie with radii exactly,
    gives the numbers of an independent float64 NumPy computation with '<' (and the default gives them with '<=')."""
    rs = np.random.RandomState(3)
    real, fake = (rs.randint(0, 3, size=(n, 4)).astype(np.float32) for n in (70, 60))
    np.save(str(tmp_path / 'ri.npy'), real)
    np.save(str(tmp_path / 'fi.npy'), fake)

    def squared(a, b):
        return ((a[:, None, :].astype(np.float64) - b[None, :, :]) ** 2).sum(-1)

    def expected(inside):
        r_real = np.sort(squared(real, real), axis=1)[:, 3]
        r_fake = np.sort(squared(fake, fake), axis=1)[:, 3]
        return [inside(squared(fake, real), r_real[None, :]).any(axis=1).mean()], \
            [inside(squared(real, fake), r_fake[None, :]).any(axis=1).mean()]

    results = {}
    for name, extra in (('strict', ['--convention', 'strict']), ('official', [])):
        out = tmp_path / name
        assert run_metric.main(['--real_features', str(tmp_path / 'ri.npy'), '--fake_features',
                                str(tmp_path / 'fi.npy'), '--save_path', str(out), '--quiet'] + extra) == 0
        results[name] = json.load(open(str(out / 'results.json')))
        assert results[name]['config']['convention'] == name
    for name, inside in (('strict', np.less), ('official', np.less_equal)):
        precision, recall = expected(inside)
        assert results[name]['evaluation']['precision'] == precision
        assert results[name]['evaluation']['recall'] == recall
    assert results['strict']['evaluation']['precision'] != results['official']['evaluation']['precision']
