"""StyleGAN (v1) generator rebuilt in TF2: G_mapping, G_synthesis and G_style.

Follows NVlabs/stylegan `training/networks_stylegan.py` (the build functions
named in the official pickles) with the same variable names, shapes, creation
order and arithmetic, for inference only (no training-time style mixing or
dlatent_avg update). Inputs and outputs are NCHW like the official networks;
activations are NHWC inside.

Not reproducible bit-for-bit: with `randomize_noise=True` (what the P&R sweep
uses) the per-layer noise is drawn from TF2's random stream, not from TF1's
graph-seeded `tf.random_normal` stream, so individual images differ from the
official run while their distribution is the same. With `randomize_noise=False`
the stored noise inputs are used and outputs match the official generator to
float round-off.
"""
import numpy as np
import tensorflow as tf

from networks import layers
from networks.base import BuiltNetwork, TruncatingGenerator, take_kwargs

MAPPING_DEFAULTS = dict(latent_size=512, label_size=0, dlatent_size=512, dlatent_broadcast=None, mapping_layers=8,
                        mapping_fmaps=512, mapping_lrmul=0.01, mapping_nonlinearity='lrelu', use_wscale=True,
                        normalize_latents=True, dtype='float32')
SYNTHESIS_DEFAULTS = dict(dlatent_size=512, num_channels=3, resolution=1024, fmap_base=8192, fmap_decay=1.0,
                          fmap_max=512, use_styles=True, const_input_layer=True, use_noise=True, randomize_noise=True,
                          nonlinearity='lrelu', use_wscale=True, use_pixel_norm=False, use_instance_norm=True,
                          dtype='float32', fused_scale='auto', blur_filter=[1, 2, 1], structure='auto',
                          is_template_graph=False, force_clean_graph=False)
STYLE_DEFAULTS = dict(truncation_psi=0.7, truncation_cutoff=8, truncation_psi_val=None, truncation_cutoff_val=None,
                      dlatent_avg_beta=0.995, style_mixing_prob=0.9, is_training=False, is_validation=False,
                      is_template_graph=False)
ALL_GENERATOR_KWARGS = set(MAPPING_DEFAULTS) | set(SYNTHESIS_DEFAULTS) | set(STYLE_DEFAULTS)
ACTIVATIONS = {'lrelu': layers.leaky_relu, 'relu': tf.nn.relu}
GAIN = np.sqrt(2)


class GMapping(BuiltNetwork):
    """Mapping network: latents z [N, latent_size] (+ labels [N, label_size]) -> dlatents w.

    Output [N, dlatent_size], or [N, dlatent_broadcast, dlatent_size] when broadcasting.
    """

    DEFAULTS = MAPPING_DEFAULTS
    SUPPORTED = dict(dtype=('float32',), use_wscale=(True,), mapping_nonlinearity=tuple(ACTIVATIONS))
    KNOWN = ALL_GENERATOR_KWARGS

    def __init__(self, name, static_kwargs):
        super().__init__(name)
        p = take_kwargs(name, static_kwargs, self.DEFAULTS, supported=self.SUPPORTED, known=self.KNOWN)
        self.p = p
        if p['label_size']:
            self.label_weight = self.add_var('LabelConcat/weight', [p['label_size'], p['latent_size']])
        self.dense = []
        fan_in = p['latent_size'] * (2 if p['label_size'] else 1)
        for i in range(p['mapping_layers']):
            fmaps = p['dlatent_size'] if i == p['mapping_layers'] - 1 else p['mapping_fmaps']
            self.dense.append((self.add_var('Dense%d/weight' % i, [fan_in, fmaps]),
                               self.add_var('Dense%d/bias' % i, [fmaps])))
            fan_in = fmaps
        self.input_names, self.input_shapes = ['latents_in', 'labels_in'], [[None, p['latent_size']],
                                                                            [None, p['label_size']]]
        out = [None, p['dlatent_size']] if p['dlatent_broadcast'] is None else \
            [None, p['dlatent_broadcast'], p['dlatent_size']]
        self.output_names, self.output_shapes = ['dlatents_out'], [out]

    def __call__(self, latents_in, labels_in, **_dynamic):
        p = self.p
        x = tf.cast(latents_in, tf.float32)
        if p['label_size']:
            x = tf.concat([x, tf.matmul(tf.cast(labels_in, tf.float32), self.label_weight)], axis=1)
        if p['normalize_latents']:
            x = layers.pixel_norm(x)
        for weight, bias in self.dense:
            x = self.dense_layer(x, weight, bias)
        if p['dlatent_broadcast'] is not None:
            x = tf.tile(x[:, None], [1, p['dlatent_broadcast'], 1])
        return x

    def dense_layer(self, x, weight, bias):
        """One mapping layer, StyleGAN's way: act(x @ (W * sqrt(2)/sqrt(fan_in) * lrmul) + b * lrmul)."""
        lrmul = self.p['mapping_lrmul']
        return ACTIVATIONS[self.p['mapping_nonlinearity']](layers.dense(x, weight, GAIN, lrmul) + bias * np.float32(lrmul))


