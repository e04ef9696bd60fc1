"""Record every figure and per-sample decision the project prints or writes, to compare two versions bit for bit.

    python tools/record_outputs.py OUT_DIR [--quick]      # run on version A, then on version B
    python tools/record_outputs.py --compare DIR_A DIR_B   # exit 1 and list what differs

What it records (public entry points only, so that a refactor cannot change what is measured):
* the official API (`precision_recall`) on every ../shared/fixtures/pr_official case, float32 and float16:
  precision/recall, per-sample decisions, radii, realism and nearest neighbours (ManifoldEstimator,
  with and without the 50% clamp);
* prdc, the symmetric metrics (both tie rules, per-sample statistics) and the conventions report text;
* `run_metric.py` end to end (stdout with timings masked, results.json without timestamps, every file
  written, byte for byte): the demo, feature files with --prdc/--bootstrap/--conventions/--realism_score,
  a port file, a tfrecords truncation sweep + realism with a tiny StyleGAN and VGG pickle (float32 and
  float16), image folders with the TorchScript VGG fixture, and `networks.check_pickle`.
Runs under whatever TF_ENABLE_ONEDNN_OPTS is set; compare records made under the same setting.
"""
import hashlib
import json
import os
import re
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(REPO), 'shared', 'fixtures')
TIMING = re.compile(r'(\d+(\.\d+)?(e[-+]?\d+)?) ?s\b|time[: ]+\S+|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d')


def mask(text):
    """Output text with timings, dates and temporary paths masked (they differ between any two runs)."""
    lines = []
    for line in text.splitlines():
        line = re.sub(r'(/tmp|/work|%s)[^\s,:]*' % re.escape(REPO), '<path>', line)
        line = re.sub(r'-[0-9a-f]{24}\.npz', '-<key>.npz', line)  # feature cache names hash the (temporary) paths
        if re.search(r'time|seconds|Evaluated|Iteration', line, re.IGNORECASE):
            line = TIMING.sub('<t>', line)
        lines.append(line)
    return '\n'.join(lines)


def api_record(out, quick):
    sys.path.insert(0, REPO)
    import numpy as np
    import precision_recall
    from metrics.conventions import conventions_report, format_report
    from metrics.emergent_asymmetry import compute_symmetric_precision_recall
    from metrics.prdc import compute_prdc
    arrays, texts = {}, {}
    folder = os.path.join(SHARED, 'pr_official')
    cases = sorted(f[:-len('.inputs.npz')] for f in os.listdir(folder) if f.endswith('.inputs.npz'))
    if quick:
        cases = cases[:3]
    for case in cases:
        with np.load(os.path.join(folder, case + '.inputs.npz')) as data:
            ref, evl = data['ref_features'], data['eval_features']
        params = json.load(open(os.path.join(folder, case + '.json')))['params']
        ks = params.get('nhood_sizes', [3])
        rows, cols = params.get('row_batch_size', 10000), params.get('col_batch_size', 50000)
        for dtype in ('float32', 'float16'):
            key = '%s/%s' % (case, dtype)
            try:
                pr = precision_recall.knn_precision_recall_features(ref, evl, nhood_sizes=ks, row_batch_size=rows,
                                                                    col_batch_size=cols, dtype=dtype, verbose=False)
                arrays[key + '/precision'], arrays[key + '/recall'] = pr['precision'], pr['recall']
                block = precision_recall.DistanceBlock(ref.shape[1], 1, dtype)
                for clamp in (None, 50):
                    est = precision_recall.ManifoldEstimator(block, ref, rows, cols, ks, clamp_to_percentile=clamp)
                    pred, realism, nn = est.evaluate(evl, return_realism=True, return_neighbors=True)
                    for name, value in (('D', est.D), ('pred', pred), ('realism', realism), ('nn', nn)):
                        arrays['%s/clamp%s/%s' % (key, clamp, name)] = value
            except ValueError as e:
                texts[key + '/error'] = str(e)
        k = min(5, len(evl) - 1)
        for tie in ('<', '<='):
            for name, fn in (('prdc', compute_prdc), ('symmetric', compute_symmetric_precision_recall)):
                try:  # the convention as one value (since the refactor), or the tie string before it
                    from metrics.convention import CONVENTIONS
                    result = fn(ref, evl, k, convention=CONVENTIONS['prdc'].replace(rule=tie), return_per_sample=True)
                except ImportError:
                    result = fn(ref, evl, k, tie=tie, return_per_sample=True)
                stats = result.pop('per_sample')
                texts['%s/%s/%s' % (case, name, tie)] = json.dumps(result, sort_keys=True)
                for stat, value in stats.items():
                    arrays['%s/%s/%s/%s' % (case, name, tie, stat)] = np.asarray(value)
        report = conventions_report(ref, evl, ks)
        texts[case + '/conventions'] = format_report(report)
        arrays[case + '/conventions/eval'] = report.get('official_fake', report.get('official_eval'))
        arrays[case + '/conventions/ref'] = report.get('official_real', report.get('official_ref'))
    np.savez(os.path.join(out, 'api.npz'), **arrays)
    with open(os.path.join(out, 'api.json'), 'w') as f:
        json.dump(texts, f, indent=1, sort_keys=True)


