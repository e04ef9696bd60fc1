"""metrics.top_values: the chunked k-smallest selections equal a full sort of each line, value for value."""
import numpy as np
import pytest
import tensorflow as tf

from metrics import top_values


def expected_rows(x, count):
    return np.sort(x, axis=1)[:, :min(count, x.shape[1])]


def lines(seed, t, m, dtype, ties):
    rs = np.random.RandomState(seed)
    x = rs.standard_normal((t, m)) * 10
    if ties:  # few distinct values, zeros of both signs and infinities: selections must still be exact
        x = np.round(x / 8)
        x[rs.rand(t, m) < 0.05] = np.inf
        x[x == 0] = np.where(rs.rand(int((x == 0).sum())) < 0.5, -0.0, 0.0)
    return x.astype(dtype)


@pytest.mark.parametrize('t, m', [(64, 200), (67, 203), (5, 7), (40, 41), (129, 1)])
@pytest.mark.parametrize('count', [1, 4, 11])
@pytest.mark.parametrize('dtype', ['float32', 'float16', 'float64'])
@pytest.mark.parametrize('ties', [False, True])
def test_smallest_per_row_and_column_equal_a_full_sort(t, m, count, dtype, ties):
    x = lines(t * m + count, t, m, dtype, ties)
    rows = np.sort(top_values.smallest_per_row(tf.constant(x), count).numpy(), axis=1)
    cols = np.sort(top_values.smallest_per_column(tf.constant(x), count).numpy(), axis=1)
    np.testing.assert_array_equal(rows, expected_rows(x, count))
    np.testing.assert_array_equal(cols, expected_rows(x.T, count))
    for first in (m // 3, m):  # the columns from `first` on only
        later = np.sort(top_values.smallest_per_column(tf.constant(x), count, first).numpy(), axis=1)
        np.testing.assert_array_equal(later, expected_rows(x[:, first:].T, count))


def test_the_chunked_path_is_taken_and_finds_values_clustered_in_one_chunk():
    """Line lengths where chunks are chosen (more than 2 * count chunks); the smallest values of a line all sit in one
    chunk (so the choice of chunks, not just their minima, matters)."""
    t, m, count = 80, 160, 4
    assert min(t, m) // top_values.CHUNK > 2 * count
    x = np.full((t, m), 100.0, np.float32) + np.arange(m, dtype=np.float32)
    x[:, 40:44] = [[1, 2, 3, 0.5]]  # a row's 4 smallest in chunk 5
    x[8:12, :] = np.minimum(x[8:12, :], np.array([[-3], [-1], [-2], [-4]], np.float32))  # a column's: chunk 1
    np.testing.assert_array_equal(np.sort(top_values.smallest_per_row(tf.constant(x), count).numpy(), axis=1),
                                  expected_rows(x, count))
    np.testing.assert_array_equal(np.sort(top_values.smallest_per_column(tf.constant(x), count).numpy(), axis=1),
                                  expected_rows(x.T, count))
