"""MS-SSIM diversity through tf.image.ssim_multiscale."""
import os

import numpy as np
import pytest
import tensorflow as tf

from metrics.ms_ssim import ms_ssim_diversity, ms_ssim_pairs, random_pairs


def smooth_images(seed, n, size=64):
    rs = np.random.RandomState(seed)
    base = rs.rand(n, size // 8, size // 8, 3) * 255
    return np.repeat(np.repeat(base, 8, axis=1), 8, axis=2).astype(np.uint8)


def test_identical_images_score_one_and_pairs_match_tf():
    images = smooth_images(0, 6)
    same = np.concatenate([images[:1]] * 4)
    assert ms_ssim_diversity(same, num_pairs=10, filter_size=3)['mean'] == pytest.approx(1.0, abs=1e-5)
    pairs = random_pairs(6, 7, seed=3)
    assert (pairs[:, 0] != pairs[:, 1]).all()
    ours = ms_ssim_pairs(images, pairs, filter_size=3)
    direct = tf.image.ssim_multiscale(tf.constant(images[pairs[:, 0]], tf.float32),
                                      tf.constant(images[pairs[:, 1]], tf.float32), 255.0, filter_size=3).numpy()
    np.testing.assert_allclose(ours, direct, rtol=1e-6)


def test_diverse_sets_score_lower_than_near_duplicates():
    diverse = smooth_images(1, 10)
    near = np.clip(diverse[:1].astype(int) + np.random.RandomState(2).randint(-3, 4, (10, 64, 64, 3)), 0, 255)
    assert ms_ssim_diversity(diverse, 30, filter_size=3)['mean'] < ms_ssim_diversity(near, 30, filter_size=3)['mean']


def test_all_pairs_when_few_images_and_size_check():
    assert len(random_pairs(5, 1000)) == 10
    with pytest.raises(ValueError, match='use filter_size <= 2'):
        ms_ssim_diversity(smooth_images(0, 3, size=32), filter_size=11)
    with pytest.raises(ValueError, match='at least 2'):
        random_pairs(1, 5)


def test_mixed_sizes_are_named_before_any_work(tmp_path):
    import subprocess
    import sys
    import PIL.Image
    from conftest import REPO
    for i, size in enumerate([(16, 16), (16, 16), (20, 12)]):
        PIL.Image.fromarray(np.zeros(size[::-1] + (3,), np.uint8)).save(str(tmp_path / ('%d.png' % i)))
    result = subprocess.run([sys.executable, os.path.join(REPO, 'metrics', 'ms_ssim.py'), str(tmp_path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and 'MS-SSIM needs images of one size' in result.stderr
    assert '20x12: 1 images (e.g. 2.png)' in result.stderr and 'Traceback' not in result.stderr
