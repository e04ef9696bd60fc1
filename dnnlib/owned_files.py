"""Which files this tool wrote, and removing only those: the one module of the project that deletes a file.

A folder is *tracked* once `track(folder)` has been called in this process (run_metric tracks --save_path and
--cache_dir; the download, feature and graph caches track their own folders). Every file that
`dnnlib.output_files` puts in place below a tracked folder is recorded in a ledger in the file's own folder,
`LEDGER` (one JSON line per file: its name, size and sha256; for a temporary, its inode). A file is removed
only when all of these hold:

* it is named by a ledger of its own folder, as a plain name (no '/', '..');
* it is reached from the resolved root without following a symlink: every folder on the way and the file
  itself are checked with lstat (a symlink, a FIFO or a folder is never removed, nor anything behind one);
* it is a regular file with the size and sha256 the ledger recorded (a temporary of a killed run: its random
  name and the same device and inode it was created with), so a file the user changed, replaced or copied
  over is theirs now and stays.

A file the user named (a path or a file:// URL) is never in a ledger, so nothing here can remove it. What is
kept is reported with the reason. Folders go only when the removal emptied them; the root itself stays.
"""
import contextlib
import hashlib
import json
import os
import stat
import tempfile

LEDGER = '.written_by_this_tool.jsonl'
HEADER = {'ledger': 'files written by improved-precision-recall-tf2', 'format': 1}
_TRACKED = set()  # resolved folders whose new files are recorded
_LIVE = set()  # (st_dev, st_ino) of temporaries this process is still writing: never removed by remove_owned


class Removal:
    """What a removal did: `removed` (absolute paths) and `kept` ((absolute path, reason) pairs)."""

    def __init__(self):
        self.removed, self.kept, self.folders = [], [], []

    def report(self, what):
        """Lines for stdout: what was removed and what was kept, with why."""
        lines = ['Removed %d %s%s' % (len(self.removed), what, ':' if self.removed else '')]
        lines += ['  ' + p for p in self.removed]
        if self.kept:
            lines.append('Kept %d files (this tool cannot prove it wrote them as they are now):' % len(self.kept))
            lines += ['  %s (%s)' % kept for kept in self.kept]
        return lines


def track(folder):
    """Record files written below `folder` from now on (idempotent)."""
    _TRACKED.add(os.path.realpath(folder))


def is_tracked(path):
    """True when `path` lies below a tracked folder."""
    real = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    return any(real == root or real.startswith(root + os.sep) for root in _TRACKED)


def sha256_of(path, chunk=1 << 20):
    """sha256 hex of a file's bytes (opened without following a final symlink)."""
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0))
    with os.fdopen(fd, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


# ---- the ledger ----------------------------------------------------------------------------------------------

def _append(folder, entry):
    """Append one entry to the ledger of `folder` (created with its header; O_APPEND, no symlink followed)."""
    path = os.path.join(folder, LEDGER)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, 'O_NOFOLLOW', 0)
    fd = os.open(path, flags, 0o666)
    with os.fdopen(fd, 'a') as f:
        if f.tell() == 0:
            f.write(json.dumps(HEADER) + '\n')
        f.write(json.dumps(entry, sort_keys=True) + '\n')


def record_written(path):
    """Note that this tool just put `path` in place (its size and sha256), when it lies below a tracked folder."""
    if not is_tracked(path):
        return
    info = os.lstat(path)
    _append(os.path.dirname(os.path.abspath(path)), {'name': os.path.basename(path), 'size': info.st_size,
                                                     'sha256': sha256_of(path)})


def record_temporary(path):
    """Note a temporary file this tool just created (by inode: its content is still being written)."""
    if not is_tracked(path):
        return
    info = os.lstat(path)
    _LIVE.add((info.st_dev, info.st_ino))
    _append(os.path.dirname(os.path.abspath(path)), {'name': os.path.basename(path), 'temporary': True,
                                                     'inode': [info.st_dev, info.st_ino]})


def temporary_done(inode):
    """The temporary with this (st_dev, st_ino) was committed or removed by its writer."""
    _LIVE.discard(tuple(inode))


def read_ledger(folder):
    """{name: latest entry} from the ledger of `folder`, or None when there is none or it is not this tool's."""
    path = os.path.join(folder, LEDGER)
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        with open(path) as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    if not lines or _parse(lines[0]) != HEADER:
        return None
    entries = {}
    for line in lines[1:]:
        entry = _parse(line)  # a line cut short by a killed process is skipped
        if isinstance(entry, dict) and _plain_name(entry.get('name')):
            entries[entry['name']] = entry
    return entries


def _parse(line):
    try:
        return json.loads(line)
    except ValueError:
        return None


def _plain_name(name):
    return isinstance(name, str) and name not in ('', '.', '..', LEDGER) and '/' not in name and \
        os.sep not in name and '\x00' not in name


def owns(path):
    """(True, '') when the ledger beside `path` proves this tool wrote it as it is now, else (False, reason)."""
    folder, name = os.path.split(os.path.abspath(path))
    entry = (read_ledger(folder) or {}).get(name)
    if entry is None:
        return False, 'not recorded as written by this tool'
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False, 'gone'
    if stat.S_ISLNK(info.st_mode):
        return False, 'a symlink'
    if not stat.S_ISREG(info.st_mode):
        return False, 'not a regular file'
    if entry.get('temporary'):
        same = entry.get('inode') == [info.st_dev, info.st_ino]
        return same, '' if same else 'replaced since this tool created it'
    if info.st_size != entry.get('size') or sha256_of(path) != entry.get('sha256'):
        return False, 'changed since this tool wrote it'
    return True, ''


