"""Tables and figures for a paper, straight from this tool's runs.

    python -m tools.paper_table RUN [RUN ...] [--names A B ...] [--format markdown|latex|csv]
                                [--metrics precision,recall] [--interval pm|ci] [--bold] [--allow_mixed]
                                [--out FILE] [--plot FIGURE.pdf|.png]

RUN is a run's --save_path (or its results.json); a folder with only the official stylegan_truncation.txt
(the embedded demo) is read from that. One row per run, one per psi for a truncation sweep; a column per
metric with three decimals, and the run's interval when it has one: the spread over --repeats (`pm`:
mean +- standard deviation; `ci`: mean [mean - 2 std, mean + 2 std]) or else its bootstrap interval
(`ci`: value [low, high]; `pm`: value +- half its width). Runs whose settings differ (number of samples,
k, convention, feature network) are refused in one table unless --allow_mixed, which marks them. A
provenance note below the table says how the numbers were made.
"""
import argparse
import csv
import io
import json
import os
import sys

# metric name -> (results key(s) where it is found, True when higher is better)
METRICS = {'precision': True, 'recall': True, 'density': True, 'coverage': True, 'realism': True,
           'IS': True, 'FID': False, 'sFID': False}
DEFAULT_METRICS = ('precision', 'recall')
COMPARED = ('num_images', 'nhood_size', 'convention', 'feature_network')  # settings a column may not mix


class TableError(ValueError):
    """A run that cannot be read, or runs that do not belong in one table (the message names the file)."""


class Value:
    """A number with its optional interval: low/high (bootstrap) or std (repeats)."""

    def __init__(self, value, low=None, high=None, std=None):
        self.value, self.low, self.high, self.std = value, low, high, std

    def text(self, interval, digits=3, pm=' ± '):
        base = '%.*f' % (digits, self.value)
        if self.std is not None:
            if interval == 'pm':
                return base + pm + '%.*f' % (digits, self.std)
            return base + ' [%.*f, %.*f]' % (digits, self.value - 2 * self.std, digits, self.value + 2 * self.std)
        if self.low is not None:
            if interval == 'pm':
                return base + pm + '%.*f' % (digits, (self.high - self.low) / 2)
            return base + ' [%.*f, %.*f]' % (digits, self.low, digits, self.high)
        return base


def _interval(summary):
    return {'low': summary.get('low'), 'high': summary.get('high')} if summary else {}


def _pr_values(entry, k_index=0):
    """precision/recall (+ density/coverage) Values of a sweep row or a fake-set evaluation."""
    out = {}
    k = entry.get('nhood_sizes', [3])[k_index]
    boot = entry.get('bootstrap', {}).get('k=%d' % k, {})
    for metric in ('precision', 'recall'):
        repeats = entry.get('repeats', {}).get(metric)
        if repeats:
            out[metric] = Value(repeats['mean'], std=repeats['std'])
        else:
            out[metric] = Value(entry[metric][k_index], **_interval(boot.get(metric)))
    prdc = entry.get('extras', {}).get('prdc')
    if prdc:
        boot = entry['extras'].get('bootstrap', {})
        for metric in ('density', 'coverage'):
            out[metric] = Value(prdc[metric], **_interval(boot.get(metric)))
    return out


def read_run(path, name):
    """[(row name, {metric: Value}, settings dict)] of one run folder or results.json."""
    folder = path if os.path.isdir(path) else os.path.dirname(path)
    results_path = path if path.endswith('.json') else os.path.join(path, 'results.json')
    if not os.path.isfile(results_path):
        txt = os.path.join(folder, 'stylegan_truncation.txt')
        if os.path.isfile(txt):
            return _read_official_txt(txt, name)
        raise TableError('%s: no results.json or stylegan_truncation.txt (not a run of this tool)' % path)
    try:
        results = json.load(open(results_path))
    except (OSError, ValueError) as e:
        raise TableError('%s: not readable JSON (%s)' % (results_path, e)) from e
    from metrics.adm_evaluator_official_tf import FIVE
    if not isinstance(results, dict) or not ({'config', 'adm'} & set(results) or set(FIVE) <= set(results)):
        raise TableError('%s: not a results.json of this tool (no config)' % results_path)
    return _rows_of(results, name, results_path)


def _settings(results, num_images, k):
    config, networks = results.get('config', {}), results.get('networks', {})
    prints = ['%s %s' % (role, networks[role]['fingerprint'][:12]) for role in ('generator', 'feature_network')
              if networks.get(role, {}).get('fingerprint')]
    return {'num_images': num_images, 'nhood_size': k, 'convention': config.get('convention', 'official'),
            'feature_network': config.get('feature_network') or 'default VGG-16 (vgg16.pkl)',
            'protocol': config.get('protocol', 'kynkaat2019'), 'network': config.get('network'),
            'fingerprints': ', '.join(prints), 'code': results.get('code_version')}


