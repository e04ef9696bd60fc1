"""run_metric.py with no data runs the embedded feature-space sweep and writes the official file."""
import os
import subprocess
import sys

import numpy as np

from conftest import REPO


def test_embedded_default_writes_official_truncation_file(tmp_path):
    result = subprocess.run([sys.executable, os.path.join(REPO, 'run_metric.py'), '--save_path', str(tmp_path)],
                            capture_output=True, text=True, timeout=600, cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    path = tmp_path / 'stylegan_truncation.txt'
    lines = path.read_text().splitlines()
    assert lines[0] == 'truncation_psi,precision,recall'
    assert len(lines) == 4 and all(len(line.split(',')) == 3 for line in lines[1:])
    table = np.loadtxt(path, delimiter=',', skiprows=1)
    np.testing.assert_array_equal(table[:, 0], np.float32([1.0, 0.7, 0.3]).astype(np.float64))
    precision, recall = table[:, 1], table[:, 2]
    assert precision[0] < precision[1] < precision[2]
    assert recall[0] > recall[1] > recall[2]
    assert 'Precision: %0.3f' % precision[0] in result.stdout
    assert 'To run on real data' in result.stdout
    assert not [p for p in os.listdir(tmp_path) if p.startswith('.tmp_')]  # nothing half-written left
