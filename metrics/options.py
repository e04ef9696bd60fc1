"""How a computation runs (never what it computes): devices, batch sizes and progress, as one value.

Built once -- by `run_metric.py` from the command line, or by the official signatures of
`precision_recall.py` from their arguments -- and passed down as the keyword `options`.
The numerics that decide the numbers (rule, dtype, distance form, ties) are a `Convention`
(metrics/convention.py); results never depend on anything here, except that the GEMM library, like
TensorFlow's kernel family, may round a dot product's last bit differently.
"""
import dataclasses

from metrics.feature_checks import as_batch_size

GEMM_CHOICES = ('auto', 'tensorflow', 'numpy')  # see metrics.gemm


def check_gemm_choice(choice):
    """`choice` if it names a GEMM choice, else ValueError."""
    if choice not in GEMM_CHOICES:
        raise ValueError('gemm must be one of %s, not %r' % (', '.join(GEMM_CHOICES), choice))
    return choice


@dataclasses.dataclass(frozen=True)
class Options:
    """num_gpus: devices to split work over (>= 1; see dnnlib.tflib.tfutil.compute_devices).
    row_batch_size, col_batch_size: rows x columns of one distance block (memory ~ their product).
    minibatch_size: images per network call.
    progress: show tqdm progress bars.
    gemm: library of the distance GEMMs on a CPU: 'auto' (the faster one, raced on each call's first tiles;
        metrics.gemm),
        'tensorflow' or 'numpy'.
    """
    num_gpus: int = 1
    row_batch_size: int = 10000
    col_batch_size: int = 50000
    minibatch_size: int = 8
    progress: bool = False
    gemm: str = 'auto'

    def __post_init__(self):
        for name in ('num_gpus', 'row_batch_size', 'col_batch_size', 'minibatch_size'):
            object.__setattr__(self, name, as_batch_size(getattr(self, name), name))
        object.__setattr__(self, 'progress', bool(self.progress))
        check_gemm_choice(self.gemm)

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)


DEFAULT = Options()
