"""Metrics reported beside the official precision/recall: intervals, density/coverage, symmetric P&R."""
from metrics.bootstrap import bootstrap_intervals
from metrics.convention import CONVENTIONS
from metrics.emergent_asymmetry import symmetric_from_statistics
from metrics.manifold_stats import manifold_statistics
from metrics.options import DEFAULT
from metrics.prdc import prdc_from_statistics

EXTRAS_CONVENTION = CONVENTIONS['prdc']  # as their papers' code: strict '<', ties exact


def official_bootstrap(details, num_resamples, nhood_sizes, seed=0):
    """Intervals of the official precision and recall for every k -> {'k=<k>': {'precision': ..., 'recall': ...}}.

    details: knn_precision_recall_details output for nhood_sizes (per-sample decisions [samples, K]).
    """
    stats = {'fake_in_real': details['precision_pred'], 'real_in_fake': details['recall_pred']}
    return {'k=%d' % k: bootstrap_intervals(stats, num_resamples, seed=seed, k_index=i, metrics=['precision', 'recall'])
            for i, k in enumerate(nhood_sizes)}


def describe_bootstrap(intervals):
    """Printable lines, one per k and metric, for official_bootstrap output."""
    return ['%s  %s %.3f, %d%% interval [%.3f, %.3f]' % (k, name, ci['value'], round(100 * ci['confidence']),
                                                       ci['low'], ci['high'])
            for k, per_metric in intervals.items() for name, ci in per_metric.items()]


def manifold_extras(real, fake, k, num_resamples=0, options=DEFAULT, seed=0):
    """prdc metrics and the symmetric ones at k (EXTRAS_CONVENTION), with optional bootstrap intervals."""
    stats = manifold_statistics(real, fake, [k], EXTRAS_CONVENTION, options)
    out = {'k': k, 'tie': EXTRAS_CONVENTION.rule, 'prdc': prdc_from_statistics(stats),
           'symmetric': symmetric_from_statistics(stats)}
    if num_resamples:
        out['bootstrap'] = bootstrap_intervals(stats, num_resamples, seed=seed)
    return out


def describe(extras):
    """Printable lines for manifold_extras output."""
    p, s = extras['prdc'], extras['symmetric']
    return ['k=%d (strict <): density %.3f  coverage %.3f  sym_precision %.3f  sym_recall %.3f'
            % (extras['k'], p['density'], p['coverage'], s['sym_precision'], s['sym_recall'])]
