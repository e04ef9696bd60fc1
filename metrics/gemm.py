"""The matrix product U V^T of the distance blocks: by TensorFlow, or by the BLAS NumPy links (CPU only).

Nearly all the time of a k-NN metric goes into one product, U V^T of two feature batches. Which library
does it fastest depends on the CPU, not on its name: on CPUs with AVX-512 TensorFlow's kernels (oneDNN or
its Eigen contraction) lead; without, NumPy's OpenBLAS is ~1.5x faster at our tile shape, and it has a
symmetric rank-k product (`a @ a.T`) that does the diagonal self-distance tiles at half the work.

    GEMMS             'tensorflow' | 'numpy'
    resolve(choice, dtype, devices, d)   'auto' -> the faster of the two on this machine, measured once
                                         on a distance block and remembered in <cache>/gemm (the cache:
                                         remember_choices_in(folder), e.g. run_metric's --cache_dir;
                                         default dnnlib.util.CACHE_DIR); GPUs and float16
                                         always use TensorFlow (DistanceBlock adds exact-ties blocks).
    product(name, U, V)                  U V^T [n, m] as a tensor, one GEMM per COLUMN_TILE columns.

Like the kernel family (TF_ENABLE_ONEDNN_OPTS), the choice can change the last bit of a dot product; it
never changes the formula. results.json records which one ran.
"""
import functools
import hashlib
import json
import os
import platform
import time

import numpy as np
import tensorflow as tf

from dnnlib import owned_files, util
from dnnlib.output_files import atomic_output
from metrics.options import check_gemm_choice

GEMMS = ('tensorflow', 'numpy')

# Columns per GEMM. A GEMM library may sum a dot product in another order for another matrix shape or
# another position in the matrix (Eigen picks its blocking from the shape; OpenBLAS treats edge columns
# apart); computing U V^T in column tiles whose boundaries are multiples of COLUMN_TILE, and splitting
# columns over devices only at those boundaries, gives every dot product the same GEMM whatever the
# split: results are identical for any num_gpus, with either library, on every kernel family.
COLUMN_TILE = 1024
MEASURE_ROWS = 1024  # = knn.ROW_TILE, the row tile of every pass
MEASURE_COLUMNS = 4 * COLUMN_TILE
ALIGN_BYTES = 64  # TensorFlow's kernels require buffers aligned to this (EIGEN_MAX_ALIGN_BYTES)
# A BLAS's worker threads spin for a while after a call before they sleep (OpenBLAS: 2^28 cycles, ~0.1 s);
# on a machine with few cores they would slow whatever runs next. A measurement starts after this pause.
IDLE_SECONDS = 0.2
MEASUREMENT = 2  # version of `gemm_rates`' method (2: alternated runs, each after an idle pause)
_chosen = {}  # fingerprint -> (dtype, d, name), for this process
_memory = {'folder': None}  # where measured choices are remembered (None: dnnlib.util.CACHE_DIR/gemm)


def remember_choices_in(cache_dir):
    """Keep measured choices in `cache_dir`/gemm (recorded there as the tool's files: --clear_cache removes them)."""
    _memory['folder'] = util.cache_subfolder('gemm choices', cache_dir)


def resolve(choice, dtype, devices, num_features):
    """The GEMM a block uses: 'tensorflow' or 'numpy'.

    choice: 'auto', 'tensorflow' or 'numpy' (Options.gemm); dtype: block dtype name; devices: the block's
    device names; num_features: d. NumPy serves float32/float64 blocks on CPUs only: on a GPU, and for
    float16 (NumPy has no float16 BLAS), every choice is TensorFlow.
    """
    check_gemm_choice(choice)
    if dtype == 'float16' or not cpu_only(devices):
        return 'tensorflow'
    if choice != 'auto':
        return choice
    return measured_choice(num_features, dtype)


def cpu_only(devices):
    """True when none of `devices` (TensorFlow device names) is a GPU: NumPy's memory and BLAS can serve them."""
    return not any('gpu' in device.lower() for device in devices)