def _rows_of(results, name, where):
    from metrics.adm_evaluator_official_tf import FIVE
    rows = []
    for row in results.get('truncation_sweep', []):
        settings = _settings(results, row['num_images'], row['nhood_sizes'][0])
        rows.append(('%s, psi %g' % (name, row['truncation_psi']), _pr_values(row), settings))
    if 'evaluation' in results:
        entry = results['evaluation']
        values = _pr_values(entry)
        if 'realism' in entry:
            values['realism'] = Value(entry['realism']['score_mean'])
        rows.append((name, values, _settings(results, entry['num_fake'], entry['nhood_sizes'][0])))
    if 'pr50k3' in results:
        entry = results['pr50k3']
        values = _pr_values(dict(entry, precision=[entry['precision']], recall=[entry['recall']],
                                 nhood_sizes=[entry['nhood_size']]))
        rows.append((name, values, _settings(results, entry['num_images'], entry['nhood_size'])))
    if 'realism' in results:  # the StyleGAN realism experiment: the mean score of its generated images
        entry = results['realism']
        rows.append(('%s, realism' % name, {'realism': Value(entry['score_mean'])},
                     _settings(results, entry['num_images'], 3)))
    adm = results.get('adm') or (results if set(FIVE) <= set(results) else None)
    if adm:
        values = {'IS': Value(adm['Inception Score']), 'FID': Value(adm['FID']), 'sFID': Value(adm['sFID']),
                  'precision': Value(adm['Precision']), 'recall': Value(adm['Recall'])}
        settings = dict(_settings(results, adm.get('num_sample'), 3), convention='adm',
                        feature_network='Inception pool_3', protocol='adm')
        rows.append((name, values, settings))
    if not rows:
        raise TableError('%s: holds no sweep, evaluation, realism, pr50k3 or adm results' % where)
    return rows


def _read_official_txt(path, name):
    import numpy as np
    try:
        table = np.loadtxt(path, delimiter=',', skiprows=1, ndmin=2)
    except ValueError as e:
        raise TableError('%s: not the official stylegan_truncation.txt format (%s)' % (path, e)) from e
    settings = {'num_images': None, 'nhood_size': 3, 'convention': 'official', 'network': None,
                'feature_network': 'unknown (only stylegan_truncation.txt)', 'protocol': 'kynkaat2019',
                'fingerprints': '', 'code': None}
    return [('%s, psi %g' % (name, psi), {'precision': Value(p), 'recall': Value(r)}, settings)
            for psi, p, r in table]


def check_comparable(rows, runs, allow_mixed):
    """TableError naming the runs whose settings differ (or, with allow_mixed, the set of marked row names)."""
    reference = rows[0][2]
    mixed = set()
    for (name, _, settings), run in zip(rows, runs):
        differ = [key for key in COMPARED if settings[key] != reference[key] and None not in
                  (settings[key], reference[key])]
        if differ and not allow_mixed:
            raise TableError('%s: %s differ from %s (%s); give --allow_mixed to put them in one table, marked'
                             % (run, ', '.join('%s %s' % (k, settings[k]) for k in differ), runs[0],
                                ', '.join('%s %s' % (k, reference[k]) for k in differ)))
        if differ:
            mixed.add(name)
    return mixed


def best_rows(rows, metrics):
    """{metric: value of the best row} by each metric's direction."""
    best = {}
    for metric in metrics:
        values = [values[metric].value for _, values, _ in rows if metric in values]
        if values:
            best[metric] = max(values) if METRICS[metric] else min(values)
    return best


def provenance(rows):
    """One line per distinct setting: how the numbers were made."""
    lines = []
    for settings in {json.dumps(s, sort_keys=True, default=str): s for _, _, s in rows}.values():
        lines.append('protocol %s, convention %s, N = %s, k = %s, features: %s%s%s%s' % (
            settings['protocol'], settings['convention'], settings['num_images'] or 'as run', settings['nhood_size'],
            settings['feature_network'], ', generator %s' % settings['network'] if settings['network'] else '',
            ' (fingerprints: %s)' % settings['fingerprints'] if settings['fingerprints'] else '',
            ', code %s' % settings['code'] if settings['code'] else ''))
    return lines


LATEX_ESCAPES = {'\\': r'\textbackslash{}', '&': r'\&', '%': r'\%', '$': r'\$', '#': r'\#', '_': r'\_',
                 '{': r'\{', '}': r'\}', '~': r'\textasciitilde{}', '^': r'\textasciicircum{}'}


def latex_escape(text):
    return ''.join(LATEX_ESCAPES.get(c, c) for c in text)


