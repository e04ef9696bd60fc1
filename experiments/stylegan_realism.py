"""Realism score (paper Fig. 11): score generated images against the real manifold, keep the extremes."""
import os

import numpy as np

import precision_recall
from experiments.reporting import save_png, save_realism_grid
from features.extraction import generate_images, generated_features, truncated
from metrics import convention as conventions
from metrics.options import DEFAULT


REALISM_TRUNCATION = 1.0  # psi of the scored generated images (official)


def realism_scores(real_features, fake_features, convention='official', options=DEFAULT):
    """Realism [M] float32 of fake features against real features, official settings (k=3, clamp 50%).

    convention: a metrics.convention.Convention (or name or dtype) whose distances are used (its rule does not enter
    the score). Block sizes are the official ManifoldEstimator defaults; options gives devices and progress.
    """
    block = precision_recall.DistanceBlock.for_convention(conventions.convention(convention), real_features.shape[1],
                                                          options)
    manifold = precision_recall.ManifoldEstimator(block, real_features, clamp_to_percentile=50,
                                                  progress=options.progress)
    _, scores = manifold.evaluate(fake_features, return_realism=True)
    return scores


def extremes(scores, count):
    """(highest first, lowest first) index arrays, as the official argsort selection."""
    order = scores.argsort()
    return order[-count:][::-1], order[:count]


def save_extremes(result_dir, scores, highest, lowest, image_of):
    """Official PNG names: high_realism_<score %f>_<i>.png / low_realism_..., plus a grid; returns the grid path."""
    high_images, low_images = [], []
    for i, (hi, lo) in enumerate(zip(highest, lowest)):
        low_image, high_image = image_of(lo), image_of(hi)
        save_png(os.path.join(result_dir, 'low_realism_%f_%i.png' % (scores[lo], i)), low_image)
        save_png(os.path.join(result_dir, 'high_realism_%f_%i.png' % (scores[hi], i)), high_image)
        high_images.append(high_image)
        low_images.append(low_image)
    return save_realism_grid(os.path.join(result_dir, 'realism_grid.png'), high_images, low_images,
                             scores[highest], scores[lowest])


def run(ctx, real_stream):
    """The realism experiment of run_metric.py (images under stylegan_realism/) -> results entry."""
    return run_stylegan_realism(ctx.settings, real_stream, ctx.generator(), ctx.feature_net())


def run_stylegan_realism(settings, real_stream, Gs, feature_net):
    """The official compute_stylegan_realism; returns a summary dict."""
    print('Running StyleGAN realism...')
    rnd = np.random.RandomState(settings.realism_seed)
    real_start, real_features = real_stream.take(settings.num_images)
    print('Generating images...')
    fake_features, latents = generated_features(Gs, feature_net, rnd, settings.num_gen_images,
                                                truncated(REALISM_TRUNCATION), settings.options)
    scores = realism_scores(real_features, fake_features, settings.convention, settings.options)
    highest, lowest = extremes(scores, settings.show_n_images)
    result_dir = os.path.join(settings.save_path, 'stylegan_realism', 'truncation%0.2f' % REALISM_TRUNCATION)
    print('Saving %i low and high quality samples...' % len(highest))
    grid = save_extremes(result_dir, scores, highest, lowest,
                         lambda idx: generate_images(Gs, latents[idx][None], truncated(REALISM_TRUNCATION))[0])
    print('Done evaluating StyleGAN realism.\n')
    return {'result_dir': result_dir, 'grid': grid, 'real_window_start': int(real_start),
            'num_images': settings.num_images, 'num_gen_images': settings.num_gen_images,
            'truncation_psi': REALISM_TRUNCATION, 'scores_highest': scores[highest].tolist(),
            'scores_lowest': scores[lowest].tolist(), 'score_mean': float(scores.mean()),
            'note': 'saved images are regenerated from the scored latents with fresh noise, as the official code'}
