"""Grouping a stream of images into batches that a network can take in one call."""
import itertools

import numpy as np


def equal_shape_batches(images, batch_size, limit=None):
    """Yield stacked arrays of up to `batch_size` consecutive images of equal shape.

    images: iterable of arrays; a change of shape closes the current batch (networks that
    resize inside still need one size per call). limit: stop after this many images.
    """
    if limit is not None:
        images = itertools.islice(images, limit)
    batch = []
    for image in images:
        if batch and np.shape(image) != np.shape(batch[0]):
            yield np.stack(batch)
            batch = []
        batch.append(image)
        if len(batch) == batch_size:
            yield np.stack(batch)
            batch = []
    if batch:
        yield np.stack(batch)
