"""Reals flipped left-right at random, as NVIDIA's metrics read them with --mirror-augment=true.

NVlabs/stylegan2 `metrics/metric_base.py` passes every minibatch of reals through
`training/misc.py: apply_mirror_augment` when the run was trained with mirroring: each image is flipped
along its width with probability 1/2 (`np.random.rand(n) < 0.5`, NCHW `[:, :, ::-1]`), from NumPy's
unseeded global stream. Here the flips are seeded: record i of the source is flipped when
`RandomState([seed, 1]).rand(num_images)[i] < 0.5`, the same record the same way on every pass of a
repeating stream, so that its features can be cached.
"""
import numpy as np

MIRROR_STREAM = 1  # second word of the seed: the flips' stream is not the latents' RandomState(seed)


class MirroredImages:
    """Images of `source` (TFRecordImages or ImageFolder), each flipped left-right with probability 1/2.

    Attributes: flips bool [num_images]; transform (str, part of the feature cache key); the source's num_images,
    identity, shape, path/folder.
    """

    def __init__(self, source, seed):
        self.source = source
        self.flips = np.random.RandomState([int(seed), MIRROR_STREAM]).rand(source.num_images) < 0.5
        self.transform = '%s, mirrored where RandomState([%d, %d]).rand(%d) < 0.5' % (
            getattr(source, 'transform', 'uint8 as stored'), seed, MIRROR_STREAM, source.num_images)

    def __getattr__(self, name):  # num_images, identity, shape, path, folder, ... of the source
        return getattr(self.source, name)

    def load(self, index):
        return self._flipped(index, self.source.load(index))

    def iterate(self, start=0):
        """uint8 [C, H, W] images from index `start`, record i flipped where flips[i]."""
        for index, image in enumerate(self.source.iterate(start), start):
            yield self._flipped(index, image)

    def _flipped(self, index, image):
        return np.ascontiguousarray(image[:, :, ::-1]) if self.flips[index] else image
