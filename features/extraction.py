"""Image -> feature-network features, for real image sources and for a generator."""
import numpy as np
from tqdm.auto import tqdm

import dnnlib.tflib as tflib
from datasets.batching import equal_shape_batches
from metrics.options import DEFAULT

TRUNCATION_CUTOFF = 18  # the official experiments truncate the first 18 style inputs (all of FFHQ-1024's)


def truncated(psi):
    """Generator kwargs of the official experiments for truncation psi: psi on the first 18 layers, given explicitly
    (a StyleGAN2 G_main's own default, psi 0.5 on every layer, is never used)."""
    return dict(truncation_psi=psi, truncation_cutoff=TRUNCATION_CUTOFF)


def features_of_images(feature_net, images, count, options=DEFAULT, desc='features'):
    """Features [count, D] float32 of the first `count` uint8 [C, H, W] images of the iterator `images`.

    Consecutive images of equal size are batched by `options.minibatch_size` (the network resizes inside).
    """
    out = np.zeros([count, feature_net.output_shape[1]], np.float32)
    filled = 0
    with tqdm(total=count, desc=desc, disable=not options.progress, unit='img') as bar:
        for batch in equal_shape_batches(images, options.minibatch_size, limit=count):
            out[filled:filled + len(batch)] = feature_net.run(batch, num_gpus=options.num_gpus, assume_frozen=True)
            filled += len(batch)
            bar.update(len(batch))
    if filled != count:
        raise ValueError('expected %d images, the source gave %d' % (count, filled))
    return out


def generated_features(Gs, feature_net, rnd, num_images, gen_kwargs, options=DEFAULT, desc='generating',
                       labels=None):
    """(features [num_images, D] float32, latents [num_images, latent_size] float32) as the official experiments.

    Latents come from `rnd.randn` per minibatch (float64, fed as float32); images are
    Gs.run(..., randomize_noise=True, **gen_kwargs) converted to uint8 NCHW, in minibatches of
    options.minibatch_size. gen_kwargs: e.g. truncated(psi), or dict(is_validation=True) (StyleGAN2's metrics).
    labels: None (the official experiments: no labels, zeros for a conditional generator) or
    labels(count) -> [count, label_size], called once per minibatch after its latents are drawn.
    """
    fmt = dict(func=tflib.convert_images_to_uint8)
    features = np.zeros([num_images, feature_net.output_shape[1]], np.float32)
    latents = np.zeros([num_images, Gs.input_shape[1]], np.float32)
    minibatch_size = options.minibatch_size
    for begin in tqdm(range(0, num_images, minibatch_size), desc=desc, disable=not options.progress, unit='batch'):
        end = min(begin + minibatch_size, num_images)
        latent_batch = rnd.randn(end - begin, *Gs.input_shape[1:])
        label_batch = None if labels is None else labels(end - begin)
        images = Gs.run(latent_batch, label_batch, randomize_noise=True, output_transform=fmt,
                        num_gpus=options.num_gpus, **gen_kwargs)
        features[begin:end] = feature_net.run(images, num_gpus=options.num_gpus, assume_frozen=True)
        latents[begin:end] = latent_batch
    return features, latents


def generate_images(Gs, latents, gen_kwargs):
    """uint8 [N, 3, R, R] images of the given latents (fresh random noise, as the official realism code)."""
    fmt = dict(func=tflib.convert_images_to_uint8)
    images = Gs.run(latents, None, randomize_noise=True, output_transform=fmt, **gen_kwargs)
    return np.clip(images, 0, 255).astype(np.uint8)
