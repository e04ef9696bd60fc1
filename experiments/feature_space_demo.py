"""Embedded default of run_metric.py: a truncation sweep in feature space, no downloads.

A fixed "generator" maps latents z ~ N(0, I) through a Gaussian-mixture prior and
a fixed random non-linear feature map to 64-d features. Real features are
samples of that model; "generated" features come from the same model with the
latents truncated towards the centre of their mixture component by psi (like
StyleGAN's truncation trick pulls towards the average).
Shrinking psi concentrates the samples: precision rises, recall falls.
"""
import os
import time

import numpy as np

import precision_recall
from experiments.reporting import save_truncation_txt

LATENT_DIM = 16
FEATURE_DIM = 64
NUM_MODES = 12


class MixtureFeatureModel:
    """Latents z [n, 16] -> features [n, 64] float32 through a fixed Gaussian mixture and random map."""

    def __init__(self, seed=2019):
        rs = np.random.RandomState(seed)
        self.centres = rs.randn(NUM_MODES, LATENT_DIM) * 2.5
        self.w1 = rs.randn(LATENT_DIM, 128) / np.sqrt(LATENT_DIM)
        self.w2 = rs.randn(128, FEATURE_DIM) / np.sqrt(128)

    def sample(self, rs, n, psi=1.0):
        """n samples [n, 64] float32 (>= 0); latents pulled towards their mode's centre by psi (1.0 = none)."""
        modes = rs.randint(0, NUM_MODES, size=n)
        latent = self.centres[modes] + psi * rs.randn(n, LATENT_DIM)
        return np.maximum(np.tanh(latent @ self.w1) @ self.w2 * 4.0, 0.0).astype(np.float32)


def run(save_path, num_samples=5000, truncations=(1.0, 0.7, 0.3), random_seed=1234):
    """Run the sweep; print and save `stylegan_truncation.txt` rows [psi, precision, recall]. Returns the rows."""
    model = MixtureFeatureModel()
    real_rs = np.random.RandomState(123)
    rs = np.random.RandomState(random_seed)  # one stream over all psi, as the official sweep
    rows = []
    for psi in truncations:
        print('Truncation %g' % psi)
        start = time.time()
        ref = model.sample(real_rs, num_samples)
        evl = model.sample(rs, num_samples, psi)
        state = precision_recall.knn_precision_recall_features(ref, evl, nhood_sizes=[3])
        rows.append([psi, state['precision'][0], state['recall'][0]])
        print('Precision: %0.3f' % state['precision'][0])
        print('Recall: %0.3f' % state['recall'][0])
        print('Iteration time: %gs\n' % (time.time() - start))
    out = os.path.join(save_path, 'stylegan_truncation.txt')
    save_truncation_txt(out, rows)
    print('Saved %s' % out)
    return rows


def run_demo(settings):
    """The demo as run_metric.py runs it (no data given): the sweep into settings.save_path."""
    print('No data given: running the embedded feature-space truncation sweep (no downloads).')
    run(settings.save_path)
    print('To run on real data: python run_metric.py --data_dir /path/to/ffhq-tfrecords --truncation_sweep '
          '(see --help)')
