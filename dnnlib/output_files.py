"""Files written so that nobody sees them half-written: the one atomic-write helper of the project.

`pending_file(folder)` gives a temporary file beside its destination; `commit(path)` flushes it
to disk and renames it into place, anything else (an error, Ctrl-C, no commit) removes it.
`atomic_output(path)` is the usual form when the destination is known up front. Every file the
project writes (results, caches, downloads, saved sources, tfrecords) goes through here.
A function registered with `before_first_output(folder, func)` runs once, just before the first
file below `folder` is put in place (run_metric uses it to clear the previous run's outputs).
Below a folder tracked by `dnnlib.owned_files`, each file put in place is recorded in that folder's ledger,
and an existing file there that the ledger does not prove to be the tool's is never replaced.
"""
import contextlib
import json
import os
import tempfile

import dnnlib.owned_files as owned_files

_BEFORE_FIRST_OUTPUT = {}  # folder -> function to call once, before the first output is put in place below it


class NotOurFileError(FileExistsError):
    """The destination exists below a tracked folder and this tool cannot prove it wrote it: it is left alone."""


class PendingFile:
    """A temporary file (`file` opened in the requested mode, at `path`) waiting to be committed."""

    def __init__(self, file, path):
        self.file, self.path, self.committed = file, path, False
        info = os.fstat(file.fileno())
        self.inode = (info.st_dev, info.st_ino)

    def commit(self, destination):
        """Flush and fsync the file, then rename it to `destination` (atomic on one file system)."""
        destination = os.path.abspath(destination)
        if not self.file.closed:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
        for folder in list(_BEFORE_FIRST_OUTPUT):
            if destination == folder or destination.startswith(folder + os.sep):
                _BEFORE_FIRST_OUTPUT.pop(folder)()
        check_replaceable(destination)
        os.replace(self.path, destination)
        owned_files.temporary_done(self.inode)
        self.committed = True
        owned_files.record_written(destination)


def check_replaceable(destination):
    """Raise NotOurFileError when `destination` exists below a tracked folder and is not provably the tool's."""
    if not owned_files.is_tracked(destination) or not os.path.lexists(destination):
        return
    proven, reason = owned_files.owns(destination)
    if not proven:
        raise NotOurFileError('%s already exists and this tool did not write it (%s); it is left as it is: move it '
                              'away or choose another folder' % (destination, reason))


@contextlib.contextmanager
def pending_file(folder, mode='wb', name='download'):
    """Yield a PendingFile in `folder` (created if needed) named '.tmp_<name>.<random>'; removed unless committed."""
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.tmp_' + name + '.', dir=folder)
    os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600; give the file the normal permissions
    pending = PendingFile(os.fdopen(fd, mode), tmp)
    try:
        owned_files.record_temporary(tmp)  # so a run killed before the commit leaves nothing --clear_cache can't prove
        yield pending
    finally:
        if not pending.committed:
            with contextlib.suppress(OSError):
                pending.file.close()
            owned_files.remove_created(tmp, pending.inode)
            owned_files.temporary_done(pending.inode)


@contextlib.contextmanager
def atomic_output(path, mode='w'):
    """Open a temporary file beside `path`; on success it replaces `path`, on error it is removed.

    Readers never see a half-written file, and an interrupted run leaves the old file (or none).
    """
    with pending_file(os.path.dirname(os.path.abspath(path)), mode, os.path.basename(path)) as pending:
        try:
            yield pending.file
        except OSError as e:  # a full disk, a file size limit: name the file being written
            if e.filename is None:
                raise OSError(e.errno, '%s (while writing)' % e.strerror, path) from e
            raise
        pending.commit(path)


def save_json(path, obj):
    """Write `obj` as indented JSON, atomically."""
    with atomic_output(path) as f:
        json.dump(obj, f, indent=2, sort_keys=False)
        f.write('\n')


def before_first_output(folder, func):
    """Call func() once, just before the first file below `folder` is put in place (func None: forget)."""
    folder = os.path.abspath(folder)
    if func is None:
        _BEFORE_FIRST_OUTPUT.pop(folder, None)
    else:
        _BEFORE_FIRST_OUTPUT[folder] = func


def check_writable_folder(folder, flag):
    """Create `folder` if needed and prove a file can be written in it; ValueError naming the flag otherwise."""
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        raise ValueError('%s %s cannot be written: %s' % (flag, folder, e.strerror or e)) from e


def current_umask():
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask
