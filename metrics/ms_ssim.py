"""MS-SSIM diversity of a generated set (Odena et al. 2017): mean MS-SSIM over random image pairs.

    python metrics/ms_ssim.py FOLDER [--num_pairs 1000] [--seed 0] [--filter_size 11]

Uses TensorFlow's built-in `tf.image.ssim_multiscale` (5 scales, default power factors,
max_val 255). Lower means more diverse. Images: uint8 RGB of one size; MS-SSIM needs
min(H, W) > (filter_size - 1) * 16, so small images need a smaller --filter_size.
"""
import argparse
import os
import sys

if __package__ in (None, ''):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if __name__ == '__main__':  # the command line prints no TensorFlow start-up lines
    from dnnlib.tf_logging import quiet_tensorflow
    quiet_tensorflow()

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

NUM_SCALES = 5


def random_pairs(num_images, num_pairs, seed=0):
    """[P, 2] int indices of distinct images (i != j), P = min(num_pairs, all unordered pairs)."""
    if num_images < 2:
        raise ValueError('MS-SSIM diversity needs at least 2 images, got %d' % num_images)
    total = num_images * (num_images - 1) // 2
    rng = np.random.RandomState(seed)
    if num_pairs >= total:
        i, j = np.triu_indices(num_images, k=1)
        return np.stack([i, j], axis=1)
    first = rng.randint(0, num_images, size=num_pairs)
    second = (first + rng.randint(1, num_images, size=num_pairs)) % num_images
    return np.stack([first, second], axis=1)


def check_size(height, width, filter_size):
    smallest = (filter_size - 1) * 2 ** (NUM_SCALES - 1) + 1
    if min(height, width) < smallest:
        largest_filter = (min(height, width) - 1) // 2 ** (NUM_SCALES - 1) + 1
        raise ValueError('images of %dx%d are too small for MS-SSIM with filter_size %d (needs >= %d pixels); '
                         'use filter_size <= %d' % (height, width, filter_size, smallest, largest_filter))


def ms_ssim_pairs(images_nhwc, pairs, filter_size=11, batch_size=64):
    """MS-SSIM [P] float32 of the image pairs; images uint8/float [N, H, W, 3] with values 0..255."""
    images = np.asarray(images_nhwc)
    if images.ndim != 4 or images.shape[3] != 3:
        raise ValueError('images must be [N, H, W, 3], got %s' % (images.shape,))
    check_size(images.shape[1], images.shape[2], filter_size)
    scores = []
    for begin in range(0, len(pairs), batch_size):
        chunk = pairs[begin:begin + batch_size]
        a = tf.constant(images[chunk[:, 0]], tf.float32)
        b = tf.constant(images[chunk[:, 1]], tf.float32)
        scores.append(tf.image.ssim_multiscale(a, b, max_val=255.0, filter_size=filter_size).numpy())
    return np.concatenate(scores)


def ms_ssim_diversity(images_nhwc, num_pairs=1000, seed=0, filter_size=11):
    """{'mean', 'std', 'num_pairs'} of MS-SSIM over random pairs of distinct images."""
    pairs = random_pairs(len(images_nhwc), num_pairs, seed)
    scores = ms_ssim_pairs(images_nhwc, pairs, filter_size)
    return {'mean': float(scores.mean()), 'std': float(scores.std()), 'num_pairs': int(len(scores))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('folder', help='folder of generated PNG/JPEG images (one size)')
    parser.add_argument('--num_pairs', type=int, default=1000)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--filter_size', type=int, default=11)
    args = parser.parse_args(argv)
    from datasets.image_folder import ImageFolder
    try:
        source = ImageFolder(args.folder)
        source.check_one_size('MS-SSIM')
        images = np.stack([image.transpose(1, 2, 0) for image in source.iterate()])
        result = ms_ssim_diversity(images, args.num_pairs, args.seed, args.filter_size)
    except ValueError as e:
        print('error: %s' % e, file=sys.stderr)
        return 2
    print('MS-SSIM: %.6f +- %.6f over %d pairs' % (result['mean'], result['std'], result['num_pairs']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
