"""--repeats K: the generated side of an experiment drawn again, to say how much a number moves with the latents."""
import numpy as np
import tensorflow as tf

import precision_recall
from features.extraction import generated_features


def add_repeats(settings, entries, Gs, feature_net):
    """Draw the generated side settings.repeats - 1 more times and add each entry's 'repeats'.

    entries: [(results entry, its real features [N, d], generator kwargs, labels or None)], in the order the
    experiment drew them. Repeat i takes latents from RandomState(random_seed + i) (one stream over the entries,
    as the experiment's own) and the generator's noise from tf.random.set_seed(random_seed + i), so a rerun gives
    the same repeats; the reals stay. Adds entry['repeats'] = {'seeds', 'nhood_size', 'precision': {'values' [K]
    (repeat 0 = the entry's own value), 'mean', 'std' (ddof 1)}, 'recall': ...} for the first k.
    """
    k = settings.nhood_sizes[0]
    values = [{metric: [float(np.ravel(entry[metric])[0])] for metric in ('precision', 'recall')}
              for entry, _, _, _ in entries]
    for i in range(1, settings.repeats):
        print('Repeat %d of %d (latents RandomState(%d))' % (i + 1, settings.repeats, settings.random_seed + i))
        rnd = np.random.RandomState(settings.random_seed + i)
        tf.random.set_seed(settings.random_seed + i)
        for (entry, real, kwargs, labels), got in zip(entries, values):
            fake, _ = generated_features(Gs, feature_net, rnd, len(real), kwargs, settings.options, labels=labels)
            state = precision_recall.knn_precision_recall_details(real, fake, [k], settings.convention,
                                                                  settings.options, verbose=False)
            for metric in ('precision', 'recall'):
                got[metric].append(float(state[metric][0]))
    for (entry, _, _, _), got in zip(entries, values):
        entry['repeats'] = {'seeds': [settings.random_seed + i for i in range(settings.repeats)], 'nhood_size': k}
        for metric, series in got.items():
            entry['repeats'][metric] = {'values': series, 'mean': float(np.mean(series)),
                                        'std': float(np.std(series, ddof=1))}
        print('over %d repeats: precision %.3f +- %.3f, recall %.3f +- %.3f'
              % (settings.repeats, entry['repeats']['precision']['mean'], entry['repeats']['precision']['std'],
                 entry['repeats']['recall']['mean'], entry['repeats']['recall']['std']))
