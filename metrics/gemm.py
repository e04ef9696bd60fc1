"""The matrix product U V^T of the distance blocks: by TensorFlow, or by the BLAS NumPy links (CPU only).

Nearly all the time of a k-NN metric goes into one product, U V^T of two feature batches. Which library
does it fastest depends on the CPU and on the moment, not on its name: on CPUs with AVX-512 TensorFlow's
kernels (oneDNN or its Eigen contraction) lead; without, NumPy's OpenBLAS is ~1.5-2x faster at our tile shape,
and it has a symmetric rank-k product (`a @ a.T`) that does the diagonal self-distance tiles at half the work.

    GEMMS             'tensorflow' | 'numpy'
    resolve(choice, dtype, devices)      'tensorflow' or 'numpy' when fixed (asked for; GPUs and float16 always
                                         TensorFlow), else 'auto': undecided until the call's first pass races
                                         the two on its own first tiles (`race`; metrics.knn).
    race({name: run})                    times one real tile in each library -> the faster.
    product(name, U, V)                  U V^T [n, m] as a tensor, one GEMM per COLUMN_TILE columns.

Nothing is measured apart from the work and nothing outlives a call: a choice made while the machine was busy
cannot slow a later quiet call. Like the kernel family (TF_ENABLE_ONEDNN_OPTS), the library can change the
last bit of a dot product; it never changes the formula. results.json records which one ran.
"""
import time

import numpy as np
import tensorflow as tf

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
# on a machine with few cores they would slow whatever runs next. A benchmark's timed run starts after this pause.
IDLE_SECONDS = 0.2
_decided = {}  # '<dtype> d=<d>' -> {'gemm': name, 'seconds': {name: s}}: the races of this process


def resolve(choice, dtype, devices):
    """The GEMM a block uses: 'tensorflow', 'numpy', or 'auto' (decided by `race` on its first pass's tiles).

    choice: 'auto', 'tensorflow' or 'numpy' (Options.gemm); dtype: block dtype name; devices: the block's
    device names. NumPy serves float32/float64 blocks on CPUs only: on a GPU, and for float16 (NumPy has no
    float16 BLAS), every choice is TensorFlow.
    """
    check_gemm_choice(choice)
    if dtype == 'float16' or not cpu_only(devices):
        return 'tensorflow'
    return choice


def cpu_only(devices):
    """True when none of `devices` (TensorFlow device names) is a GPU: NumPy's memory and BLAS can serve them."""
    return not any('gpu' in device.lower() for device in devices)


def race(runs, scales=None):
    """{name: run} for each of GEMMS, every run computing the same real tile -> (the faster name,
    {name: result}, {name: seconds}).

    scales: {name: factor} applied to a library's time before the comparison (its time on the whole work per
    unit of race time; default 1). TensorFlow runs first: NumPy's BLAS threads may spin for a while after their
    call (a library user who loaded NumPy before this project gets OpenBLAS's default ~0.1 s), which would slow
    a run that follows them. One run each: a race tile is a [rows, d] x [d, COLUMN_TILE] GEMM, tens of ms at
    d = 4,096, long enough that thread start-up does not decide it; the loser's tile is the only work done
    twice (~2-4% of a P&R at N = 5,000).
    """
    scales = scales or {}
    results, seconds = {}, {}
    for name in GEMMS:
        start = time.perf_counter()
        results[name] = runs[name]()
        seconds[name] = time.perf_counter() - start
    return min(GEMMS, key=lambda name: seconds[name] * scales.get(name, 1.0)), results, seconds


def record_decision(dtype, num_features, name, seconds):
    """Keep what a race decided, for `choices_made` (results files say which library ran)."""
    _decided['%s d=%d' % (dtype, num_features)] = {'gemm': name, 'seconds': dict(seconds)}


def choices_made():
    """{'<dtype> d=<d>': {'gemm': 'tensorflow' | 'numpy', 'seconds': {name: race seconds}}}: what gemm='auto'
    decided in this process (the latest race per dtype and width)."""
    return {key: dict(value) for key, value in _decided.items()}


def gemm_rates(num_features, dtype='float32', repeats=3):
    """{'tensorflow', 'numpy'}: effective GFLOP/s of each on one self-distance block (best of `repeats`); for
    benchmarks (the GEMM lower bound of benchmarks/bench_pr.py), never for a choice.

    The block is what the passes multiply: rows [MEASURE_ROWS, d] against MEASURE_COLUMNS columns whose
    first rows they are, through `product` -- so NumPy's rank-k update of the diagonal square (a
    quarter of the block; ~1/6 of a whole P&R's products at N = 5,000) counts at the share it has in
    real work, and the rate is the block's full multiply-add count over its time. The two libraries are
    timed in alternation (one run each per round), so a drift of a shared machine's speed during the
    measurement touches both alike, and each run starts after a pause of up to
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