def run(out, name, args, cwd):
    env = dict(os.environ, PYTHONPATH=REPO)
    result = subprocess.run([sys.executable] + args, capture_output=True, text=True, cwd=cwd, env=env, timeout=1800)
    with open(os.path.join(out, name + '.log'), 'w') as f:
        f.write('exit %d\n--- stdout\n%s\n--- stderr\n%s\n' % (result.returncode, mask(result.stdout),
                                                             mask(result.stderr)))


def file_record(out, name, folder):
    """Every file under folder: sha256, and results.json without its timestamps/seconds."""
    listing = {}
    for root, _, files in os.walk(folder):
        for f in sorted(files):
            path = os.path.join(root, f)
            rel = os.path.relpath(path, folder)
            if f == 'results.json':
                data = json.load(open(path))
                listing[rel] = json.dumps(scrub(data), sort_keys=True, indent=1)
            elif f == '.run_metric_outputs.json':
                listing[rel] = open(path).read()
            else:
                listing[rel] = hashlib.sha256(open(path, 'rb').read()).hexdigest()
    with open(os.path.join(out, name + '.files.json'), 'w') as f:
        json.dump(listing, f, indent=1, sort_keys=True)


def scrub(value):
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items() if k not in ('started', 'finished', 'seconds')}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return re.sub(r'(/tmp|/work)\S*', '<path>', value)
    return value


