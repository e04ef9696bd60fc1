"""Inception Score exactly as openai/improved-gan computes it, on TF2.

    python metrics/inception_score_official_tf.py FOLDER [--splits 10] [--batch_size 100] [--gpu 0]

Formula (improved-gan `get_inception_score`): p = softmax(pool_3 @ softmax/weights)
over all 1008 classes, no bias; the N images are cut into `splits` contiguous parts
[i*N//splits, (i+1)*N//splits); per part IS_i = exp(mean_j sum_c p_jc (log p_jc - log pbar_c)),
pbar the part's mean; the result is (mean, population std) of the IS_i, in float32.
Batching does not change the probabilities (the official code now feeds one image at a time).

Zero probabilities: the official code turns p = 0 into 0 * (-inf) = NaN and returns NaN.
Here a term with p_jc = 0 counts as 0 (its limit), and a warning says so; for every input
without exact zeros the result is the official one.
"""
import argparse
import os
import sys
import warnings

if __package__ in (None, ''):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from metrics.cli_options import add_inception_options, apply_gpu_choice, positive_int, run_cli  # noqa: E402


def inception_score_from_probabilities(preds, splits=10):
    """(mean, std) float32 of the split Inception Scores of class probabilities preds [N, C]."""
    preds = np.asarray(preds)
    if preds.ndim != 2 or len(preds) == 0:
        raise ValueError('probabilities must be a non-empty [N, classes] array, got shape %s' % (preds.shape,))
    if not np.all(np.isfinite(preds)) or (preds < 0).any():
        raise ValueError('probabilities must be finite and >= 0')
    if not 1 <= splits <= len(preds):
        raise ValueError('splits must be between 1 and the number of images (%d), got %d' % (len(preds), splits))
    if (preds == 0).any():
        warnings.warn('%d class probabilities are exactly 0; their terms count as 0 (the official code returns NaN)'
                      % int((preds == 0).sum()))
    n = len(preds)
    scores = []
    for i in range(splits):
        part = preds[(i * n // splits):((i + 1) * n // splits), :]
        marginal = np.expand_dims(np.mean(part, 0), 0)
        with np.errstate(divide='ignore', invalid='ignore'):
            kl = part * (np.log(part) - np.log(marginal))
        kl = np.where(part == 0, np.zeros_like(kl), kl)
        kl = np.mean(np.sum(kl, 1))
        scores.append(np.exp(kl))
    return np.mean(scores), np.std(scores)


def get_inception_score(images, splits=10, batch_size=100, inception=None, progress=True, total=None):
    """(mean, std) Inception Score of HxWx3 images with values 0..255 (list or iterable)."""
    from metrics.inception_graph import InceptionNet
    net = inception or InceptionNet()
    if total is None and hasattr(images, '__len__'):
        total = len(images)

    def checked():
        for image in images:
            check_image_range(image)
            yield image
    preds = net.run_all(checked(), want='probabilities', batch_size=batch_size, progress=progress, desc='IS',
                        total=total)
    return inception_score_from_probabilities(preds, splits)


def check_image_range(image):
    """The official assertion: values 0..255, not 0..1."""
    if np.max(image) <= 10 or np.min(image) < 0:
        raise ValueError('images must have values in 0..255 (max > 10, min >= 0)')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('folder', help='folder of PNG/JPEG images (sorted file order)')
    parser.add_argument('--splits', type=positive_int, default=10)
    add_inception_options(parser, batch_size=100)
    args = parser.parse_args(argv)
    apply_gpu_choice(args)
    from dnnlib.tf_logging import quiet_tensorflow
    quiet_tensorflow()
    from metrics.image_inputs import folder_images
    from metrics.inception_graph import InceptionNet
    def body():
        images, count = folder_images(args.folder)
        mean, std = get_inception_score(images, args.splits, args.batch_size, InceptionNet(args.inception),
                                        progress=not args.quiet, total=count)
        print('Inception Score: %s +- %s' % (mean, std))
        return 0
    return run_cli(body)


if __name__ == '__main__':
    sys.exit(main())