class GSynthesis(BuiltNetwork):
    """Synthesis network: dlatents [N, num_layers, dlatent_size] -> images [N, C, R, R] float32, nominal [-1, 1]."""

    def __init__(self, name, static_kwargs):
        super().__init__(name)
        p = take_kwargs(name, static_kwargs, SYNTHESIS_DEFAULTS,
                        supported=dict(dtype=('float32',), use_wscale=(True,), nonlinearity=tuple(ACTIVATIONS),
                                       fused_scale=('auto', True, False)),
                        known=ALL_GENERATOR_KWARGS)
        self.p = p
        self.act = ACTIVATIONS[p['nonlinearity']]
        self.resolution_log2 = int(np.log2(p['resolution']))
        if p['resolution'] != 2 ** self.resolution_log2 or p['resolution'] < 4:
            raise ValueError('%s: resolution must be a power of two >= 4, got %r' % (name, p['resolution']))
        self.num_layers = self.resolution_log2 * 2 - 2
        num_styles = self.num_layers if p['use_styles'] else 1

        self.lod = self.add_var('lod', [], trainable=False)
        self.noise = [self.add_var('noise%d' % i, [1, 1, 2 ** (i // 2 + 2), 2 ** (i // 2 + 2)], trainable=False)
                      for i in range(self.num_layers)] if p['use_noise'] else []
        self.layer_vars = []
        nf1 = self.nf(1)
        if p['const_input_layer']:
            self.const = self.add_var('4x4/Const/const', [1, nf1, 4, 4])
            self._epilogue_vars('4x4/Const', nf1)
        else:
            self.dense0 = self.add_var('4x4/Dense/weight', [p['dlatent_size'], nf1 * 16])
            self._epilogue_vars('4x4/Dense', nf1)
        self.conv_weights = {'4x4/Conv': self.add_var('4x4/Conv/weight', [3, 3, nf1, nf1])}
        self._epilogue_vars('4x4/Conv', nf1)
        self.torgb = {2: self._torgb_vars(2, nf1)}
        for res in range(3, self.resolution_log2 + 1):
            size = '%dx%d' % (2 ** res, 2 ** res)
            cin, cout = self.nf(res - 2), self.nf(res - 1)
            self.conv_weights[size + '/Conv0_up'] = self.add_var(size + '/Conv0_up/weight', [3, 3, cin, cout])
            self._epilogue_vars(size + '/Conv0_up', cout)
            self.conv_weights[size + '/Conv1'] = self.add_var(size + '/Conv1/weight', [3, 3, cout, cout])
            self._epilogue_vars(size + '/Conv1', cout)
            self.torgb[res] = self._torgb_vars(res, cout)
        self.input_names = ['dlatents_in']
        self.input_shapes = [[None, num_styles, p['dlatent_size']]]
        self.output_names = ['images_out']
        self.output_shapes = [[None, p['num_channels'], p['resolution'], p['resolution']]]

    def nf(self, stage):
        p = self.p
        return min(int(p['fmap_base'] / (2.0 ** (stage * p['fmap_decay']))), p['fmap_max'])

    def _epilogue_vars(self, scope, channels):
        p = self.p
        entry = {}
        if p['use_noise']:
            entry['noise_weight'] = self.add_var(scope + '/Noise/weight', [channels])
        entry['bias'] = self.add_var(scope + '/bias', [channels])
        if p['use_styles']:
            entry['style_weight'] = self.add_var(scope + '/StyleMod/weight', [p['dlatent_size'], channels * 2])
            entry['style_bias'] = self.add_var(scope + '/StyleMod/bias', [channels * 2])
        self.layer_vars.append(entry)

    def _torgb_vars(self, res, channels):
        lod = self.resolution_log2 - res
        return (self.add_var('ToRGB_lod%d/weight' % lod, [1, 1, channels, self.p['num_channels']]),
                self.add_var('ToRGB_lod%d/bias' % lod, [self.p['num_channels']]))

    def _epilogue(self, x, layer_idx, dlatents, randomize_noise):
        """noise -> bias -> activation -> (pixel norm) -> instance norm -> style modulation; x NHWC."""
        p = self.p
        v = self.layer_vars[layer_idx]
        if p['use_noise']:
            x = x + layers.noise_input(x, self.noise[layer_idx], randomize_noise) * v['noise_weight']
        x = self.act(x + v['bias'])
        if p['use_pixel_norm']:
            x = layers.pixel_norm(x, axis=3)
        if p['use_instance_norm']:
            x = layers.instance_norm(x)
        if p['use_styles']:
            x = layers.style_mod(x, dlatents[:, layer_idx], v['style_weight'], v['style_bias'])
        return x

    def _upscale_conv(self, x, weight):
        fused = self.p['fused_scale']
        if fused == 'auto':
            fused = min(x.shape[1], x.shape[2]) * 2 >= 128
        if fused:
            return layers.fused_upscale2d_conv2d(x, weight, GAIN)
        return layers.conv2d(layers.upscale2d(x), weight, GAIN)

    def __call__(self, dlatents_in, randomize_noise=None, **_dynamic):
        p = self.p
        if randomize_noise is None:
            randomize_noise = p['randomize_noise']
        dlatents = tf.cast(dlatents_in, tf.float32)
        batch = tf.shape(dlatents)[0]
        nf1 = self.nf(1)
        if p['const_input_layer']:
            x = tf.tile(tf.transpose(self.const, [0, 2, 3, 1]), [batch, 1, 1, 1])
        else:
            x = layers.dense(dlatents[:, 0], self.dense0, GAIN / 4)
            x = tf.transpose(tf.reshape(x, [-1, nf1, 4, 4]), [0, 2, 3, 1])
        x = self._epilogue(x, 0, dlatents, randomize_noise)
        x = self._epilogue(layers.conv2d(x, self.conv_weights['4x4/Conv'], GAIN), 1, dlatents, randomize_noise)
        for res in range(3, self.resolution_log2 + 1):
            size = '%dx%d' % (2 ** res, 2 ** res)
            y = self._upscale_conv(x, self.conv_weights[size + '/Conv0_up'])
            if p['blur_filter']:
                y = layers.blur2d(y, p['blur_filter'])
            x = self._epilogue(y, res * 2 - 4, dlatents, randomize_noise)
            x = self._epilogue(layers.conv2d(x, self.conv_weights[size + '/Conv1'], GAIN), res * 2 - 3, dlatents,
                               randomize_noise)
        weight, bias = self.torgb[self.resolution_log2]
        images = layers.conv2d(x, weight, 1.0) + bias
        return tf.transpose(images, [0, 3, 1, 2])


class GStyle(TruncatingGenerator, BuiltNetwork):
    """Style-based generator: latents [N, latent_size], labels [N, label_size] -> images [N, C, R, R].

    Dynamic kwargs as the official G_style: truncation_psi (default 0.7; 1 or None = off),
    truncation_cutoff (default 8; None or <= 0 = off), is_validation with
    truncation_psi_val / truncation_cutoff_val, randomize_noise (forwarded to synthesis).
    """

    def __init__(self, name, static_kwargs, components):
        super().__init__(name)
        for key in ('synthesis', 'mapping'):  # their build functions were matched by the registry row
            if key not in components:
                raise ValueError('%s: G_style needs a %r component' % (name, key))
        self.synthesis = components['synthesis'].module
        self.mapping = components['mapping'].module
        self.num_layers = self.synthesis.input_shapes[0][1]
        dlatent_size = self.synthesis.input_shapes[0][2]
        self.defaults = take_kwargs(name, static_kwargs, STYLE_DEFAULTS, known=ALL_GENERATOR_KWARGS)
        self.lod = self.add_var('lod', [], trainable=False)
        self.dlatent_avg = self.add_var('dlatent_avg', [dlatent_size], trainable=False)
        self.input_names = list(self.mapping.input_names)
        self.input_shapes = [list(s) for s in self.mapping.input_shapes]
        self.output_names = ['images_out']
        self.output_shapes = [list(self.synthesis.output_shapes[0])]

    def truncation_coefs(self, truncation_psi=None, truncation_cutoff=None, is_validation=None,
                         truncation_psi_val=None, truncation_cutoff_val=None):
        """float32 [num_layers] per-layer psi after the official rules, or None when truncation is off."""
        d = self.defaults
        psi = d['truncation_psi'] if truncation_psi == 'default' else truncation_psi
        cutoff = d['truncation_cutoff'] if truncation_cutoff == 'default' else truncation_cutoff
        if is_validation:
            psi, cutoff = truncation_psi_val, truncation_cutoff_val
        if psi is None or psi == 1 or cutoff is None or cutoff <= 0:
            return None
        ones = np.ones([self.num_layers], dtype=np.float32)
        return np.where(np.arange(self.num_layers) < cutoff, psi * ones, ones).astype(np.float32)

    TRUNCATION_DEFAULTS = dict(truncation_psi='default', truncation_cutoff='default', truncation_psi_val=None,
                               truncation_cutoff_val=None, is_validation=False)

    def dlatents(self, latents_in, labels_in, truncation_psi='default', truncation_cutoff='default',
                 truncation_psi_val=None, truncation_cutoff_val=None, is_validation=False, is_training=False,
                 truncation=None, **_dynamic):
        """What G_style feeds to the synthesis network: mapped and truncated w, [N, num_layers, dlatent_size].
        truncation: per-layer coefficients given directly (Network.run feeds them; the kwargs are then ignored)."""
        if is_training:
            raise NotImplementedError('%s: is_training=True (training mode) is not supported' % self.name)
        dlatents = self.mapping(latents_in, labels_in)
        coefs = truncation if truncation is not None else self.truncation_coefs(
            truncation_psi, truncation_cutoff, is_validation, truncation_psi_val, truncation_cutoff_val)
        if coefs is not None:
            dlatents = self.dlatent_avg + (dlatents - self.dlatent_avg) * coefs[None, :, None]
        return dlatents

    def __call__(self, latents_in, labels_in, randomize_noise=None, **kwargs):
        return self.synthesis(self.dlatents(latents_in, labels_in, **kwargs), randomize_noise=randomize_noise)
