"""The files run_metric.py writes into --save_path, and clearing the previous run's files before writing new ones."""
import json
import os

from dnnlib.output_files import save_json, written_files

# Files and folders this tool writes into --save_path. A run records which files it wrote (MANIFEST); the next
# run into the same folder removes exactly those files -- when it is about to write its own first output, so a
# run that stops on bad input leaves the previous results in place -- and then the folders they leave empty.
OUTPUTS = ('stylegan_truncation.txt', 'results.json', 'truncation_sweep.png', 'realism_scores.npy', 'stylegan_realism',
           'realism', 'features', 'conventions_official_decisions.npz')
MANIFEST = '.run_metric_outputs.json'  # what the last successful run wrote into --save_path


def clear_previous_outputs(save_path):
    """Remove the files the previous run of this tool wrote into save_path (as its manifest lists), nothing else.

    Folders among OUTPUTS are removed only when that leaves them empty (a file of yours keeps its folder).
    """
    manifest = os.path.join(save_path, MANIFEST)
    try:
        with open(manifest) as f:
            listed = json.load(f)
    except (OSError, ValueError):
        return
    removed = []
    for name in listed if isinstance(listed, list) else []:
        parts = str(name).replace('\\', '/').split('/')
        if parts[0] not in OUTPUTS or '..' in parts or '' in parts:  # only the tool's own outputs, inside save_path
            continue
        path = os.path.join(save_path, *parts)
        if os.path.isfile(path) or os.path.islink(path):
            os.remove(path)
            removed.append(name)
    emptied = {os.path.join(save_path, *name.split('/')[:depth]) for name in removed
               for depth in range(1, name.count('/') + 1)}
    for folder in sorted(emptied, key=len, reverse=True):  # folders this removal emptied, deepest first
        if os.path.isdir(folder) and not os.path.islink(folder) and not os.listdir(folder):
            os.rmdir(folder)
    os.remove(manifest)
    if removed:
        print('Removed the previous run\'s %d output files from %s' % (len(removed), save_path))


def write_output_manifest(save_path):
    """List the files this run wrote into save_path under the tool's output names, for the next run to clear."""
    present = [name for name in written_files(save_path) if name.split('/')[0] in OUTPUTS]
    save_json(os.path.join(save_path, MANIFEST), present)
