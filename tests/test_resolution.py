"""float32 cancellation is detected: a loud warning with what to do, instead of a silent number (metrics.resolution).

Each case is checked against float64 arithmetic computed here, so the test shows the number really is wrong
where it warns, and that the official fixtures (real-scale features) raise no warning."""
import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import precision_recall
from conftest import REPO, shared_path
from metrics.manifold_stats import ResolutionWarning

rs = np.random.RandomState(0)
BASE_REAL, BASE_FAKE = rs.randn(600, 16), rs.randn(600, 16) + 0.3
WIDE_REAL, WIDE_FAKE = rs.randn(600, 512), rs.randn(600, 512) + 0.1
OUTLIER = BASE_REAL.copy()
OUTLIER[0] *= 1e15
CASES = {
    'common offset 1e4, d=16': (BASE_REAL + 1e4, BASE_FAKE + 1e4, 'float32'),
    'common offset 1000, d=512': (WIDE_REAL + 1000, WIDE_FAKE + 1000, 'float32'),
    'scaled by 1e-20': (BASE_REAL * 1e-20, BASE_FAKE * 1e-20, 'float32'),
    'one row at 1e15': (OUTLIER, BASE_FAKE, 'float32'),
    'float16 at scale 1e-4': (BASE_REAL * 1e-4, BASE_FAKE * 1e-4, 'float16'),
}


def exact(real, fake):
    """Precision and recall at k=3 in float64 with distances of differences (no cancellation at all)."""
    def radii(x):
        d = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
        return np.sort(d, axis=1)[:, 3]
    real, fake = real.astype(np.float64), fake.astype(np.float64)
    cross = ((fake[:, None, :] - real[None, :, :]) ** 2).sum(-1)
    return (cross <= radii(real)[None]).any(1).mean(), (cross.T <= radii(fake)[None]).any(1).mean()


@pytest.mark.parametrize('name', sorted(CASES))
def test_unresolvable_features_warn_and_the_number_is_really_off(name):
    real, fake, dtype = CASES[name]
    with pytest.warns(ResolutionWarning, match='cannot resolve these features.*--dtype float64') as caught:
        state = precision_recall.knn_precision_recall_details(real, fake, [3], dtype, verbose=False)
    assert state['resolution']['unresolved_real'] + state['resolution']['unresolved_fake'] > 0 \
        or state['resolution']['subnormal'], str(caught[0].message)
    p, r = exact(real.astype(np.float32), fake.astype(np.float32))
    assert max(abs(state['precision'][0] - p), abs(state['recall'][0] - r)) > 0.05  # the warning is deserved


def test_float64_arithmetic_gives_the_exact_numbers_where_float32_cannot():
    real, fake, _ = CASES['common offset 1e4, d=16']
    with warnings.catch_warnings():
        warnings.simplefilter('error', ResolutionWarning)  # float64 resolves it: no warning
        state = precision_recall.knn_precision_recall_features(real, fake, dtype='float64', verbose=False)
    p, r = exact(real, fake)
    assert abs(state['precision'][0] - p) < 0.01 and abs(state['recall'][0] - r) < 0.01


@pytest.mark.parametrize('case', ['dup_gauss_n525_m500_d32', 'dup_int_n525_m500_d32', 'gauss_n1000_d64',
                                  'multik_n800_d128', 'realism_n1000_m250_d4096', 'shift_n1500_m1000_d512',
                                  'vgglike_n600_d4096'])
def test_official_fixtures_raise_no_warning(case):
    with np.load(shared_path('fixtures', 'pr_official', case + '.inputs.npz')) as data:
        ref, evl = data['ref_features'], data['eval_features']
    with warnings.catch_warnings():
        warnings.simplefilter('error', ResolutionWarning)
        state = precision_recall.knn_precision_recall_details(ref, evl, [3], verbose=False)
    assert 'resolution' not in state


def test_the_command_line_warns_records_it_and_offers_float64(tmp_path):
    real, fake, _ = CASES['common offset 1e4, d=16']
    np.save(str(tmp_path / 'r.npy'), real)
    np.save(str(tmp_path / 'f.npy'), fake)
    runs = {}
    for dtype in ('float32', 'float64'):
        out = tmp_path / dtype
        result = subprocess.run([sys.executable, os.path.join(REPO, 'run_metric.py'), '--real_features',
                                 str(tmp_path / 'r.npy'), '--fake_features', str(tmp_path / 'f.npy'), '--dtype', dtype,
                                 '--save_path', str(out), '--quiet'], capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        runs[dtype] = (result, json.loads((out / 'results.json').read_text())['evaluation'])
    assert 'cannot resolve these features' in runs['float32'][0].stderr
    assert runs['float32'][1]['resolution']['unresolved_real'] == 600
    assert 'cannot resolve' not in runs['float64'][0].stderr and 'resolution' not in runs['float64'][1]
    p, r = exact(real, fake)
    assert abs(runs['float64'][1]['precision'][0] - p) < 0.01 and abs(runs['float64'][1]['recall'][0] - r) < 0.01
