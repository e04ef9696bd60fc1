"""The files run_metric.py writes into --save_path: checking the folder before the work, clearing the previous
run's files (only those the tool provably wrote: dnnlib.owned_files) just before writing new ones."""
import os
import stat

from dnnlib import owned_files

# Files and folders this tool writes into --save_path (a file name, or a folder name ending in '/').
OUTPUTS = ('stylegan_truncation.txt', 'results.json', 'truncation_sweep.png', 'realism_scores.npy',
           'stylegan_realism/', 'realism/', 'features/', 'conventions_official_decisions.npz', 'adm_decisions.npz')


def clear_previous_outputs(save_path, skip=()):
    """Remove what earlier runs of this tool wrote into save_path and is unchanged since (never a file of yours,
    nothing behind a symlink); folders only when that empties them. skip: folders and files left alone (the cache,
    the run's inputs)."""
    removal = owned_files.remove_owned(save_path, skip=skip)
    if removal.removed or removal.kept:
        for line in removal.report("files of the previous run from %s" % save_path):
            print(line)
    return removal


def check_output_names(save_path):
    """Refuse, before any work, a --save_path whose output names are taken by something this tool would not replace:
    a folder or special file where a file goes, a file where a folder goes, or a file the tool did not write."""
    problems = []
    for name in OUTPUTS:
        path = os.path.join(save_path, name.rstrip('/'))
        if not os.path.lexists(path):
            continue
        try:
            mode = (os.stat if name.endswith('/') else os.lstat)(path).st_mode  # a folder may be a link to one
        except OSError as e:  # a dangling link, a loop
            problems.append('%s cannot be used (%s)' % (path, e.strerror or e))
            continue
        if name.endswith('/'):
            if not stat.S_ISDIR(mode):
                problems.append('%s is not a folder (this tool writes its %s files into it)' % (path, name[:-1]))
            continue
        if not stat.S_ISREG(mode):
            problems.append('%s is a %s, where this tool writes a file' % (path, _kind(mode)))
            continue
        proven, reason = owned_files.owns(path)
        if not proven:
            problems.append('%s exists: %s' % (path, reason))
    if problems:
        raise ValueError('--save_path %s cannot take this run\'s outputs without replacing what is not the '
                         'tool\'s:\n  %s\nMove them away or choose another --save_path'
                         % (save_path, '\n  '.join(problems)))


def _kind(mode):
    if stat.S_ISDIR(mode):
        return 'folder'
    if stat.S_ISLNK(mode):
        return 'symlink'
    if stat.S_ISFIFO(mode):
        return 'FIFO'
    return 'special file'
