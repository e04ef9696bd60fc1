"""Metrics reported beside the official precision/recall: intervals, density/coverage, symmetric P&R."""
from metrics.bootstrap import bootstrap_intervals
from metrics.emergent_asymmetry import symmetric_from_statistics
from metrics.manifold_stats import manifold_statistics
from metrics.prdc import prdc_from_statistics


def official_bootstrap(details, num_resamples, seed=0):
    """Intervals of the official precision and recall (first k) from knn_precision_recall_details output."""
    stats = {'fake_in_real': details['precision_pred'], 'real_in_fake': details['recall_pred']}
    return bootstrap_intervals(stats, num_resamples, seed=seed, metrics=['precision', 'recall'])


def manifold_extras(ref, evl, k, num_resamples=0, num_gpus=1, progress=True, seed=0):
    """prdc metrics and the symmetric ones at k (strict '<', as their papers' code), with optional intervals."""
    stats = manifold_statistics(ref, evl, [k], strict=True, num_gpus=num_gpus, progress=progress, exact_ties=True)
    out = {'k': k, 'tie': '<', 'prdc': prdc_from_statistics(stats), 'symmetric': symmetric_from_statistics(stats)}
    if num_resamples:
        out['bootstrap'] = bootstrap_intervals(stats, num_resamples, seed=seed)
    return out


def describe(extras):
    """Printable lines for manifold_extras output."""
    p, s = extras['prdc'], extras['symmetric']
    return ['k=%d (strict <): density %.3f  coverage %.3f  sym_precision %.3f  sym_recall %.3f'
            % (extras['k'], p['density'], p['coverage'], s['sym_precision'], s['sym_recall'])]