# ---- removal -------------------------------------------------------------------------------------------------

def _real_folders_below(root, skip):
    """Real folders below `root` (root first), never entering a symlink or a folder in `skip`."""
    pending = [root]
    while pending:
        folder = pending.pop()
        yield folder
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        pending += sorted((e.path for e in entries if e.is_dir(follow_symlinks=False)
                           and os.path.realpath(e.path) not in skip), reverse=True)


def _inside_without_links(root, path):
    """True when every component of `path` below `root` is a real folder (not a symlink)."""
    relative = os.path.relpath(path, root)
    if relative == '.' or relative.startswith('..'):
        return relative == '.'
    current = root
    for part in relative.split(os.sep):
        current = os.path.join(current, part)
        try:
            if not stat.S_ISDIR(os.lstat(current).st_mode):
                return False
        except OSError:
            return False
    return True


def remove_owned(root, skip=()):
    """Remove the files below `root` that this tool provably wrote (see the module docstring) -> Removal.

    skip: folders not to enter and files not to remove (e.g. a cache inside the output folder, the files a run
    reads as its input); a skipped file is kept and reported. Never raises for a file it keeps.
    """
    result = Removal()
    if not os.path.isdir(root):
        return result
    root = os.path.realpath(root)
    skip = {os.path.realpath(s) for s in skip}
    for folder in list(_real_folders_below(root, skip)):
        if not _inside_without_links(root, folder):
            continue
        entries = read_ledger(folder)
        if entries is None:
            continue
        remaining = _remove_listed(folder, entries, result, skip)
        if remaining != entries:
            _rewrite_ledger(folder, remaining)
    _remove_emptied_folders(root, result)
    return result


def _remove_listed(folder, entries, result, skip=()):
    """Remove the ledger's provable files in `folder` that are not in `skip` (real paths); returns the entries to
    keep recording (a file kept because it changed is the user's now and leaves the ledger; one that could not be
    unlinked or was skipped stays in it)."""
    remaining = {}
    for name, entry in sorted(entries.items()):
        path = os.path.join(folder, name)
        if not os.path.lexists(path):
            continue
        if os.path.realpath(path) in skip:
            result.kept.append((path, 'an input of this run'))
            remaining[name] = entry
            continue
        if tuple(entry.get('inode') or ()) in _LIVE:  # a temporary this process is still writing
            remaining[name] = entry
            continue
        proven, reason = owns(path)
        failure = _unlink(path) if proven else ''
        if not proven or failure:
            result.kept.append((path, reason or failure))
            if failure:
                remaining[name] = entry
            continue
        result.removed.append(path)
        result.folders.append(folder)
    return remaining


def _rewrite_ledger(folder, remaining):
    """Keep the ledger listing only what is still recorded; remove it when nothing is (it is this tool's file)."""
    path = os.path.join(folder, LEDGER)
    with contextlib.suppress(OSError):
        if not remaining:
            os.unlink(path)
            return
        fd, tmp = tempfile.mkstemp(prefix='.tmp_ledger.', dir=folder)
        os.chmod(tmp, os.stat(path).st_mode & 0o777)
        with os.fdopen(fd, 'w') as f:
            f.write(json.dumps(HEADER) + '\n')
            for entry in remaining.values():
                f.write(json.dumps(entry, sort_keys=True) + '\n')
        os.replace(tmp, path)


def _remove_emptied_folders(root, result):
    """rmdir the real folders below root that this removal emptied, deepest first (never root, never a link)."""
    for folder in sorted(set(result.folders), key=len, reverse=True):
        while folder != root and folder.startswith(root + os.sep) and _inside_without_links(root, folder):
            try:
                os.rmdir(folder)  # fails, harmlessly, on a folder that still holds anything
            except OSError:
                break
            folder = os.path.dirname(folder)


def remove_file_if_owned(path):
    """Remove one file when its ledger proves this tool wrote it as it is now -> (removed, reason kept)."""
    proven, reason = owns(path)
    if not proven:
        return False, reason
    failure = _unlink(path)
    return not failure, failure


def _unlink(path):
    """Unlink `path` -> '' or why it could not be removed (a read-only file system, permissions)."""
    try:
        os.unlink(path)
    except OSError as e:
        return 'could not be removed: %s' % (e.strerror or e)
    return ''


def set_aside(path, prefix='damaged-'):
    """Rename a regular file (not a link) to `prefix + its name` in its folder (+ a number if taken), keeping its
    bytes -> the new path, or None when it is not a regular file. For a damaged file under the tool's own cache
    name that the tool cannot prove it wrote as it is now: the next run can fetch it anew, and nothing is lost."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
    except OSError:
        return None
    folder, name = os.path.split(path)
    target, number = os.path.join(folder, prefix + name), 1
    while os.path.lexists(target):
        number += 1
        target = os.path.join(folder, '%s%d-%s' % (prefix, number, name))
    os.rename(path, target)
    return target


def remove_created(path, inode):
    """Remove a file this process created itself (a temporary, a lock) if it is still that inode -> bool."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISREG(info.st_mode) or (info.st_dev, info.st_ino) != tuple(inode):
        return False
    with contextlib.suppress(OSError):
        os.unlink(path)
        return True
    return False
