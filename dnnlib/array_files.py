"""Sizes of the arrays in a NumPy file, checked before any is read: a small file never allocates gigabytes.

    check_array_file(path)   # ValueError naming the file, the array and its declared size

An .npy header, or each .npy member of an .npz, declares a shape and dtype; NumPy allocates that much before
reading the data. Here each declared size must match the bytes actually stored for it (the file's size, or
the member's uncompressed size in the zip directory) and fit in this machine's memory, and a compressed member
may not inflate more than MAX_INFLATION-fold beyond LARGE_BYTES (features and statistics of real images do
not compress like that; a zip bomb does).
"""
import os
import zipfile

import numpy as np

MAX_INFLATION = 100  # uncompressed / compressed size of an .npz member, allowed above LARGE_BYTES
LARGE_BYTES = 64 << 20


class DeclaredSizeError(ValueError):
    """An array of a NumPy file declares more than the file holds, inflates too far, or exceeds the memory."""


def physical_memory_bytes():
    """This machine's physical memory in bytes (None where it cannot be read)."""
    try:
        return os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES')
    except (ValueError, OSError, AttributeError):
        return None


def _header(f):
    """(shape, dtype, header bytes) of an .npy stream at its start."""
    version = np.lib.format.read_magic(f)
    read = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}.get(version)
    if read is None:
        raise ValueError('unsupported .npy format version %s' % (version,))
    shape, _fortran, dtype = read(f, max_header_size=1 << 20)
    return shape, dtype, f.tell()


def declared_arrays(path):
    """{name: (shape, dtype, declared bytes, stored bytes)} of an .npy (name '') or the .npy members of an .npz."""
    if zipfile.is_zipfile(path):
        found = {}
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.filename.endswith('.npy'):
                    with zf.open(info) as member:
                        shape, dtype, offset = _header(member)
                    if info.file_size > max(LARGE_BYTES, MAX_INFLATION * info.compress_size):
                        raise DeclaredSizeError('%s:%s inflates from %d to %d bytes (%.0f-fold); refusing to read it'
                                         % (path, info.filename, info.compress_size, info.file_size,
                                            info.file_size / max(info.compress_size, 1)))
                    found[info.filename[:-4]] = (shape, dtype, array_bytes(shape, dtype), info.file_size - offset)
        return found
    with open(path, 'rb') as f:
        shape, dtype, offset = _header(f)
    return {'': (shape, dtype, array_bytes(shape, dtype), os.path.getsize(path) - offset)}


def array_bytes(shape, dtype):
    """Bytes an array of `shape` and `dtype` takes (exact integer arithmetic: no overflow for absurd shapes)."""
    return int(np.prod([int(n) for n in shape], dtype=object)) * np.dtype(dtype).itemsize


def check_array_file(path):
    """ValueError when an array of the NumPy file `path` declares more bytes than are stored for it or than this
    machine's memory holds. Files NumPy cannot parse are left to np.load's own error."""
    try:
        arrays = declared_arrays(path)
    except DeclaredSizeError:
        raise
    except (ValueError, OSError, zipfile.BadZipFile, EOFError):
        return  # a file NumPy cannot parse: np.load names it
    memory = physical_memory_bytes()
    for name, (shape, dtype, declared, stored) in arrays.items():
        what = '%s%s declares an array of shape %s (%s, %.3g GB)' % (path, ':' + name if name else '', list(shape),
                                                                    dtype, declared / 1e9)
        if dtype.hasobject:
            continue  # np.load(allow_pickle=False) refuses it with its own message
        if declared > stored:
            raise DeclaredSizeError('%s but stores only %d bytes of data (truncated or malformed)'
                                    % (what, max(stored, 0)))
        if memory is not None and declared > memory:
            raise DeclaredSizeError('%s, more than this machine\'s memory (%.3g GB)' % (what, memory / 1e9))


def load_array_file(path, noun, expected='.npy/.npz'):
    """np.load(path) after the size check -> ndarray or NpzFile. FileNotFoundError / ValueError naming the file
    and what it should be (noun: e.g. 'feature file'; expected: e.g. '.npz with mu and sigma')."""
    if not os.path.isfile(path):
        raise FileNotFoundError('%s %s %s' % (noun, path, 'is not a file' if os.path.exists(path) else
                                              'does not exist'))
    check_array_file(path)
    try:
        return np.load(path, allow_pickle=False)
    except Exception as e:  # noqa: BLE001 -- text, garbage, a pickle: all the same to the user
        raise ValueError('not a NumPy %s (%s): %s (%s)' % (noun, expected, path, str(e).splitlines()[0][:80])) from e
