"""Precision/recall conventions of the official code and its ports, and why two of them disagree.

Each convention is one record: how distances are computed and compared. On paper they all define
the same k-NN precision and recall; in practice the tie rule and the float16 rounding of some
ports flip a few per-sample decisions. `conventions_report(real, fake)` evaluates every convention
on the same features and counts, per direction, the decisions that differ from the official
rule, the decisions that lie within float16 rounding of their sphere boundary (the most a float16
port can flip) and those decided by an exact tie (what `<` versus `<=` changes).

Directions: precision decides each fake sample against the real spheres; recall decides each real
sample against the fake spheres. (The port's per-sample file uses the official names: precision_pred
for the fakes, recall_pred for the reals.)
"""
import json

import numpy as np

from dnnlib.array_files import check_array_file
from metrics.convention import CONVENTIONS, REPORTED
from metrics.manifold_stats import checked_sets, statistics_of_checked
from metrics.options import DEFAULT

MARGIN_FIELDS = ('inside', 'gap', 'band')  # the official row also measures how close each decision was


def conventions_report(real_features, fake_features, nhood_sizes=(3,), options=DEFAULT, port=None, names=REPORTED):
    """Every reported convention (names: metrics.convention.REPORTED, 'official' first) on the same features.

    Args:
        real_features [N, d], fake_features [M, d]: float arrays (reals define recall's samples).
        port: None, or a dict from `read_port_results` (the user's own port's numbers to place).
    Returns a dict: 'nhood_sizes', 'num_real', 'num_fake', 'conventions' (name -> {'rule', 'dtype',
    'distance', 'used_by', 'precision' [K], 'recall' [K], 'fake_flips' [K], 'real_flips' [K]} with flips
    counted against 'official'), 'boundary' ({'fake'/'real': {'within_fp16' [K], 'exact_ties' [K]}}),
    the per-sample official decisions ('official_fake' bool [M, K], 'official_real' bool [N, K]), and
    'port' when given.
    """
    real, fake, ks = checked_sets(real_features, fake_features, list(nhood_sizes), CONVENTIONS['official'])
    per_sample = {}
    report = {'nhood_sizes': ks, 'num_real': len(real), 'num_fake': len(fake), 'conventions': {}}
    for name in names:
        convention = CONVENTIONS[name]
        row = {'rule': convention.rule, 'dtype': convention.dtype, 'distance': convention.distance,
               'used_by': convention.used_by}
        try:
            stats = statistics_of_checked(real, fake, ks, convention, options,
                                          MARGIN_FIELDS if name == 'official' else ('inside',))
        except ValueError as e:
            if name == 'official':
                raise
            # e.g. float16 arithmetic that would overflow on these features: that port cannot evaluate them either
            report['conventions'][name] = dict(row, error=str(e))
            continue
        per_sample[name] = (stats['fake_in_real'], stats['real_in_fake'])
        if name == 'official':
            report['boundary'] = {
                side: {'within_fp16': (np.abs(stats[side + '_band']) <= 1).sum(axis=0).tolist(),
                       'exact_ties': (stats[side + '_gap'] == 0).sum(axis=0).tolist()} for side in ('fake', 'real')}
        official_fake, official_real = per_sample['official']
        report['conventions'][name] = dict(
            row, precision=stats['fake_in_real'].mean(axis=0).tolist(),
            recall=stats['real_in_fake'].mean(axis=0).tolist(),
            fake_flips=(stats['fake_in_real'] != official_fake).sum(axis=0).tolist(),
            real_flips=(stats['real_in_fake'] != official_real).sum(axis=0).tolist())
    report['official_fake'], report['official_real'] = per_sample['official']
    if port is not None:
        report['port'] = place_port(port, report, per_sample)
    return report


def check_port_lengths(port, num_real, num_fake):
    """ValueError when a port's per-sample decisions do not have one row per real (recall) / fake (precision)
    sample: known from the set sizes alone, so it is checked before any feature is computed."""
    if port is None or port['kind'] != 'per-sample':
        return
    for key, count, side in (('precision_pred', num_fake, 'generated'), ('recall_pred', num_real, 'real')):
        if key in port and len(port[key]) != count:
            raise ValueError('%s: %s has %d samples, the evaluation has %d %s samples'
                             % (port['path'], key, len(port[key]), count, side))


def read_port_results(path):
    """A port's results: JSON {'precision': p or [p], 'recall': r or [r]} (keys in any case, e.g. the ADM
    evaluator's five numbers {"Inception Score", "FID", "sFID", "Precision", "Recall"}, the others kept under
    'others') or .npz with per-sample 0/1 arrays.

    The .npz holds 'precision_pred' [M] or [M, K] (fake samples) and/or 'recall_pred' [N] or
    [N, K] (real samples), in the order of the features given to the report.
    """
    if path.endswith('.npz'):
        check_array_file(path)
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: np.asarray(data[k]) for k in ('precision_pred', 'recall_pred') if k in data.files}
        if not arrays:
            raise ValueError('%s holds no precision_pred or recall_pred array' % path)
        for key, value in arrays.items():
            if value.dtype != bool and not np.issubdtype(value.dtype, np.integer):
                raise ValueError('%s: %s must hold 0/1 decisions as integers or booleans, got dtype %s'
                                 % (path, key, value.dtype))
            if value.ndim == 1:
                arrays[key] = value[:, None]
            if arrays[key].ndim != 2 or not np.isin(arrays[key], (0, 1)).all():
                raise ValueError('%s: %s must be 0/1 decisions [samples] or [samples, K]' % (path, key))
            arrays[key] = arrays[key].astype(bool)
        return {'kind': 'per-sample', 'path': path, **arrays}
    try:
        with open(path) as f:
            data = json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError('%s is not valid JSON (%s); expected {"precision": p, "recall": r}' % (path, e)) from e
    if isinstance(data, dict):
        data = {(k.lower() if k.lower() in ('precision', 'recall') else k): v for k, v in data.items()}
    if not isinstance(data, dict) or not {'precision', 'recall'} <= set(data):
        raise ValueError('%s: expected JSON with "precision" and "recall"' % path)
    others = {k: v for k, v in data.items() if k not in ('precision', 'recall') and isinstance(v, (int, float))}
    try:
        values = {k: np.atleast_1d(np.asarray(data[k], np.float64)) for k in ('precision', 'recall')}
    except (TypeError, ValueError) as e:
        raise ValueError('%s: precision and recall must be numbers or lists of numbers' % path) from e
    if any(v.ndim != 1 or not np.isfinite(v).all() for v in values.values()):
        raise ValueError('%s: precision and recall must be numbers or lists of numbers' % path)
    outside = {k: v.tolist() for k, v in values.items() if ((v < 0) | (v > 1)).any()}
    if outside:
        raise ValueError('%s: precision and recall are fractions in [0, 1], got %s' % (path, outside))
    return {'kind': 'numbers', 'path': path, **values, **({'others': others} if others else {})}


