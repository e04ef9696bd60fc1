"""`run_metric.py --protocol stylegan2_pr50k3`: the precision/recall column of the StyleGAN2 paper.

NVlabs/stylegan2 `metrics/precision_recall.py` as `metric_defaults.py` configures it (`pr50k3`):

| setting | pr50k3 | how this tool does it |
|---|---|---|
| samples | 50,000 reals and 50,000 fakes, k = 3 | the same (`--num_images` changes both, said in the output) |
| generator | `Gs` with `is_validation=True` (no truncation), `randomize_noise` left at its default (True) | the same |
| latents | `tf.random_normal` per minibatch of 8 | `numpy.random.RandomState(--random_seed).randn` per minibatch of 8: same distribution |
| images -> features | `convert_images_to_uint8`, then the VGG-16 of `vgg16.pkl` | the same |
| reals | the first 50,000 of a shuffled TFRecord reader (4 GB shuffle window) | the first 50,000 records in file order: same distribution |
| distances | float16 features, distances and radii (`official_fp16` convention), `<=` | the same arithmetic |
| batches | row and column batches of 10,000 (it passes row_batch_size as col_batch_size) | the same; results do not depend on them |

So the precision/recall arithmetic is reproduced exactly for given features; the generated and real samples are the
protocol's in distribution, not bit for bit (TF1's graph-seeded random stream and shuffle order cannot be replayed).
"""
import os

import numpy as np

import precision_recall
from features.extraction import generated_features
from features.files import save_feature_sets

NUM_IMAGES = 50000
NHOOD_SIZE = 3
ROW_BATCH_SIZE = COL_BATCH_SIZE = 10000
GENERATOR_KWARGS = dict(is_validation=True)


def run(ctx, real_stream):
    """pr50k3 of the generator against the reals -> results entry {'precision', 'recall', ...}."""
    cfg = ctx.cfg
    Gs, feature_net = ctx.generator(), ctx.feature_net()
    note = ('' if cfg.num_images == NUM_IMAGES else
            ' (the protocol uses %d; this is not the paper\'s setting)' % NUM_IMAGES)
    print('StyleGAN2 pr50k3: %d real and %d generated images%s, k=%d, generator kwargs %s, %s distances'
          % (cfg.num_images, cfg.num_images, note, NHOOD_SIZE, GENERATOR_KWARGS, cfg.convention.dtype))
    real_start, real_features = real_stream.take(cfg.num_images)
    fake_features, _ = generated_features(Gs, feature_net, np.random.RandomState(cfg.random_seed), cfg.num_images,
                                          GENERATOR_KWARGS, cfg.options)
    state = precision_recall.knn_precision_recall_details(real_features, fake_features, [NHOOD_SIZE],
                                                          cfg.convention.dtype, cfg.options)
    if cfg.save_features:
        save_feature_sets(os.path.join(cfg.save_path, 'features', 'pr50k3.npz'), real=real_features, fake=fake_features)
    precision, recall = float(state['precision'][0]), float(state['recall'][0])
    print('pr50k3_precision %.4f  pr50k3_recall %.4f' % (precision, recall))
    return {'precision': precision, 'recall': recall, 'num_images': cfg.num_images, 'nhood_size': NHOOD_SIZE,
            **({'resolution': state['resolution']} if 'resolution' in state else {}),
            'generator_kwargs': dict(GENERATOR_KWARGS), 'convention': cfg.convention.name,
            'row_batch_size': cfg.options.row_batch_size, 'col_batch_size': cfg.options.col_batch_size,
            'real_window_start': int(real_start), 'latents': 'numpy RandomState(%d).randn per minibatch of %d'
            % (cfg.random_seed, cfg.options.minibatch_size)}