def cli_record(out, scratch, quick):
    import numpy as np
    sys.path.insert(0, REPO)
    sys.path.insert(0, os.path.join(REPO, 'tests'))
    import PIL.Image
    import dnnlib.tflib as tflib
    from datasets.tfrecords import write_tfrecords
    from network_factory import write_vgg_pickle
    rm = os.path.join(REPO, 'run_metric.py')
    with np.load(os.path.join(SHARED, 'pr_official', 'shift_n1500_m1000_d512.inputs.npz')) as data:
        np.save(os.path.join(scratch, 'real.npy'), data['ref_features'][:600])
        np.save(os.path.join(scratch, 'fake.npy'), data['eval_features'][:500])
    json.dump({'precision': 0.7, 'recall': 0.6}, open(os.path.join(scratch, 'port.json'), 'w'))
    jobs = [('demo', [rm, '--save_path', 'demo_out'])]
    feats = ['--real_features', 'real.npy', '--fake_features', 'fake.npy']
    jobs.append(('features', [rm] + feats + ['--prdc', '5', '--bootstrap', '40', '--conventions', '--realism_score',
                                             '--nhood_sizes', '3', '5', '--save_features', '--save_path', 'feat_out',
                                             '--quiet', '--show_n_images', '10']))
    jobs.append(('port', [rm] + feats + ['--conventions', '--port_results', 'port.json', '--save_path', 'port_out',
                                         '--quiet']))
    jobs.append(('features_fp16', [rm] + feats + ['--dtype', 'float16', '--save_path', 'fp16_out', '--quiet']))
    stylegan = os.path.join(SHARED, 'stylegan_official', 'tiny32', 'network.pkl')
    vgg = write_vgg_pickle(os.path.join(scratch, 'vgg16.pkl'), width_divisor=16, seed=0)
    try:  # the loading entry point since the refactor, or the dnnlib one before it
        from networks.loading import load_network_file
    except ImportError:
        load_network_file = tflib.load_network_pkl
    _, _, Gs = load_network_file(stylegan)
    images = Gs.run(np.random.RandomState(7).randn(40, 32), None, truncation_psi=1.0, randomize_noise=False,
                    output_transform=dict(func=tflib.convert_images_to_uint8))
    write_tfrecords(os.path.join(scratch, 'ffhq'), images)
    for name, part in (('reals', images[:30]), ('fakes', images[30:] // 2 + 60)):
        os.makedirs(os.path.join(scratch, name), exist_ok=True)
        for i, image in enumerate(part):
            PIL.Image.fromarray(image.transpose(1, 2, 0)).save(os.path.join(scratch, name, '%03d.png' % i))
    nets = ['--network', stylegan, '--feature_network', vgg, '--cache_dir', 'cache', '--quiet']
    sweep = ['--data_dir', 'ffhq', '--truncation_sweep', '--realism_score', '--num_images', '24', '--num_gen_images',
             '16', '--show_n_images', '4', '--save_features', '--bootstrap', '30', '--prdc', '3']
    jobs.append(('sweep', [rm] + sweep + nets + ['--save_path', 'sweep_out']))
    jobs.append(('sweep_cached', [rm] + sweep + nets + ['--save_path', 'sweep_out2']))
    if not quick:
        jobs.append(('sweep_fp16', [rm] + sweep + nets + ['--dtype', 'float16', '--save_path', 'sweep16_out',
                                                          '--nhood_sizes', '3', '4']))
    ts = os.path.join(SHARED, 'vgg16_torchscript', 'vgg16_tiny.pt')
    jobs.append(('folders', [rm, '--real_dir', 'reals', '--fake_dir', 'fakes', '--realism_score', '--prdc', '3',
                             '--ms_ssim', '--ms_ssim_filter_size', '2', '--feature_network', ts, '--cache_dir',
                             'cache2', '--quiet', '--save_path', 'folders_out', '--show_n_images', '3']))
    jobs.append(('check_pickle_vgg', ['-m', 'networks.check_pickle', vgg, '--trust_pickle_code']))
    jobs.append(('check_pickle_stylegan', ['-m', 'networks.check_pickle', stylegan]))
    for name, args in jobs:
        print('run', name, flush=True)
        run(out, name, args, scratch)
        folder = [a for a in args if a.endswith('_out') or a.endswith('_out2')]
        if folder:
            file_record(out, name, os.path.join(scratch, folder[-1]))


# Labels renamed by the refactor to one real/fake vocabulary (numbers unchanged): normalised before comparing.
RENAMED = [('eval flips', 'fake flips'), ('  ref flips', ' real flips'), (' ref flips', ' real flips'), (': eval ', ': fake '), (', ref ', ', real '),
           ('"eval_flips"', '"fake_flips"'), ('"ref_flips"', '"real_flips"'), ('"metric"', '"distance"'),
           ('"eval": {', '"fake": {'), ('"ref": {', '"real": {'), ('"eval": [', '"fake": ['), ('"ref": [', '"real": ['),
           ('\\"eval\\": {', '\\"fake\\": {'), ('\\"ref\\": {', '\\"real\\": {')]


def normalise(text):
    for old, new in RENAMED:
        text = text.replace(old, new)
    return text


def _compare_json(x, y, path, bad, added):
    """Values in x must be equal in y; keys only in y (e.g. new settings in results.json 'config') are 'added'."""
    if isinstance(x, dict) and isinstance(y, dict):
        for key in sorted(set(x) | set(y)):
            if key not in x:
                added.append('%s/%s' % (path, key))
            elif key not in y:
                bad.append('%s/%s: missing in the second record' % (path, key))
            else:
                _compare_json(x[key], y[key], '%s/%s' % (path, key), bad, added)
    elif isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
        for i, (a, b) in enumerate(zip(x, y)):
            _compare_json(a, b, '%s[%d]' % (path, i), bad, added)
    elif x != y:
        bad.append('%s: %s != %s' % (path, str(x)[:60], str(y)[:60]))


def compare(a, b):
    """Exit 1 when a figure, a decision or a file differs; arrays the newer record adds are listed, not failed."""
    import numpy as np
    bad, added = [], []
    for name in sorted(set(os.listdir(a)) | set(os.listdir(b))):
        pa, pb = os.path.join(a, name), os.path.join(b, name)
        if not (os.path.exists(pa) and os.path.exists(pb)):
            bad.append('%s: only in one record' % name)
        elif name.endswith('.npz'):
            x, y = np.load(pa), np.load(pb)
            for key in sorted(set(x.files) | set(y.files)):
                if key not in x.files:
                    added.append('%s %s' % (name, key))
                elif key not in y.files:
                    bad.append('%s %s: missing in the second record' % (name, key))
                elif x[key].dtype != y[key].dtype or x[key].shape != y[key].shape or \
                        x[key].tobytes() != y[key].tobytes():
                    bad.append('%s %s: differs' % (name, key))
        elif name.endswith('.files.json'):
            fa, fb = json.load(open(pa)), json.load(open(pb))
            for key in sorted(set(fa) | set(fb)):
                if key == 'results.json' and key in fa and key in fb:
                    _compare_json(json.loads(normalise(fa[key])), json.loads(normalise(fb[key])), name + ':' + key,
                                  bad, added)
                elif fa.get(key) != fb.get(key):
                    bad.append('%s %s: differs' % (name, key))
        elif normalise(open(pa).read()) != normalise(open(pb).read()):
            bad.append('%s: differs' % name)
    if added:
        print('only in the second record (new per-sample arrays and settings): %d\n  %s' % (len(added),
                                                                                      '\n  '.join(added)))
    print('\n'.join(bad) or 'identical: %d records' % len(os.listdir(a)))
    return 1 if bad else 0


def parse_args(argv):
    import argparse
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('out_dir', nargs='?', help='folder to record into (created)')
    p.add_argument('--quick', action='store_true', help='fewer and smaller cases')
    p.add_argument('--compare', nargs=2, metavar=('DIR_A', 'DIR_B'), help='compare two records; exit 1 if they differ')
    args = p.parse_args(argv)
    if (args.out_dir is None) == (args.compare is None):
        p.error('give OUT_DIR to record, or --compare DIR_A DIR_B')
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.compare:
        return compare(*args.compare)
    import tempfile
    out = os.path.abspath(args.out_dir)
    quick = args.quick
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        cli_record(out, scratch, quick)
    api_record(out, quick)
    print('recorded into', out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
