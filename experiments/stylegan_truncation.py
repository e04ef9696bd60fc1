"""Truncation sweep (paper Fig. 4): precision and recall of StyleGAN for psi in 1.0, 0.7, 0.3."""
import time

import numpy as np

import precision_recall
from experiments import extra_metrics
from experiments.feature_extraction import generated_features


def run_truncation_sweep(config, real_stream, Gs, feature_net, save_features=None):
    """Rows [psi, precision, recall] (float32) as the official compute_stylegan_truncation, plus details.

    config: num_images, minibatch_size, truncations, num_gpus, random_seed, nhood_sizes, dtype, progress,
        bootstrap (resamples, 0 = none), extra_k (k of density/coverage/symmetric metrics, 0 = none).
    real_stream: RealStream; each psi takes the next num_images real features.
    save_features: None or callable(psi, ref, eval) to keep the features used.
    """
    print('Running StyleGAN truncation sweep...')
    rnd = np.random.RandomState(config.random_seed)  # one stream for all psi, as the official code
    rows, details = [], []
    for psi in config.truncations:
        print('Truncation %g' % psi)
        start = time.time()
        real_start, ref_features = real_stream.take(config.num_images)
        eval_features, _ = generated_features(Gs, feature_net, rnd, config.num_images, psi, config.minibatch_size,
                                              config.num_gpus, progress=config.progress)
        state = precision_recall.knn_precision_recall_details(
            ref_features, eval_features, nhood_sizes=config.nhood_sizes, num_gpus=config.num_gpus,
            dtype=config.dtype, progress=config.progress)
        rows.append([psi, state['precision'][0], state['recall'][0]])
        row = {'truncation_psi': psi, 'precision': state['precision'].tolist(), 'recall': state['recall'].tolist(),
               'nhood_sizes': list(config.nhood_sizes), 'real_window_start': int(real_start),
               'num_images': config.num_images}
        if config.bootstrap:
            row['bootstrap'] = extra_metrics.official_bootstrap(state, config.bootstrap, config.nhood_sizes)
            print('\n'.join(extra_metrics.describe_bootstrap(row['bootstrap'])))
        if config.extra_k:
            row['extras'] = extra_metrics.manifold_extras(ref_features, eval_features, config.extra_k,
                                                          config.bootstrap, config.num_gpus, config.progress)
            print('\n'.join(extra_metrics.describe(row['extras'])))
        row['seconds'] = time.time() - start
        details.append(row)
        if save_features is not None:
            save_features(psi, ref_features, eval_features)
        print('Precision: %0.3f' % state['precision'][0])
        print('Recall: %0.3f' % state['recall'][0])
        print('Iteration time: %gs\n' % row['seconds'])
    return np.asarray(rows, np.float32), details
