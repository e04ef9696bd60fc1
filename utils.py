"""Small helpers shared by the command-line tools: atomic file output and seeding."""
import contextlib
import json
import os
import tempfile

import numpy as np


@contextlib.contextmanager
def atomic_output(path, mode='w'):
    """Open a temporary file beside `path`; on success it replaces `path`, on error it is removed.

    Readers never see a half-written file, and an interrupted run leaves the old file (or none).
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.tmp_' + os.path.basename(path) + '.', dir=folder)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def save_truncation_txt(path, rows):
    """Write the official `stylegan_truncation.txt`: header 'truncation_psi,precision,recall', float32 rows, %.18e."""
    table = np.asarray(rows, dtype=np.float32).reshape(-1, 3)
    with atomic_output(path) as f:
        np.savetxt(f, table, header='truncation_psi,precision,recall', delimiter=',', comments='')


def save_json(path, obj):
    """Write `obj` as indented JSON, atomically."""
    with atomic_output(path) as f:
        json.dump(obj, f, indent=2, sort_keys=False)
        f.write('\n')
