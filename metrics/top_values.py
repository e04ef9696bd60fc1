"""The few smallest values of each row or column of a distance block, exactly, at a fraction of top_k's cost.

TensorFlow's top_k finds largest values, so a k-nearest search through it first negates the whole block (a
[1,024, 5,000] float32 block: ~10 ms on 2 cores), then runs top_k over the rows (~12 ms) and, down the columns,
over a transposed copy (~6 ms more); the k-NN radii pass does this on every block. Both functions here find the
same values (as a multiset: elements of the block, no arithmetic) from one cheaper pass and small arrays:

    split each line into chunks of CHUNK elements and take each chunk's minimum (one pass over the block);
    the `count` chunks with the smallest minima hold the line's `count` smallest values; a top_k over their
    count * CHUNK elements (plus the < CHUNK elements of a ragged end) gives them.

Only those small arrays are negated for top_k. Why the chunks suffice: let e_1 <= ... <= e_count be the line's
smallest values. For each t <= count, either every chunk holding one of e_1..e_t was chosen (so t candidates
are <= e_t), or one was not, and then the `count` chosen chunks each have a minimum <= that chunk's minimum
<= e_t. Either way at least t candidates are <= e_t, and the candidates are elements of the line, so their t-th
smallest is e_t.
"""
import tensorflow as tf

CHUNK = 8


def smallest(x, count, ascending=False):
    """The `count` smallest values of each row of x [r, c] (count <= c), via top_k of -x; ascending or unsorted."""
    return -tf.math.top_k(-x, k=count, sorted=ascending).values


def _smallest_indices(x, count):
    """Indices [r, count] of the `count` smallest values of each row of x [r, c]."""
    return tf.math.top_k(-x, k=count, sorted=False).indices


def smallest_per_row(x, count):
    """The `count` smallest values of each row of x [t, m] (any real dtype, no NaN) -> [t, min(count, m)], unsorted."""
    t, m = int(x.shape[0]), int(x.shape[1])
    whole = m - m % CHUNK
    if whole // CHUNK <= 2 * count:  # too few chunks to save work
        return smallest(x, min(count, m))
    chunks = tf.reshape(x if whole == m else x[:, :whole], [t, whole // CHUNK, CHUNK])
    chosen = _smallest_indices(tf.reduce_min(chunks, axis=2), count)  # [t, count]
    candidates = tf.reshape(tf.gather(chunks, chosen, batch_dims=1), [t, count * CHUNK])
    if whole < m:
        candidates = tf.concat([candidates, x[:, whole:]], axis=1)
    return smallest(candidates, count)


def smallest_per_column(x, count, first_column=0):
    """The `count` smallest values of each column of x [t, m] from `first_column` on (no NaN) -> [m - first_column,
    min(count, t)], unsorted; no transposed copy of x is made, and the columns before `first_column` cost only
    their share of the one pass over x."""
    t, m = int(x.shape[0]), int(x.shape[1])
    width = m - first_column
    whole = t - t % CHUNK
    if whole // CHUNK <= 2 * count or width <= 0:
        return smallest(tf.transpose(x[:, first_column:]), min(count, t))
    body = x[:whole]  # leading rows: no copy
    chunk_min = tf.reduce_min(tf.reshape(body, [whole // CHUNK, CHUNK, m]), axis=1)  # [chunks, m]
    chosen = _smallest_indices(tf.transpose(chunk_min[:, first_column:]), count)  # [width, count]
    index_type = tf.int32 if whole * m < 2 ** 31 else tf.int64
    first = tf.cast(chosen, index_type)[:, :, None] * (CHUNK * m) + tf.range(0, CHUNK * m, m, dtype=index_type)
    columns = tf.range(first_column, m, dtype=index_type)[:, None, None]
    flat_index = first + columns  # [width, count, CHUNK]: row * m + column
    candidates = tf.reshape(tf.gather(tf.reshape(body, [-1]), flat_index), [width, count * CHUNK])
    if whole < t:
        candidates = tf.concat([candidates, tf.transpose(x[whole:, first_column:])], axis=1)
    return smallest(candidates, count)