def place_port(port, report, per_sample, max_listed=20):
    """Which convention the port's results match best, and (per-sample input) which samples disagree."""
    names = [name for name, c in report['conventions'].items() if 'error' not in c]
    out = {'path': port['path'], 'kind': port['kind'], 'distance': {}}
    if port['kind'] == 'numbers':
        for name in names:
            c = report['conventions'][name]
            k = min(len(port['precision']), len(c['precision']))
            out['distance'][name] = float(np.abs(np.asarray(c['precision'][:k]) - port['precision'][:k]).sum()
                                          + np.abs(np.asarray(c['recall'][:k]) - port['recall'][:k]).sum())
        out['precision'], out['recall'] = port['precision'].tolist(), port['recall'].tolist()
    else:
        for key, index in (('precision_pred', 0), ('recall_pred', 1)):
            if key in port and len(port[key]) != len(per_sample['official'][index]):
                raise ValueError('%s: %s has %d samples, the features have %d'
                                 % (port['path'], key, len(port[key]), len(per_sample['official'][index])))
        disagree = {}
        for name in names:
            total, listed = 0, {}
            for key, index in (('precision_pred', 0), ('recall_pred', 1)):
                if key not in port:
                    continue
                k = min(port[key].shape[1], per_sample[name][index].shape[1])
                rows = np.nonzero((port[key][:, :k] != per_sample[name][index][:, :k]).any(axis=1))[0]
                total += len(rows)
                listed['fake' if index == 0 else 'real'] = rows[:max_listed].tolist()
            out['distance'][name] = total
            disagree[name] = listed
        out['disagreeing_samples'] = disagree
    out['closest'] = min(names, key=lambda name: out['distance'][name])
    return out


def format_report(report):
    """Printable text of conventions_report output."""
    lines = []
    header = '%-16s %-4s %-8s %-15s %10s %10s %11s %10s' % ('convention', 'rule', 'dtype', 'distance', 'precision',
                                                             'recall', 'fake flips', 'real flips')
    for i, k in enumerate(report['nhood_sizes']):
        lines.append('k = %d  (%d real, %d fake samples; flips = decisions that differ from "official")'
                     % (k, report['num_real'], report['num_fake']))
        lines.append(header)
        for name, c in report['conventions'].items():
            if 'error' in c:
                lines.append('%-16s %-4s %-8s %-15s not computable: %s' % (name, c['rule'], c['dtype'], c['distance'],
                                                                          c['error']))
                continue
            lines.append('%-16s %-4s %-8s %-15s %10.4f %10.4f %11d %10d'
                         % (name, c['rule'], c['dtype'], c['distance'], c['precision'][i], c['recall'][i],
                            c['fake_flips'][i], c['real_flips'][i]))
        b = report['boundary']
        lines.append('decisions within float16 rounding of their sphere boundary (at most this many can flip in a '
                     'float16 port): fake %d, real %d' % (b['fake']['within_fp16'][i], b['real']['within_fp16'][i]))
        lines.append('decisions made by an exact tie d == r (what < instead of <= changes): fake %d, real %d'
                     % (b['fake']['exact_ties'][i], b['real']['exact_ties'][i]))
        lines.append('')
    lines.append('who uses which convention:')
    lines += ['  %-16s %s' % (name, c['used_by']) for name, c in report['conventions'].items()]
    port = report.get('port')
    if port:
        lines.append('')
        unit = 'sum |dP| + |dR|' if port['kind'] == 'numbers' else 'samples with a different decision'
        lines.append('your port (%s): closest convention "%s"; %s per convention: %s'
                     % (port['path'], port['closest'], unit,
                        ', '.join('%s %s' % (n, ('%.4f' % d) if port['kind'] == 'numbers' else d)
                                  for n, d in port['distance'].items())))
        if port['kind'] == 'per-sample':
            for side, rows in port['disagreeing_samples'][port['closest']].items():
                if rows:
                    lines.append('  %s samples that disagree with "%s" (first %d): %s'
                                 % (side, port['closest'], len(rows), rows))
            official = port['disagreeing_samples']['official']
            for side, rows in official.items():
                if rows and port['closest'] != 'official':
                    lines.append('  %s samples that disagree with "official" (first %d): %s' % (side, len(rows), rows))
    return '\n'.join(lines)


def report_for_json(report):
    """conventions_report output without the per-sample arrays (for results.json)."""
    return {k: v for k, v in report.items() if k not in ('official_fake', 'official_real')}
