"""Symmetric precision and recall (Khayatkhoei & AbdAlmageed, "Emergent Asymmetry of Precision and Recall
for Measuring Fidelity and Diversity of Generative Models in High Dimensions", ICML 2023).

As the paper's reference code (`ManifoldMetric`) defines them, with squared distances, strict `<`,
radii from the k-th nearest other sample, default k = 5:

    precision      = mean_j [ exists i: d(x_i, y_j) < r_i ]       (fake inside the real manifold)
    recall         = mean_i [ exists j: d(x_i, y_j) < s_j ]       (real inside the fake manifold)
    comp_precision = mean_j [ min_i d(x_i, y_j) < s_j ]           (cPrecision: the fake's own ball holds a real)
    coverage       = mean_i [ min_j d(x_i, y_j) < r_i ]           (cRecall)
    sym_precision  = min(precision, comp_precision)
    sym_recall     = min(recall, coverage)
    density        = (1 / (k M)) sum_j sum_i [ d(x_i, y_j) < r_i ]
"""
from metrics.manifold_stats import evaluate_at_k
from metrics.options import DEFAULT


def compute_symmetric_precision_recall(real_features, fake_features, k=5, convention='prdc', options=DEFAULT,
                                       return_per_sample=False):
    """Dict of the seven metrics above (floats) for fake [M, d] vs real [N, d] features (convention 'prdc':
    strict '<' with exact ties, as ManifoldMetric)."""
    return evaluate_at_k(symmetric_from_statistics, real_features, fake_features, k, convention, options,
                         return_per_sample)


def symmetric_from_statistics(stats, k_index=0):
    k = stats['nhood_sizes'][k_index]
    precision = float(stats['fake_in_real'][:, k_index].mean())
    recall = float(stats['real_in_fake'][:, k_index].mean())
    comp_precision = float(stats['fake_comp'][:, k_index].mean())
    coverage = float(stats['real_covered'][:, k_index].mean())
    return {'precision': precision, 'recall': recall, 'comp_precision': comp_precision, 'coverage': coverage,
            'sym_precision': min(precision, comp_precision), 'sym_recall': min(recall, coverage),
            'density': float(stats['fake_count'][:, k_index].sum() / (k * len(stats['fake_count'])))}
