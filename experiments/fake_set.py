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


def check_counts(num_real, num_fake, settings):
    """Each set needs more samples than the largest k (the k-th nearest *other* sample must exist)."""
    checks = [('--nhood_sizes', max(settings.nhood_sizes))] + ([('--prdc', settings.prdc)] if settings.prdc else [])
    for flag, k in checks:
        if min(num_real, num_fake) <= k:
            raise ValueError('%s %d needs more than %d samples in each set; there are %d real and %d generated'
                             % (flag, k, k, num_real, num_fake))


def run(ctx, real_stream):
    """The evaluation of a given generated set by run_metric.py -> results entry (the reals are read from their
    start, not from `real_stream`)."""
    del real_stream
    return evaluate_fake_set(ctx.settings, ctx.reals(), ctx.feature_net)


def evaluate_fake_set(settings, reals, feature_net):
    """Evaluate settings.fake_dir (images) or settings.fake_features (array file) against `reals`.

    settings: experiments.settings Settings; reads num_images (None = all reals), fake_dir / fake_features,
        nhood_sizes, convention, options, bootstrap, prdc, ms_ssim, ms_ssim_filter_size, save_features, realism_score,
        show_n_images, feature_cache_dir (None = no cache), save_path, conventions, port_results (None or path).
    reals: FeatureArray or CachedImageFeatures. feature_net: callable -> the feature network.
    Returns the results dict written under 'evaluation' in results.json.
    """
    num_real = settings.num_images or reals.num_images
    if num_real > reals.num_images:
        raise ValueError('--num_images %d is larger than the %d real samples; the reals would repeat, which '
                         'collapses k-NN radii (use --num_images %d or fewer)'
                         % (num_real, reals.num_images, reals.num_images))
    # Everything knowable before the features are computed is checked first.
    if settings.fake_features:
        fakes, fake = None, load_features(settings.fake_features, 'fake')
        num_fake = len(fake)
    else:
        fakes = ImageFolder(settings.fake_dir)
        num_fake = fakes.num_images
        if settings.ms_ssim:
            fakes.check_one_size('--ms_ssim')
    if settings.num_images:
        num_fake = min(num_fake, settings.num_images)
    check_counts(num_real, num_fake, settings)
    if settings.port_results:
        from metrics.conventions import check_port_lengths, read_port_results
        check_port_lengths(read_port_results(settings.port_results), num_real, num_fake)
    real = reals.window(0, num_real)
    if fakes is not None:
        store = CachedImageFeatures(fakes, feature_net(), settings.options, settings.feature_cache_dir,
                                    desc='generated features')
        fake = store.window(0, fakes.num_images)
    fake = fake[:num_fake]
    state = precision_recall.knn_precision_recall_details(real, fake, settings.nhood_sizes, settings.convention,
                                                          settings.options)
    out = {'num_real': len(real), 'num_fake': len(fake), 'nhood_sizes': list(settings.nhood_sizes),
           'precision': state['precision'].tolist(), 'recall': state['recall'].tolist()}
    if 'resolution' in state:  # the distance arithmetic could not resolve the features (also warned on stderr)
        out['resolution'] = state['resolution']
    for k, p, r in zip(settings.nhood_sizes, state['precision'], state['recall']):
        print('k=%d  Precision: %0.3f  Recall: %0.3f' % (k, p, r))
    if settings.conventions:
        from experiments.conventions_report import run_conventions_report
        out['conventions'] = run_conventions_report(settings, real, fake)
    if settings.bootstrap:
        out['bootstrap'] = extras.official_bootstrap(state, settings.bootstrap, settings.nhood_sizes)
        print('\n'.join(extras.describe_bootstrap(out['bootstrap'])))
    if settings.prdc:
        out['extras'] = extras.manifold_extras(real, fake, settings.prdc, settings.bootstrap, settings.options)
        print('\n'.join(extras.describe(out['extras'])))
    if settings.ms_ssim:
        from metrics.ms_ssim import ms_ssim_diversity
        images = np.stack([image.transpose(1, 2, 0) for image in fakes.iterate()])
        out['ms_ssim'] = ms_ssim_diversity(images, filter_size=settings.ms_ssim_filter_size)
        print('MS-SSIM diversity: %.4f' % out['ms_ssim']['mean'])
    if settings.save_features:
        save_feature_sets(os.path.join(settings.save_path, 'features', 'evaluation.npz'), real=real, fake=fake)
    if settings.realism_score:
        scores = stylegan_realism.realism_scores(real, fake, settings.convention, settings.options)
        count = min(settings.show_n_images, len(scores))
        highest, lowest = stylegan_realism.extremes(scores, count)
        out['realism'] = {'scores_highest': scores[highest].tolist(), 'scores_lowest': scores[lowest].tolist(),
                          'score_mean': float(scores.mean())}
        with atomic_output(os.path.join(settings.save_path, 'realism_scores.npy'), 'wb') as f:
            np.save(f, scores)
        if fakes is not None:
            result_dir = os.path.join(settings.save_path, 'realism')
            out['realism']['grid'] = stylegan_realism.save_extremes(result_dir, scores, highest, lowest, fakes.load)
    return out
