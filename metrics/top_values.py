"""The few largest values of each row or column of a distance block, exactly, at a fraction of top_k's cost.

TensorFlow's top_k over the rows of a [1,024, 5,000] block takes ~12 ms on 2 cores, and down its columns a
transposed copy first (~6 ms more); the k-NN radii pass runs both on every block. Both functions here find
the same values (as a multiset: elements of the block, no arithmetic) from a cheaper pass:

    split each line into chunks of CHUNK elements and take each chunk's maximum (one pass over the block);
    the `count` chunks with the largest maxima hold the line's `count` largest values; top_k over their
    count * CHUNK elements (plus the < CHUNK elements of a ragged end) gives them.

Why the chunks suffice: let e_1 >= ... >= e_count be the line's largest values. For each t <= count, either
every chunk holding one of e_1..e_t was chosen (so t candidates are >= e_t), or one was not, and then the
`count` chosen chunks each have a maximum >= that chunk's maximum >= e_t. Either way at least t candidates
are >= e_t, and the candidates are elements of the line, so their t-th largest is e_t.
"""
import tensorflow as tf

CHUNK = 8


def largest_per_row(x, count):
    """The `count` largest values of each row of x [t, m] (any real dtype, no NaN) -> [t, min(count, m)], unsorted."""
    t, m = int(x.shape[0]), int(x.shape[1])
    whole = m - m % CHUNK
    if whole // CHUNK <= 2 * count:  # too few chunks to save work
        return tf.math.top_k(x, k=min(count, m), sorted=False).values
    chunks = tf.reshape(x if whole == m else x[:, :whole], [t, whole // CHUNK, CHUNK])
    chosen = tf.math.top_k(tf.reduce_max(chunks, axis=2), k=count, sorted=False).indices  # [t, count]
    candidates = tf.reshape(tf.gather(chunks, chosen, batch_dims=1), [t, count * CHUNK])
    if whole < m:
        candidates = tf.concat([candidates, x[:, whole:]], axis=1)
    return tf.math.top_k(candidates, k=count, sorted=False).values


def largest_per_column(x, count):
    """The `count` largest values of each column of x [t, m] (no NaN) -> [m, min(count, t)], unsorted; no transposed
    copy of x is made."""
    t, m = int(x.shape[0]), int(x.shape[1])
    whole = t - t % CHUNK
    if whole // CHUNK <= 2 * count:
        return tf.math.top_k(tf.transpose(x), k=min(count, t), sorted=False).values
    body = x[:whole]  # leading rows: no copy
    chunk_max = tf.reduce_max(tf.reshape(body, [whole // CHUNK, CHUNK, m]), axis=1)  # [chunks, m]
    chosen = tf.math.top_k(tf.transpose(chunk_max), k=count, sorted=False).indices  # [m, count]
    rows = tf.cast(chosen, tf.int64)[:, :, None] * CHUNK + tf.range(CHUNK, dtype=tf.int64)  # [m, count, CHUNK]
    flat_index = rows * m + tf.range(m, dtype=tf.int64)[:, None, None]
    candidates = tf.reshape(tf.gather(tf.reshape(body, [-1]), flat_index), [m, count * CHUNK])
    if whole < t:
        candidates = tf.concat([candidates, tf.transpose(x[whole:])], axis=1)
    return tf.math.top_k(candidates, k=count, sorted=False).values
