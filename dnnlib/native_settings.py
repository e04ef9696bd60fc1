"""Settings the native libraries read when they load: `apply_native_settings()` first thing in a command-line tool.

Both settings change only how memory and threads are managed, never a computed value:

* OPENBLAS_THREAD_TIMEOUT=20: OpenBLAS worker threads spin 2^28 cycles (~0.1 s) after each call before
  they sleep; on a machine with few cores they take a core from the TensorFlow ops that follow a NumPy
  GEMM (measured on 2 cores, N = M = 5,000, d = 4,096: the top-k merges of a P&R took 0.11-0.13 s instead
  of 0.065-0.08 s). 2^20 cycles (~0.3 ms) still bridges the gaps between the GEMMs of one block.
* TF_CPU_ALLOCATOR_USE_BFC=true: TensorFlow's CPU tensors come from its pooling allocator instead of
  malloc, which maps every block-sized temporary afresh and faults its pages in again at each op (measured
  there with oneDNN off: 120-140k page faults and 1.74-1.82 s per warm P&R; pooled: ~2k and 1.52-1.60 s).
  With oneDNN on, TensorFlow already pools through oneDNN's allocator. The pool is capped at 64 GiB by
  TF_CPU_BFC_MEM_LIMIT_IN_MB.

A value the user set stands. A library reads its setting once, when it loads: a setting whose library is
already imported cannot take effect any more and is left alone.
"""
import os
import sys

# environment variable -> (value, the module whose import loads the library that reads it)
SETTINGS = {
    'OPENBLAS_THREAD_TIMEOUT': ('20', 'numpy'),
    'TF_CPU_ALLOCATOR_USE_BFC': ('true', 'tensorflow'),
}


def apply_native_settings():
    """Set each of SETTINGS the user has not set and whose library is not loaded yet -> {name: value in effect}."""
    applied = {}
    for name, (value, module) in SETTINGS.items():
        if module not in sys.modules:
            applied[name] = os.environ.setdefault(name, value)
    return applied
