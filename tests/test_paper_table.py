"""tools/paper_table.py: tables and figures from runs; run_metric.py --repeats."""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO
from test_pipeline import assets, common, run_metric  # noqa: F401  (the module fixture of tiny networks)
from tools import paper_table


def table(*args):
    return subprocess.run([sys.executable, '-m', 'tools.paper_table'] + list(args), capture_output=True, text=True,
                          cwd=REPO, timeout=300)


def write_run(folder, config=None, **entries):
    os.makedirs(str(folder), exist_ok=True)
    results = dict(config=dict({'convention': 'official', 'protocol': 'kynkaat2019', 'feature_network': None,
                                'network': 'g.pkl'}, **(config or {})), **entries)
    with open(os.path.join(str(folder), 'results.json'), 'w') as f:
        json.dump(results, f)
    return str(folder)


def sweep_row(psi, p, r, **extra):
    return dict({'truncation_psi': psi, 'precision': [p], 'recall': [r], 'nhood_sizes': [3], 'num_images': 1000},
                **extra)


def test_markdown_latex_and_csv_tables(tmp_path):
    boot = {'k=3': {'precision': {'low': 0.70, 'high': 0.74}, 'recall': {'low': 0.38, 'high': 0.40}}}
    a = write_run(tmp_path / 'base', truncation_sweep=[sweep_row(1.0, 0.7204, 0.3931, bootstrap=boot),
                                                       sweep_row(0.7, 0.8111, 0.2234)])
    b = write_run(tmp_path / 'ours_v2', truncation_sweep=[sweep_row(1.0, 0.7301, 0.4012, repeats={
        'precision': {'mean': 0.7301, 'std': 0.0042}, 'recall': {'mean': 0.4012, 'std': 0.0031}})])
    result = table(a, b, '--names', 'Base & co', 'v2_x', '--bold')
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        '| run | precision | recall |\n'
        '|---|---:|---:|\n'
        '| Base & co, psi 1 | 0.720 ± 0.020 | 0.393 ± 0.010 |\n'
        '| Base & co, psi 0.7 | **0.811** | 0.223 |\n'
        '| v2_x, psi 1 | 0.730 ± 0.004 | **0.401 ± 0.003** |\n'
        '\n'
        '_protocol kynkaat2019, convention official, N = 1000, k = 3, features: default VGG-16 (vgg16.pkl), '
        'generator g.pkl_\n')
    latex = table(a, b, '--names', 'Base & co', 'v2_x', '--format', 'latex', '--interval', 'ci')
    assert latex.stdout == (
        '\\begin{tabular}{lrr}\n\\toprule\nRun & precision & recall \\\\\n\\midrule\n'
        'Base \\& co, psi 1 & 0.720 [0.700, 0.740] & 0.393 [0.380, 0.400] \\\\\n'
        'Base \\& co, psi 0.7 & 0.811 & 0.223 \\\\\n'
        'v2\\_x, psi 1 & 0.730 [0.722, 0.738] & 0.401 [0.395, 0.407] \\\\\n'
        '\\bottomrule\n\\end{tabular}\n'
        '% protocol kynkaat2019, convention official, N = 1000, k = 3, features: default VGG-16 (vgg16.pkl), '
        'generator g.pkl\n')
    csv = table(a, '--format', 'csv')
    assert csv.stdout == 'run,precision,recall\n"base, psi 1",0.720 +- 0.020,0.393 +- 0.010\n' \
                         '"base, psi 0.7",0.811,0.223\n'


def test_a_latex_table_compiles(tmp_path):
    if not shutil.which('pdflatex'):
        pytest.skip('pdflatex not found: the LaTeX table is not compiled here')
    a = write_run(tmp_path / 'a_b', truncation_sweep=[sweep_row(1.0, 0.7, 0.4)])
    latex = table(a, '--format', 'latex', '--bold').stdout
    doc = tmp_path / 't.tex'
    doc.write_text('\\documentclass{article}\\usepackage{booktabs}\\begin{document}\n%s\\end{document}\n' % latex)
    compiled = subprocess.run(['pdflatex', '-interaction=nonstopmode', str(doc)], cwd=str(tmp_path),
                              capture_output=True, text=True, timeout=120)
    assert compiled.returncode == 0, compiled.stdout[-2000:]


def test_runs_that_do_not_belong_together_are_refused_by_name(tmp_path):
    a = write_run(tmp_path / 'a', truncation_sweep=[sweep_row(1.0, 0.7, 0.4)])
    b = write_run(tmp_path / 'b', config={'convention': 'strict'}, truncation_sweep=[sweep_row(1.0, 0.7, 0.4)])
    refused = table(a, b)
    assert refused.returncode == 2 and '%s: convention strict differ' % b in refused.stderr
    marked = table(a, b, '--allow_mixed')
    assert marked.returncode == 0 and '| b, psi 1 * |' in marked.stdout and '(--allow_mixed)' in marked.stdout
    (tmp_path / 'foreign').mkdir()
    (tmp_path / 'foreign' / 'results.json').write_text('[1, 2]')
    assert 'not a results.json of this tool' in table(str(tmp_path / 'foreign')).stderr
    assert 'no results.json or stylegan_truncation.txt' in table(str(tmp_path / 'missing')).stderr
    assert table(a, '--metrics', 'precision,bogus').returncode == 2


def test_repeats_redraw_the_generated_side_and_the_table_shows_them(assets, tmp_path):  # noqa: F811
    sweep = ['--data_dir', assets['tfrecords'], '--truncation_sweep', '--num_images', '20', '--truncations', '1.0',
             '0.5']
    result = run_metric(*sweep, '--repeats', '3', *common(assets, tmp_path / 'rep'), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.load(open(str(tmp_path / 'rep' / 'results.json')))['truncation_sweep']
    again = run_metric(*sweep, '--repeats', '3', *common(assets, tmp_path / 'again'), cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.load(open(str(tmp_path / 'again' / 'results.json')))['truncation_sweep'] == [
        dict(row, seconds=row2['seconds']) for row, row2 in zip(
            rows, json.load(open(str(tmp_path / 'again' / 'results.json')))['truncation_sweep'])]  # reproducible
    assert any(len(set(row['repeats'][m]['values'])) > 1 for row in rows for m in ('precision', 'recall'))
    for row in rows:
        values = row['repeats']['precision']['values']
        assert values[0] == row['precision'][0] and row['repeats']['seeds'] == [1234, 1235, 1236]
        assert row['repeats']['precision']['std'] == pytest.approx(np.std(values, ddof=1), abs=1e-15)
    text = table(str(tmp_path / 'rep'))
    assert '| rep, psi 1 | %.3f ± %.3f |' % (rows[0]['repeats']['precision']['mean'],
                                             rows[0]['repeats']['precision']['std']) in text.stdout
    plotted = table(str(tmp_path / 'rep'), '--plot', str(tmp_path / 'curve.pdf'))
    assert plotted.returncode == 0, plotted.stderr
    assert open(str(tmp_path / 'curve.pdf'), 'rb').read(5) == b'%PDF-'


def test_the_demo_sweep_is_read_from_its_official_text_file(tmp_path):
    assert run_metric('--save_path', str(tmp_path / 'demo'), cwd=tmp_path).returncode == 0
    rows = np.loadtxt(str(tmp_path / 'demo' / 'stylegan_truncation.txt'), delimiter=',', skiprows=1)
    got = paper_table.read_run(str(tmp_path / 'demo'), 'demo')
    assert [(name, v['precision'].value, v['recall'].value) for name, v, _ in got] == \
        [('demo, psi %g' % psi, p, r) for psi, p, r in rows]
