"""P&R (and realism, extras) of a given set of generated images or features against the reals."""
import os

import numpy as np

import precision_recall
from datasets.image_folder import ImageFolder
from dnnlib.output_files import atomic_output
from experiments import stylegan_realism
from features.files import load_features, save_feature_sets
from features.store import CachedImageFeatures
from metrics import extras


def check_counts(num_real, num_fake, cfg):
    """Each set needs more samples than the largest k (the k-th nearest *other* sample must exist)."""
    for flag, k in [('--nhood_sizes', max(cfg.nhood_sizes))] + ([('--prdc', cfg.extra_k)] if cfg.extra_k else []):
        if min(num_real, num_fake) <= k:
            raise ValueError('%s %d needs more than %d samples in each set; there are %d real and %d generated'
                             % (flag, k, k, num_real, num_fake))


def run(ctx, real_stream):
    """The evaluation of a given generated set by run_metric.py -> results entry (the reals are read from their
    start, not from `real_stream`)."""
    del real_stream
    return evaluate_fake_set(ctx.cfg, ctx.reals(), ctx.feature_net)


def evaluate_fake_set(cfg, reals, feature_net):
    """Evaluate cfg.fake_dir (images) or cfg.fake_features (array file) against `reals`.

    cfg: EasyDict with num_images (None = all reals), fake_dir / fake_features, nhood_sizes, convention,
        options, bootstrap, extra_k, ms_ssim, ms_ssim_filter_size, save_features, realism_score,
        show_n_images, feature_cache_dir (None = no cache), save_path, conventions, port_results (None or path).
    reals: FeatureArray or CachedImageFeatures. feature_net: callable -> the feature network.
    Returns the results dict written under 'evaluation' in results.json.
    """
    num_real = cfg.num_images or reals.num_images
    if num_real > reals.num_images:
        raise ValueError('--num_images %d is larger than the %d real samples; the reals would repeat, which '
                         'collapses k-NN radii (use --num_images %d or fewer)'
                         % (num_real, reals.num_images, reals.num_images))
    # Everything knowable before the features are computed is checked first.
    if cfg.fake_features:
        fakes, fake = None, load_features(cfg.fake_features, 'fake')
        num_fake = len(fake)
    else:
        fakes = ImageFolder(cfg.fake_dir)
        num_fake = fakes.num_images
        if cfg.ms_ssim:
            fakes.check_one_size('--ms_ssim')
    if cfg.num_images:
        num_fake = min(num_fake, cfg.num_images)
    check_counts(num_real, num_fake, cfg)
    if cfg.port_results:
        from metrics.conventions import check_port_lengths, read_port_results
        check_port_lengths(read_port_results(cfg.port_results), num_real, num_fake)
    real = reals.window(0, num_real)
    if fakes is not None:
        store = CachedImageFeatures(fakes, feature_net(), cfg.options, cfg.feature_cache_dir, desc='generated features')
        fake = store.window(0, fakes.num_images)
    fake = fake[:num_fake]
    state = precision_recall.knn_precision_recall_details(real, fake, cfg.nhood_sizes, cfg.convention.dtype,
                                                          cfg.options)
    out = {'num_real': len(real), 'num_fake': len(fake), 'nhood_sizes': list(cfg.nhood_sizes),
           'precision': state['precision'].tolist(), 'recall': state['recall'].tolist()}
    if 'resolution' in state:  # the distance arithmetic could not resolve the features (also warned on stderr)
        out['resolution'] = state['resolution']
    for k, p, r in zip(cfg.nhood_sizes, state['precision'], state['recall']):
        print('k=%d  Precision: %0.3f  Recall: %0.3f' % (k, p, r))
    if cfg.conventions:
        from experiments.conventions_report import run_conventions_report
        out['conventions'] = run_conventions_report(cfg, real, fake)
    if cfg.bootstrap:
        out['bootstrap'] = extras.official_bootstrap(state, cfg.bootstrap, cfg.nhood_sizes)
        print('\n'.join(extras.describe_bootstrap(out['bootstrap'])))
    if cfg.extra_k:
        out['extras'] = extras.manifold_extras(real, fake, cfg.extra_k, cfg.bootstrap, cfg.options)
        print('\n'.join(extras.describe(out['extras'])))
    if cfg.ms_ssim:
        from metrics.ms_ssim import ms_ssim_diversity
        images = np.stack([image.transpose(1, 2, 0) for image in fakes.iterate()])
        out['ms_ssim'] = ms_ssim_diversity(images, filter_size=cfg.ms_ssim_filter_size)
        print('MS-SSIM diversity: %.4f' % out['ms_ssim']['mean'])
    if cfg.save_features:
        save_feature_sets(os.path.join(cfg.save_path, 'features', 'evaluation.npz'), real=real, fake=fake)
    if cfg.realism_score:
        scores = stylegan_realism.realism_scores(real, fake, cfg.convention.dtype, cfg.options)
        count = min(cfg.show_n_images, len(scores))
        highest, lowest = stylegan_realism.extremes(scores, count)
        out['realism'] = {'scores_highest': scores[highest].tolist(), 'scores_lowest': scores[lowest].tolist(),
                          'score_mean': float(scores.mean())}
        with atomic_output(os.path.join(cfg.save_path, 'realism_scores.npy'), 'wb') as f:
            np.save(f, scores)
        if fakes is not None:
            result_dir = os.path.join(cfg.save_path, 'realism')
            out['realism']['grid'] = stylegan_realism.save_extremes(result_dir, scores, highest, lowest, fakes.load)
    return out
