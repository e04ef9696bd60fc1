"""Precision, recall, density and coverage as the `prdc` package defines them (Naeem et al., ICML 2020).

With r_i the distance from real x_i to its k-th nearest other real sample and s_j likewise for fakes:

    precision = mean_j [ exists i: d(x_i, y_j) < r_i ]
    recall    = mean_i [ exists j: d(x_i, y_j) < s_j ]
    density   = (1 / (k M)) sum_j sum_i [ d(x_i, y_j) < r_i ]
    coverage  = mean_i [ min_j d(x_i, y_j) < r_i ]

Convention 'prdc' by default: strict `<` with exact ties, like the prdc package (a variant such as
`CONVENTIONS['prdc'].replace(rule='<=')` gives the official P&R rule); default k = 5 as the prdc README.
"""
from metrics.manifold_stats import evaluate_at_k
from metrics.options import DEFAULT


def compute_prdc(real_features, fake_features, nearest_k=5, convention='prdc', options=DEFAULT,
                 return_per_sample=False):
    """{'precision', 'recall', 'density', 'coverage'} (floats) of fake [M, d] vs real [N, d] features."""
    return evaluate_at_k(prdc_from_statistics, real_features, fake_features, nearest_k, convention, options,
                         return_per_sample)


def prdc_from_statistics(stats, k_index=0):
    k = stats['nhood_sizes'][k_index]
    return {'precision': float(stats['fake_in_real'][:, k_index].mean()),
            'recall': float(stats['real_in_fake'][:, k_index].mean()),
            'density': float(stats['fake_count'][:, k_index].sum() / (k * len(stats['fake_count']))),
            'coverage': float(stats['real_covered'][:, k_index].mean())}
