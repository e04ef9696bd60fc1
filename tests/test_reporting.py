"""What researchers see first: the summary table, the sweep plot and the realism grid."""
import numpy as np
import PIL.Image

from experiments import reporting

ROWS = [[1.0, 0.712, 0.401], [0.7, 0.805, 0.219], [0.3, 0.9, 0.013]]
INTERVALS = [{'precision': {'low': p - 0.01, 'high': p + 0.02, 'confidence': 0.95},
              'recall': {'low': r - 0.03, 'high': r + 0.01, 'confidence': 0.95}} for _, p, r in ROWS]


def test_summary_table_shows_intervals_and_official_reference():
    plain = reporting.summary_table(ROWS).splitlines()
    assert plain[1].split() == ['1', '0.712', '0.401'] and len(plain) == 4
    lines = reporting.summary_table(ROWS, INTERVALS, reporting.OFFICIAL_REFERENCE).splitlines()
    assert 'precision 95% CI' in lines[0] and 'official README P / R' in lines[0]
    assert lines[1].split() == ['1', '0.712', '0.401', '[0.702,', '0.732]', '[0.371,', '0.411]', '0.720', '/', '0.393']
    assert lines[3].endswith('0.892 / 0.015')
    assert reporting.summary_table([[0.5, 0.1, 0.2]], reference=reporting.OFFICIAL_REFERENCE).endswith('-')


def test_sweep_plot_with_error_bars(tmp_path):
    plain = reporting.save_truncation_plot(str(tmp_path / 'a.png'), ROWS)
    bars = reporting.save_truncation_plot(str(tmp_path / 'b.png'), ROWS, INTERVALS)
    a, b = np.asarray(PIL.Image.open(plain).convert('RGB')), np.asarray(PIL.Image.open(bars).convert('RGB'))
    assert a.shape == b.shape and (a != b).any()


def test_realism_grid_labels_its_halves_and_scores(tmp_path):
    rs = np.random.RandomState(0)
    images = [rs.randint(0, 256, size=(3, 32, 32)).astype(np.uint8) for _ in range(6)]
    unlabeled = reporting.save_realism_grid(str(tmp_path / 'a.png'), images[:3], images[3:], columns=3, thumb=64)
    labeled = reporting.save_realism_grid(str(tmp_path / 'b.png'), images[:3], images[3:], [3.5, 2.0, 1.25],
                                          [0.1, 0.05, 0.01], columns=3, thumb=64)
    a, b = np.asarray(PIL.Image.open(unlabeled)), np.asarray(PIL.Image.open(labeled))
    assert b.shape[0] > a.shape[0] and b.shape[1] == 3 * 64  # one caption strip under each row of images
    title = b[:16]  # the title strip above the highest-realism half has dark text pixels on white
    assert (title < 128).any() and (title == 255).mean() > 0.5
