"""Truncation sweep (paper Fig. 4): precision and recall of StyleGAN for psi in 1.0, 0.7, 0.3."""
import os
import time

import numpy as np

import precision_recall
from experiments import reporting
from features.extraction import TRUNCATION_CUTOFF, generated_features, truncated
from experiments.repeats import add_repeats
from features.files import save_feature_sets
from metrics import extras
from metrics.convention import OFFICIAL


def run(ctx, real_stream):
    """The sweep of run_metric.py: table, official text file, plot, features (--save_features); -> results entry.

    ctx: RunContext; real_stream: RealStream shared with the realism experiment (official order).
    """
    settings = ctx.settings
    reals = []  # each psi's real window, for --repeats

    def keep(psi, real, fake):
        if settings.repeats > 1:
            reals.append(real)
        if settings.save_features:
            save_feature_sets(os.path.join(settings.save_path, 'features', 'truncation_%0.2f.npz' % psi), real=real,
                              fake=fake)
    Gs, feature_net = ctx.generator(), ctx.feature_net()
    rows, details = run_truncation_sweep(settings, real_stream, Gs, feature_net, keep)
    if settings.repeats > 1:
        entries = [(row, real, truncated(row['truncation_psi']), None) for row, real in zip(details, reals)]
        add_repeats(settings, entries, Gs, feature_net)
    reporting.save_truncation_txt(os.path.join(settings.save_path, 'stylegan_truncation.txt'), rows)
    # The table and plot show the first k (as the official text file); results.json has every k.
    intervals = [d['bootstrap']['k=%d' % settings.nhood_sizes[0]] for d in details] if settings.bootstrap else None
    reporting.save_truncation_plot(os.path.join(settings.save_path, 'truncation_sweep.png'), rows, intervals)
    official_setting = (settings.data_dir and not settings.network and not settings.feature_network
                        and settings.num_images == 50000
                        and settings.nhood_sizes == (3,) and settings.convention == OFFICIAL)
    print(reporting.summary_table(rows, intervals, reporting.OFFICIAL_REFERENCE if official_setting else None))
    return details


def run_truncation_sweep(settings, real_stream, Gs, feature_net, save_features=None):
    """Rows [psi, precision, recall] (float32) as the official compute_stylegan_truncation, plus details.

    settings: num_images, truncations, random_seed, nhood_sizes, convention, options, bootstrap (resamples,
        0 = none), extra_k (k of density/coverage/symmetric metrics, 0 = none).
    real_stream: RealStream; each psi takes the next num_images real features.
    save_features: None or callable(psi, real, fake) to keep the features used.
    """
    print('Running StyleGAN truncation sweep...')
    if Gs.build_func_name == 'G_main':
        layers = Gs.components.synthesis.input_shape[1]
        print('StyleGAN2 generator (G_main): each psi is given explicitly, on %d of its %d style layers '
              '(truncation_cutoff=%d); G_main\'s own default truncation (psi 0.5 on every layer) is not used'
              % (min(TRUNCATION_CUTOFF, layers), layers, TRUNCATION_CUTOFF))
    rnd = np.random.RandomState(settings.random_seed)  # one stream for all psi, as the official code
    rows, details = [], []
    for psi in settings.truncations:
        print('Truncation %g' % psi)
        start = time.time()
        real_start, real_features = real_stream.take(settings.num_images)
        fake_features, _ = generated_features(Gs, feature_net, rnd, settings.num_images, truncated(psi),
                                              settings.options)
        state = precision_recall.knn_precision_recall_details(real_features, fake_features, settings.nhood_sizes,
                                                              settings.convention, settings.options)
        rows.append([psi, state['precision'][0], state['recall'][0]])
        row = {'truncation_psi': psi, 'precision': state['precision'].tolist(), 'recall': state['recall'].tolist(),
               'nhood_sizes': list(settings.nhood_sizes), 'real_window_start': int(real_start),
               'generator_kwargs': truncated(psi),
               'num_images': settings.num_images}
        if 'resolution' in state:  # the distance arithmetic could not resolve the features (also warned on stderr)
            row['resolution'] = state['resolution']
        if settings.bootstrap:
            row['bootstrap'] = extras.official_bootstrap(state, settings.bootstrap, settings.nhood_sizes)
            print('\n'.join(extras.describe_bootstrap(row['bootstrap'])))
        if settings.prdc:
            row['extras'] = extras.manifold_extras(real_features, fake_features, settings.prdc, settings.bootstrap,
                                                   settings.options)
            print('\n'.join(extras.describe(row['extras'])))
        row['seconds'] = time.time() - start
        details.append(row)
        if save_features is not None:
            save_features(psi, real_features, fake_features)
        print('Precision: %0.3f' % state['precision'][0])
        print('Recall: %0.3f' % state['recall'][0])
        print('Iteration time: %gs\n' % row['seconds'])
    return np.asarray(rows, np.float32), details
