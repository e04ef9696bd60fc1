"""`run_metric.py --protocol stylegan2_pr50k3`: the precision/recall column of the StyleGAN2 paper.

NVlabs/stylegan2 `metrics/precision_recall.py` as `metric_defaults.py` configures it (`pr50k3`), and as
`run_metrics.py` runs it:

| setting | pr50k3 | how this tool does it |
|---|---|---|
| samples | 50,000 reals and 50,000 fakes, k = 3 | the same (`--num_images` changes both, said in the output) |
| generator | `Gs` with `is_validation=True` (no truncation), `randomize_noise` left at its default (True) | the same |
| latents | `tf.random_normal` per minibatch of 8 per GPU | `numpy.random.RandomState(--random_seed).randn` per minibatch of 8 per device: same distribution |
| images -> features | `convert_images_to_uint8`, then the VGG-16 of `vgg16.pkl` | the same |
| reals | the first 50,000 records of the TFRecords in file order (`shuffle_mb=0`) | the same records in the same order |
| distances | float16 features, distances and radii (`official_fp16` convention), `<=` | the same arithmetic |
| batches | row and column batches of 10,000 (it passes row_batch_size as col_batch_size) | the same; results do not depend on them |

So the reals and the precision/recall arithmetic are exactly the protocol's; the generated samples are the
protocol's in distribution, not bit for bit (TF1's graph-seeded random stream cannot be replayed).
"""
import os

import numpy as np

from experiments.rows import Experiment, Flag, Protocol

NUM_IMAGES = 50000
NHOOD_SIZE = 3
ROW_BATCH_SIZE = COL_BATCH_SIZE = 10000
MINIBATCH_PER_DEVICE = 8
GENERATOR_KWARGS = dict(is_validation=True)


def _stylegan2_ffhq():
    from networks.sources import STYLEGAN2_FFHQ_SOURCES
    return STYLEGAN2_FFHQ_SOURCES


LABEL_STREAM = 2  # second word of the labels' seed (the latents use RandomState(seed), the mirror flips stream 1)


def check(settings):
    if settings.mirror_augment and settings.real_features:
        raise ValueError('--mirror_augment flips real images; it cannot apply to --real_features')


PROTOCOL = Protocol(
    'stylegan2_pr50k3',
    "the StyleGAN2 paper's P&R of one generator (50k reals and fakes, k=3, is_validation=True, float16 distances, "
    '8 images per device per step, default network stylegan2-ffhq-config-f.pkl); fixes its own settings',
    fixed=(('nhood_sizes', (NHOOD_SIZE,)), ('convention', 'nvidia_fp16'), ('dtype', None),
           ('minibatch_size', MINIBATCH_PER_DEVICE), ('truncation_sweep', False), ('realism_score', False),
           ('fake_dir', None), ('fake_features', None), ('prdc', 0), ('bootstrap', 0)),
    options=(('row_batch_size', ROW_BATCH_SIZE), ('col_batch_size', COL_BATCH_SIZE)),
    minibatch_per_device=True,
    network=_stylegan2_ffhq(),
    experiments=(Experiment(
        'pr50k3', 'experiments.stylegan2_pr50k3:run', lambda s: s.protocol == 'stylegan2_pr50k3',
        '--protocol stylegan2_pr50k3', needs=('reals', 'generator', 'feature_network'), check=check,
        reads=('repeats',), flags=(
            Flag('mirror_augment', bool,
                 help='pr50k3: flip each real image left-right with probability 1/2, as NVIDIA\'s run_metrics.py '
                      '--mirror-augment=true (its documented FFHQ evaluation, matching training with mirroring); '
                      'seeded by --random_seed'),)),))


def conditional_labels(Gs, settings):
    """None for an unconditional generator; else draw(count) -> labels [count, label_size] drawn uniformly from
    the rows of the dataset's *.labels file, as NVIDIA's dataset.get_random_labels_tf (seeded here)."""
    label_size = Gs.input_shapes[1][1] if len(Gs.input_shapes) > 1 else 0
    if not label_size:
        return None
    from datasets.tfrecords import dataset_labels
    labels = dataset_labels(settings.data_dir) if settings.data_dir else None
    if labels is None or labels.shape[1] != label_size:
        raise ValueError('the generator is conditional (label_size %d): pr50k3 draws its labels from the dataset\'s '
                         '*.labels file (as NVIDIA\'s dataset_tool writes it) in --data_dir, %s'
                         % (label_size, 'which has none' if labels is None else 'which has %d label columns'
                            % labels.shape[1]))
    rnd = np.random.RandomState([settings.random_seed, LABEL_STREAM])
    print('Labels drawn at random from the %d rows of the dataset\'s label file' % len(labels))
    return lambda count: labels[rnd.randint(len(labels), size=count)]


def run(ctx, real_stream):
    """pr50k3 of the generator against the reals -> results entry {'precision', 'recall', ...}."""
    import precision_recall
    from features.extraction import generated_features
    from features.files import save_feature_sets
    settings = ctx.settings
    Gs, feature_net = ctx.generator(), ctx.feature_net()
    note = ('' if settings.num_images == NUM_IMAGES else
            ' (the protocol uses %d; this is not the paper\'s setting)' % NUM_IMAGES)
    print('StyleGAN2 pr50k3: %d real and %d generated images%s, k=%d, generator kwargs %s, %s distances, '
          '%d images per step' % (settings.num_images, settings.num_images, note, NHOOD_SIZE, GENERATOR_KWARGS,
                                  settings.convention.dtype, settings.options.minibatch_size))
    labels = conditional_labels(Gs, settings)  # a conditional generator without labels fails before any work
    real_start, real_features = real_stream.take(settings.num_images)
    fake_features, _ = generated_features(Gs, feature_net, np.random.RandomState(settings.random_seed),
                                          settings.num_images, GENERATOR_KWARGS, settings.options, labels=labels)
    state = precision_recall.knn_precision_recall_details(real_features, fake_features, [NHOOD_SIZE],
                                                          settings.convention, settings.options)
    if settings.save_features:
        save_feature_sets(os.path.join(settings.save_path, 'features', 'pr50k3.npz'), real=real_features,
                          fake=fake_features)
    precision, recall = float(state['precision'][0]), float(state['recall'][0])
    entry = {'precision': precision, 'recall': recall}
    if settings.repeats > 1:
        from experiments.repeats import add_repeats
        add_repeats(settings, [(entry, real_features, GENERATOR_KWARGS, labels)], Gs, feature_net)
    if 'overflow' in state:
        print('WARNING: %s' % state['overflow']['message'])
    print('pr50k3_precision %.4f  pr50k3_recall %.4f' % (precision, recall))
    return {**entry, 'num_images': settings.num_images, 'nhood_size': NHOOD_SIZE,
            **{problem: state[problem] for problem in ('resolution', 'overflow') if problem in state},
            'generator_kwargs': dict(GENERATOR_KWARGS), 'convention': settings.convention.name,
            'row_batch_size': settings.options.row_batch_size, 'col_batch_size': settings.options.col_batch_size,
            'mirror_augment': settings.mirror_augment, 'real_window_start': int(real_start),
            'latents': 'numpy RandomState(%d).randn per minibatch of %d'
            % (settings.random_seed, settings.options.minibatch_size)}