def measured_choice(num_features, dtype):
    """The faster library on a self-distance block (`gemm_rates`) on this machine, measured once and remembered."""
    key = fingerprint(num_features, dtype)
    if key in _chosen:
        return _chosen[key][2]
    path = _path_of(key)
    try:
        with open(path) as f:
            stored = json.load(f)
        name = stored.get('choice') if isinstance(stored, dict) else None  # anything else: measured anew
    except (OSError, ValueError):
        name = None
    if name not in GEMMS:
        rates = gemm_rates(num_features, dtype)
        name = max(GEMMS, key=lambda gemm: rates[gemm])
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            owned_files.track(os.path.dirname(path))
            with atomic_output(path, 'w') as f:
                json.dump({'choice': name, 'gflops': rates, 'machine': machine_description()}, f, indent=1)
        except OSError:
            pass  # a read-only cache: measure again next time
    _chosen[key] = (str(dtype), int(num_features), name)
    return name


def choices_made():
    """{'<dtype> d=<d>': 'tensorflow' | 'numpy'}: what gemm='auto' chose in this process (for results files)."""
    return {'%s d=%d' % (dtype, d): name for dtype, d, name in _chosen.values()}


def choice_path(num_features, dtype):
    """Where this machine's measured choice for (d, dtype) is remembered."""
    return _path_of(fingerprint(num_features, dtype))


def _path_of(key):
    return os.path.join(_memory['folder'] or util.cache_subfolder('gemm choices'), key + '.json')


@functools.lru_cache(maxsize=None)
def machine_description():
    """What the GEMM speeds depend on: CPU model and count, library versions, kernel settings (read once per
    process: the libraries read their settings when loaded)."""
    model = platform.processor()
    try:
        with open('/proc/cpuinfo') as f:
            model = next((line.split(':', 1)[1].strip() for line in f if line.startswith('model name')), model)
    except OSError:
        pass
    from tensorflow.python.util import _pywrap_util_port
    env = {name: os.environ[name] for name in sorted(os.environ)
           if name in ('ONEDNN_MAX_CPU_ISA', 'DNNL_MAX_CPU_ISA', 'OPENBLAS_CORETYPE', 'OPENBLAS_NUM_THREADS',
                       'OMP_NUM_THREADS', 'MKL_NUM_THREADS')}
    return {'cpu': model, 'cpus': os.cpu_count(), 'tensorflow': tf.__version__, 'numpy': np.__version__,
            'onednn': bool(_pywrap_util_port.IsMklEnabled()), 'env': env}


