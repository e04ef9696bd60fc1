"""Bootstrap confidence intervals for precision, recall, density and coverage.

The k-NN spheres are kept fixed and the evaluated samples are resampled with replacement:
precision, density and complement precision resample the generated samples' per-sample values
(real manifold fixed), recall and coverage resample the real samples' values (generated manifold
fixed). This reuses the computed distances exactly. Resampling the sets that *define* the
spheres is not valid for k-NN radii: a point drawn twice is its own nearest neighbour at
distance 0, so radii shrink and the interval is biased -- hence intervals here are conditional
on the two manifolds and describe the sampling variability of the evaluated samples.
"""
import numpy as np

# metric -> (per-sample key in manifold_statistics, scale by 1/k)
PER_SAMPLE = {
    'precision': ('fake_in_real', False),
    'recall': ('real_in_fake', False),
    'density': ('fake_count', True),
    'coverage': ('real_covered', False),
    'comp_precision': ('fake_comp', False),
}


def bootstrap_intervals(stats, num_resamples=1000, confidence=0.95, seed=0, k_index=0, metrics=None):
    """{metric: {'value', 'mean', 'std', 'low', 'high'}} percentile intervals from per-sample statistics.

    stats: dict from manifold_statistics (or the same keys for a subset of metrics; 'nhood_sizes' is
        needed only for density).
    """
    if int(num_resamples) < 2:
        raise ValueError('num_resamples must be >= 2')
    if not 0 < confidence < 1:
        raise ValueError('confidence must be in (0, 1)')
    rng = np.random.RandomState(seed)
    names = metrics or [m for m, (key, _) in PER_SAMPLE.items() if key in stats]
    out = {}
    for name in names:
        key, per_k = PER_SAMPLE[name]
        values = np.asarray(stats[key][:, k_index], np.float64) / (stats['nhood_sizes'][k_index] if per_k else 1)
        n = len(values)
        means = np.concatenate([values[rng.randint(0, n, size=(min(100, num_resamples - start), n))].mean(axis=1)
                                for start in range(0, int(num_resamples), 100)])  # 100 resamples at a time
        alpha = (1 - confidence) / 2
        out[name] = {'value': float(values.mean()), 'mean': float(means.mean()), 'std': float(means.std(ddof=1)),
                     'low': float(np.quantile(means, alpha)), 'high': float(np.quantile(means, 1 - alpha)),
                     'confidence': confidence, 'num_resamples': int(num_resamples)}
    return out
