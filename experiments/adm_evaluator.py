"""`run_metric.py --protocol adm --real REF --fake SAMPLE`: OpenAI's ADM evaluator as a protocol of this project.

The five numbers of guided-diffusion's `evaluations/evaluator.py` (metrics/adm_evaluator_official_tf.py has
its semantics): Inception Score, FID and sFID of the sample batch, precision and recall against the reference
batch. REF and SAMPLE are ADM .npz batches (arr_0 uint8 [N, H, W, 3], a reference with or without the dataset
statistics), activations files (pool, spatial), or folders of images. Beside the evaluator's printout the run
writes results.json ('adm'), the per-sample decisions (adm_decisions.npz: precision_pred over the samples,
recall_pred over the references, the format --port_results reads) and, with --conventions, the conventions
report on the evaluator's pool_3 features with the adm row.
"""
import os

import numpy as np

from experiments.rows import INPUTS, Experiment, Flag, Protocol


def _inputs_exist(settings):
    for flag in ('real', 'fake'):
        path = getattr(settings, flag)
        if not path:
            raise ValueError('--protocol adm needs --real (the reference batch) and --fake (the sample batch)')
        if not os.path.exists(path):
            raise FileNotFoundError('--%s %s does not exist' % (flag, path))
    if settings.inception and not os.path.isfile(settings.inception):
        raise FileNotFoundError('--inception %s is not a file' % settings.inception)
    from experiments.checks import check_port_results
    check_port_results(settings, without_conventions=True)
    from metrics.adm_evaluator_official_tf import open_input
    for flag, role in (('real', 'reference batch'), ('fake', 'sample batch')):
        open_input(getattr(settings, flag), role)  # a bad batch is an error before any work


PROTOCOL = Protocol(
    'adm',
    "OpenAI's ADM evaluator (guided-diffusion evaluations/evaluator.py: Inception Score, FID, sFID, precision, "
    'recall on Inception features, float16 blocks with a float32 fallback, k=3) of --fake against --real',
    fixed=(('nhood_sizes', (3,)), ('convention', 'adm'), ('dtype', None), ('num_images', None),
           ('data_dir', None), ('real_dir', None), ('real_features', None), ('fake_dir', None),
           ('fake_features', None), ('truncation_sweep', False), ('realism_score', False), ('prdc', 0),
           ('bootstrap', 0)),
    experiments=(Experiment(
        'adm', 'experiments.adm_evaluator:run', lambda s: s.protocol == 'adm', '--protocol adm --real R --fake S',
        check=_inputs_exist, reads=('conventions', 'port_results'), flags=(
            Flag('real', str, group=INPUTS, data=True,
                 help='--protocol adm: the reference batch (ADM .npz with arr_0 and optional mu/sigma/mu_s/sigma_s, an '
                      'activations .npz with pool and spatial, a folder or a .zip of PNG/JPEG images)'),
            Flag('fake', str, group=INPUTS, data=True,
                 help='--protocol adm: the sample batch (same forms as --real)'),
            Flag('inception', str, group=INPUTS,
                 help='--protocol adm: classify_image_graph_def.pb or inception-2015-12-05.tgz (default: '
                      '_cache/inception, downloaded)'))),))


def compare_port(path, entry):
    """A port's five numbers (JSON as --json writes them) beside the evaluator's -> {name: {port, reference,
    relative difference}}; printed. Per-sample decisions (.npz) are compared by the conventions report."""
    from metrics.adm_evaluator_official_tf import FIVE
    from metrics.conventions import read_port_results
    port = read_port_results(path)
    if port['kind'] != 'numbers':
        return {'per_sample': 'compared in the conventions report (--conventions)'}
    given = dict(port.get('others', {}), Precision=float(port['precision'][0]), Recall=float(port['recall'][0]))
    out = {}
    print('%-16s %20s %20s %12s' % ('your port', 'port', 'ADM evaluator', 'rel. diff'))
    for name in FIVE:
        if name in given:
            ref = entry[name]
            rel = abs(given[name] - ref) / abs(ref) if ref else abs(given[name])
            out[name] = {'port': given[name], 'reference': ref, 'relative_difference': rel}
            print('%-16s %20.10g %20.10g %12.3g' % (name, given[name], ref, rel))
    return out


def run(ctx, real_stream):
    """The evaluator's five numbers (printed as evaluator.py prints them) -> results entry."""
    del real_stream
    from dnnlib.output_files import atomic_output
    from metrics import adm_evaluator_official_tf as adm
    settings = ctx.settings
    result = adm.evaluate(settings.real, settings.fake, settings.inception, progress=settings.options.progress,
                          details=True)
    for name in adm.FIVE:
        print('%s: %s' % (name, result[name]))
    pr, acts = result['pr'], result['activations']
    entry = {name: result[name] for name in adm.FIVE}
    entry.update(num_reference=len(pr['ref_in_sample']), num_sample=len(pr['sample_in_ref']),
                 float32_blocks=pr['float32_blocks'], statistics_from_file=acts['ref'].statistics_from_file)
    with atomic_output(os.path.join(settings.save_path, 'adm_decisions.npz'), 'wb') as f:
        np.savez(f, precision_pred=pr['sample_in_ref'].astype(np.uint8),
                 recall_pred=pr['ref_in_sample'].astype(np.uint8))
    if settings.save_features:
        adm.save_activations(os.path.join(settings.save_path, 'features', 'adm'), acts)
    if settings.port_results:
        entry['port'] = compare_port(settings.port_results, entry)
    if settings.conventions:
        from experiments.conventions_report import run_conventions_report
        entry['conventions'] = run_conventions_report(settings, acts['ref'].pool, acts['sample'].pool,
                                                      extra=('adm',))
    return entry

