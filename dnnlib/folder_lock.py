"""One run per output folder at a time: a lock file holding the holder's host and pid.

    with FolderLock(save_path, '--save_path'):
        ...  # no other run of this tool writes into save_path meanwhile

A second run into the same folder is refused with the holder named. A lock left by a process that no longer
exists on this host (killed, machine crash) is taken over with a note -- only when the folder's ledger proves
the tool created that very file (dnnlib.owned_files; the folder must be tracked); one held by another host, or
a file that merely looks like a lock, is refused and left alone (the message says which file to remove).
"""
import json
import os
import socket

import dnnlib.owned_files as owned_files

LOCK_NAME = '.run_in_progress.lock'


class FolderBusyError(ValueError):
    """Another run of this tool is writing into the folder."""


def _process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists, owned by someone else (or cannot be told): assume alive
    return True


class FolderLock:
    """Context manager: hold the lock of `folder` (created if needed) for the duration; `flag` names it in errors."""

    def __init__(self, folder, flag):
        self.path, self.flag, self.inode = os.path.join(folder, LOCK_NAME), flag, None

    def __enter__(self):
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_NOFOLLOW', 0), 0o644)
            except FileExistsError:
                self._take_over_if_stale()
                continue
            with os.fdopen(fd, 'w') as f:
                json.dump({'host': socket.gethostname(), 'pid': os.getpid()}, f)
                info = os.fstat(f.fileno())
            self.inode = (info.st_dev, info.st_ino)
            owned_files.record_temporary(self.path)  # the proof a later run needs to take over a stale lock
            return self
        raise FolderBusyError('%s %s: could not take its lock %s' % (self.flag, os.path.dirname(self.path), self.path))

    def _holder(self):
        try:
            with open(self.path) as f:
                holder = json.load(f)
            return holder if isinstance(holder, dict) else {}
        except (OSError, ValueError):
            return {}

    def _take_over_if_stale(self):
        holder = self._holder()
        host, pid = holder.get('host'), holder.get('pid')
        folder = os.path.dirname(self.path)
        if host == socket.gethostname() and isinstance(pid, int) and pid != os.getpid() and not _process_alive(pid):
            removed, reason = owned_files.remove_file_if_owned(self.path)
            if removed:
                print('Note: took over the lock of %s left by process %d, which no longer runs' % (folder, pid))
                return
            raise FolderBusyError('%s %s holds a lock file %s naming process %d, which no longer runs, but this tool '
                                  'cannot prove it created that file (%s): remove it if no run is going on'
                                  % (self.flag, folder, self.path, pid, reason))
        who = 'process %s on %s' % (pid, host) if pid else 'an unknown process'
        raise FolderBusyError('%s %s is in use by another run of this tool (%s): wait for it to finish or choose '
                              'another %s (if no run is going on, remove %s)' % (self.flag, folder, who, self.flag,
                                                                                self.path))

    def __exit__(self, *exc):
        if self.inode is not None:
            owned_files.remove_created(self.path, self.inode)
            owned_files.temporary_done(self.inode)
        return False
