"""A made-up experiment for tests/test_run_layer.py: the mean of the first --dummy_mean real features.

It exists to show that an experiment is one module plus one registry row (ROW below): run_metric.py is not
touched to parse its flag, check it, run it and record its results.
"""
import numpy as np

from experiments.rows import Experiment, Flag


def check(settings):
    if settings.dummy_mean > 1000:
        raise ValueError('--dummy_mean takes at most 1000 rows')


def run(ctx, real_stream):
    """Mean [d] of the first settings.dummy_mean real features -> results entry."""
    start, real = real_stream.take(ctx.settings.dummy_mean)
    print('dummy mean of %d rows from %d' % (len(real), start))
    return {'mean': np.asarray(real, np.float64).mean(axis=0).tolist(), 'convention': ctx.settings.convention.name}


ROW = Experiment('dummy_mean', 'dummy_experiment:run', lambda s: s.dummy_mean > 0, '--dummy_mean N',
                 flags=(Flag('dummy_mean', int, 0, 'mean of the first N real features (a test experiment)'),),
                 check=check, needs=('reals',))