def render(rows, metrics, fmt, interval='pm', bold=False, mixed=()):
    """The table as text in fmt ('markdown', 'latex', 'csv'), with the provenance note."""
    best = best_rows(rows, metrics) if bold else {}

    def cell(values, metric, pm):
        if metric not in values:
            return '--'
        text = values[metric].text(interval, pm=pm)
        if metric in best and values[metric].value == best[metric]:
            return {'markdown': '**%s**' % text, 'latex': r'\textbf{%s}' % text}.get(fmt, text)
        return text

    names = [name + (' *' if name in mixed else '') for name, _, _ in rows]
    notes = provenance(rows) + (['* settings differ from the first run (--allow_mixed)'] if mixed else [])
    if fmt == 'csv':
        out = io.StringIO()
        writer = csv.writer(out, lineterminator='\n')
        writer.writerow(['run'] + list(metrics))
        for name, (_, values, _) in zip(names, rows):
            writer.writerow([name] + [cell(values, m, ' +- ') for m in metrics])
        return out.getvalue()
    if fmt == 'latex':
        head = ' & '.join(['Run'] + [latex_escape(m) for m in metrics]) + r' \\'
        body = [' & '.join([latex_escape(name)] + [cell(values, m, r' $\pm$ ') for m in metrics]) + r' \\'
                for name, (_, values, _) in zip(names, rows)]
        return '\n'.join([r'\begin{tabular}{l%s}' % ('r' * len(metrics)), r'\toprule', head, r'\midrule'] + body +
                         [r'\bottomrule', r'\end{tabular}'] +
                         ['% ' + latex_escape(line) for line in notes]) + '\n'
    head = '| run | ' + ' | '.join(metrics) + ' |'
    rule = '|---|' + '---:|' * len(metrics)
    body = ['| %s | %s |' % (name, ' | '.join(cell(values, m, ' ± ') for m in metrics))
            for name, (_, values, _) in zip(names, rows)]
    return '\n'.join([head, rule] + body + [''] + ['_%s_' % line for line in notes]) + '\n'


def plot_curves(path, runs_rows):
    """Precision-recall curve of each run's sweep (psi labels on the points, error bars from the interval), PDF
    or PNG by the file name; sized for one column."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(3.4, 2.6))
    for run_name, rows in runs_rows:
        sweep = [(name, values) for name, values, _ in rows if ', psi ' in name]
        if not sweep:
            continue
        recall = [v['recall'].value for _, v in sweep]
        precision = [v['precision'].value for _, v in sweep]
        errors = [[_half_width(v['recall']) for _, v in sweep], [_half_width(v['precision']) for _, v in sweep]]
        ax.errorbar(recall, precision, xerr=errors[0], yerr=errors[1], marker='o', markersize=3, capsize=2,
                    linewidth=1, label=run_name)
        for (name, _), x, y in zip(sweep, recall, precision):
            ax.annotate(name.split(', psi ')[1], (x, y), textcoords='offset points', xytext=(3, 3), fontsize=6)
    ax.set_xlabel('recall', fontsize=8)
    ax.set_ylabel('precision', fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=6)
    fig.tight_layout()
    from dnnlib.output_files import atomic_output
    with atomic_output(path, 'wb') as f:
        fig.savefig(f, format=os.path.splitext(path)[1][1:] or 'png')
    plt.close(fig)


def _half_width(value):
    if value.std is not None:
        return value.std
    return (value.high - value.low) / 2 if value.low is not None else 0.0


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('runs', nargs='+', metavar='RUN', help="a run's --save_path or its results.json")
    p.add_argument('--names', nargs='+', help='row names, one per run (default: the folder names)')
    p.add_argument('--format', choices=('markdown', 'latex', 'csv'), default='markdown')
    p.add_argument('--metrics', default=','.join(DEFAULT_METRICS),
                   help='comma-separated columns, of %s (default precision,recall)' % ', '.join(METRICS))
    p.add_argument('--interval', choices=('pm', 'ci'), default='pm',
                   help='pm: value ± std (repeats) or ± half the bootstrap interval; ci: value [low, high]')
    p.add_argument('--bold', action='store_true', help='bold the best value of each column')
    p.add_argument('--allow_mixed', action='store_true', help='put runs with different settings in one table, marked')
    p.add_argument('--out', help='write the table to FILE (default: stdout)')
    p.add_argument('--plot', metavar='FIGURE', help='also draw the sweeps\' precision-recall curves (.pdf or .png)')
    args = p.parse_args(argv)
    args.metrics = [m.strip() for m in args.metrics.split(',') if m.strip()]
    unknown = [m for m in args.metrics if m not in METRICS]
    if unknown:
        p.error('unknown metrics %s; known: %s' % (unknown, ', '.join(METRICS)))
    if args.names and len(args.names) != len(args.runs):
        p.error('--names gives %d names for %d runs' % (len(args.names), len(args.runs)))
    if args.plot and not args.plot.endswith(('.pdf', '.png')):
        p.error('--plot writes .pdf or .png')
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    names = args.names or [os.path.basename(os.path.normpath(r if os.path.isdir(r) else os.path.dirname(r) or '.'))
                           for r in args.runs]
    try:
        runs_rows = [(name, read_run(run, name)) for run, name in zip(args.runs, names)]
        rows = [row for _, run_rows in runs_rows for row in run_rows]
        origins = [run for run, (_, run_rows) in zip(args.runs, runs_rows) for _ in run_rows]
        mixed = check_comparable(rows, origins, args.allow_mixed)
    except TableError as e:
        print('error: %s' % e, file=sys.stderr)
        return 2
    text = render(rows, args.metrics, args.format, args.interval, args.bold, mixed)
    if args.out:
        from dnnlib.output_files import atomic_output
        with atomic_output(args.out) as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    if args.plot:
        plot_curves(args.plot, runs_rows)
    return 0


if __name__ == '__main__':
    if __package__ in (None, ''):
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.exit(main())