def fingerprint(num_features, dtype):
    """Key of a remembered choice: the machine, d, dtype, and how it was measured (a new method measures anew)."""
    text = json.dumps([machine_description(), int(num_features), str(dtype), MEASUREMENT], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def gemm_rates(num_features, dtype='float32', repeats=3):
    """{'tensorflow', 'numpy'}: effective GFLOP/s of each on one self-distance block (best of `repeats`).

    The block is what the passes multiply: rows [MEASURE_ROWS, d] against MEASURE_COLUMNS columns whose
    first rows they are, through `product` -- so NumPy's rank-k update of the diagonal square (a
    quarter of the block; ~1/6 of a whole P&R's products at N = 5,000) counts at the share it has in
    real work, and the rate is the block's full multiply-add count over its time. The two libraries are
    timed in alternation (one run each per round), so a drift of a shared machine's speed during the
    measurement touches both alike instead of deciding the choice, and each run starts after a pause of up to
    IDLE_SECONDS (the other library's threads have stopped spinning).
    """
    x = np.random.RandomState(0).standard_normal((MEASURE_COLUMNS, num_features)).astype(dtype)
    tx = tf.constant(x)
    runs = {'tensorflow': lambda: product('tensorflow', tx[:MEASURE_ROWS], tx).numpy(),
            'numpy': lambda: product('numpy', x[:MEASURE_ROWS], x).numpy()}
    start = time.perf_counter()
    for run in runs.values():
        run()  # first runs pay for thread pools and kernel set-up
    pause = min(IDLE_SECONDS, 10 * (time.perf_counter() - start))  # tiny test blocks need no long pause
    best = dict.fromkeys(runs, float('inf'))
    for _ in range(repeats):
        for name, run in runs.items():
            time.sleep(pause)
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    work = 2.0 * MEASURE_ROWS * MEASURE_COLUMNS * num_features
    return {name: work / seconds / 1e9 for name, seconds in best.items()}


def product(name, U, V):
    """U V^T [n, m] as a tensor, one GEMM per COLUMN_TILE columns of V (the last one narrower).

    U [n, d], V [m, d]: tensors, or NumPy arrays (or CPU tensors) for 'numpy'. With NumPy, when U is a
    view of V's first n <= COLUMN_TILE rows (a diagonal self-distance tile), the square U U^T is computed
    as one symmetric rank-k update: half the work, and exactly symmetric. Inside the first column tile
    (which a device split never cuts), so the results stay independent of the split.
    """
    if name == 'numpy':
        return as_tensor(numpy_product(np.asarray(U), np.asarray(V)))
    m = int(V.shape[0])
    if m <= COLUMN_TILE:
        return tf.matmul(U, V, False, True)
    return tf.concat([tf.matmul(U, V[c:c + COLUMN_TILE], False, True) for c in range(0, m, COLUMN_TILE)], axis=1)


def is_row_prefix(u, v):
    """True when array u [n, d] is the view v[:n] of array v [m, d] (same memory, same strides)."""
    return (u.ndim == v.ndim == 2 and u.shape[0] <= v.shape[0] and u.shape[1] == v.shape[1]
            and u.strides == v.strides and u.ctypes.data == v.ctypes.data)


def numpy_product(u, v):
    """u v^T [n, m] by NumPy's BLAS into a new ALIGN_BYTES-aligned array, tiled as `product` says."""
    n, m = u.shape[0], v.shape[0]
    prefix = n <= COLUMN_TILE and is_row_prefix(u, v)
    out = aligned_empty((n, m), np.result_type(u, v))
    begin = 0
    if prefix and n:
        np.matmul(u, u.T, out=out[:, :n])  # NumPy runs x @ x.T as a symmetric rank-k update
        begin = n
    for c in range(0, m, COLUMN_TILE):
        lo, hi = max(c, begin), min(c + COLUMN_TILE, m)
        if lo < hi:
            np.matmul(u, v[lo:hi].T, out=out[:, lo:hi])
    return out


def aligned_empty(shape, dtype):
    """Uninitialized C-contiguous array whose data starts on an ALIGN_BYTES boundary."""
    dtype = np.dtype(dtype)
    count = int(np.prod(shape))
    raw = np.empty(count * dtype.itemsize + ALIGN_BYTES, np.uint8)
    offset = (-raw.ctypes.data) % ALIGN_BYTES
    return raw[offset:offset + count * dtype.itemsize].view(dtype).reshape(shape)


def shares_memory_with_tensors(array):
    """Whether `as_tensor` can hand `array`'s own memory to TensorFlow (aligned, contiguous, writeable ndarray)."""
    return bool(isinstance(array, np.ndarray) and array.flags['C_CONTIGUOUS'] and array.flags['WRITEABLE']
                and array.size and array.ctypes.data % ALIGN_BYTES == 0)


def host_tensor(array):
    """A CPU tensor of `array` (any array-like): its own memory when it can be shared, else one aligned NumPy copy
    (on Linux NumPy asks for huge pages for large arrays, so a first call faults in ~35x fewer pages than
    TensorFlow's own copy; measured at 5,000 x 4,096 float32: 7 ms and ~600 faults against 37-42 ms and ~21,000)."""
    array = np.asarray(array)
    if not shares_memory_with_tensors(array):
        copy = aligned_empty(array.shape, array.dtype)
        np.copyto(copy, array)
        array = copy
    return as_tensor(array)


def as_tensor(array):
    """A CPU tensor over `array`'s memory (no copy) when it is an aligned, contiguous, writeable ndarray (DLPack
    cannot export read-only memory), else a copy. The tensor shares the memory: change neither while both live."""
    if shares_memory_with_tensors(array):
        return tf.experimental.dlpack.from_dlpack(array.__dlpack__())
    return tf.convert_to_tensor(array)
