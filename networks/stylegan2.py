"""StyleGAN2 generator rebuilt in TF2: G_main with its G_mapping and G_synthesis_stylegan2 components.

Follows the build functions that NVlabs/stylegan2 pickles name (`training/networks_stylegan2.py`):
same variable names, shapes, creation order and arithmetic, for inference (no training-time style
mixing or dlatent_avg update). Architectures 'orig', 'skip' (the default, config F) and 'resnet'.
Inputs and outputs are NCHW like the official networks; activations are NHWC inside, and the
modulated convolutions scale activations instead of weights (the official `fused_modconv=False`
form: no grouped convolution, so every CPU kernel family runs it; the official code documents it as
equivalent, and the goldens agree with it to ~1e-6).

Truncation as G_main (not as StyleGAN v1's G_style): defaults psi 0.5 on every layer (cutoff None
means all layers); psi 1 or None switches it off; is_validation=True replaces psi/cutoff by
truncation_psi_val / truncation_cutoff_val (default None: off); the lerp runs on every layer.
With randomize_noise=True the noise comes from TF2's random stream (same distribution, not the
official bits); with randomize_noise=False the stored noise inputs are used.
"""
import numpy as np
import tensorflow as tf

from dnnlib.tflib.ops.fused_bias_act import fused_bias_act
from dnnlib.tflib.ops.upfirdn_2d import upsample_2d, upsample_conv_2d
from networks.base import BuiltNetwork, TruncatingGenerator, take_kwargs
from networks.layers import noise_input
from networks.stylegan import GMapping

MAPPING_DEFAULTS = dict(latent_size=512, label_size=0, dlatent_size=512, dlatent_broadcast=None, mapping_layers=8,
                        mapping_fmaps=512, mapping_lrmul=0.01, mapping_nonlinearity='lrelu', normalize_latents=True,
                        dtype='float32')
SYNTHESIS_DEFAULTS = dict(dlatent_size=512, num_channels=3, resolution=1024, fmap_base=16 << 10, fmap_decay=1.0,
                          fmap_min=1, fmap_max=512, randomize_noise=True, architecture='skip', nonlinearity='lrelu',
                          dtype='float32', resample_kernel=[1, 3, 3, 1], fused_modconv=True)
MAIN_DEFAULTS = dict(truncation_psi=0.5, truncation_cutoff=None, truncation_psi_val=None, truncation_cutoff_val=None,
                     dlatent_avg_beta=0.995, style_mixing_prob=0.9, is_training=False, is_validation=False,
                     return_dlatents=False, is_template_graph=False, mapping_func='G_mapping',
                     synthesis_func='G_synthesis_stylegan2')
ALL_KWARGS = set(MAPPING_DEFAULTS) | set(SYNTHESIS_DEFAULTS) | set(MAIN_DEFAULTS) | {'num_channels', 'resolution'}
ACTIVATIONS = ('lrelu', 'linear', 'relu')
SQRT2 = np.float32(np.sqrt(2))


def _coef(shape, lrmul=1.0):
    """Equalized learning rate: runtime weight = stored * 1/sqrt(fan_in) * lrmul (gain 1 everywhere)."""
    return np.float32(1.0 / np.sqrt(np.prod(shape[:-1])) * lrmul)


def _weight(var, lrmul=1.0):
    return var * _coef(var.shape.as_list(), lrmul)


def _bias_act(x, bias, act='linear', lrmul=1.0):
    """fused_bias_act on NHWC (or [N, C]) x: + bias * lrmul, activation, its default gain."""
    return fused_bias_act(x, bias * np.float32(lrmul), axis=-1, act=act)


class G2Mapping(GMapping):
    """StyleGAN2's mapping network: StyleGAN's (same variables, pixel norm, label concat, broadcast) with bias and
    activation as fused_bias_act computes them: act(x @ (W / sqrt(fan_in) * lrmul) + b * lrmul) * gain."""

    DEFAULTS = MAPPING_DEFAULTS
    SUPPORTED = dict(dtype=('float32',), mapping_nonlinearity=ACTIVATIONS)
    KNOWN = ALL_KWARGS

    def dense_layer(self, x, weight, bias):
        lrmul = self.p['mapping_lrmul']
        return _bias_act(tf.matmul(x, _weight(weight, lrmul)), bias, self.p['mapping_nonlinearity'], lrmul)


class G2Synthesis(BuiltNetwork):
    """Synthesis network: dlatents [N, num_layers, dlatent_size] -> images [N, C, R, R] float32, nominal [-1, 1]."""

    def __init__(self, name, static_kwargs):
        super().__init__(name)
        p = take_kwargs(name, static_kwargs, SYNTHESIS_DEFAULTS,
                        supported=dict(dtype=('float32',), nonlinearity=ACTIVATIONS,
                                       architecture=('orig', 'skip', 'resnet'), fused_modconv=(True, False)),
                        known=ALL_KWARGS)
        self.p = p
        self.log2 = int(np.log2(p['resolution']))
        if p['resolution'] != 2 ** self.log2 or p['resolution'] < 4:
            raise ValueError('%s: resolution must be a power of two >= 4, got %r' % (name, p['resolution']))
        self.num_layers = self.log2 * 2 - 2
        self.noise = [self.add_var('noise%d' % k, [1, 1, 2 ** ((k + 5) // 2), 2 ** ((k + 5) // 2)], trainable=False)
                      for k in range(self.num_layers - 1)]
        arch = p['architecture']
        self.const = self.add_var('4x4/Const/const', [1, self.nf(1), 4, 4])
        self.layers = {'4x4/Conv': self._layer_vars('4x4/Conv', self.nf(1), self.nf(1), 3)}
        self.torgb = {}
        if arch == 'skip':
            self.torgb[2] = self._torgb_vars('4x4/ToRGB', self.nf(1))
        self.skips = {}
        for res in range(3, self.log2 + 1):
            size = '%dx%d' % (2 ** res, 2 ** res)
            cin, cout = self.nf(res - 2), self.nf(res - 1)
            self.layers[size + '/Conv0_up'] = self._layer_vars(size + '/Conv0_up', cin, cout, 3)
            self.layers[size + '/Conv1'] = self._layer_vars(size + '/Conv1', cout, cout, 3)
            if arch == 'resnet':
                self.skips[res] = self.add_var(size + '/Skip/weight', [1, 1, cin, cout])
            if arch == 'skip' or res == self.log2:
                self.torgb[res] = self._torgb_vars(size + '/ToRGB', cout)
        self.input_names = ['dlatents_in']
        self.input_shapes = [[None, self.num_layers, p['dlatent_size']]]
        self.output_names = ['images_out']
        self.output_shapes = [[None, p['num_channels'], p['resolution'], p['resolution']]]

    def nf(self, stage):
        p = self.p
        return int(np.clip(int(p['fmap_base'] / (2.0 ** (stage * p['fmap_decay']))), p['fmap_min'], p['fmap_max']))

    def _modulation_vars(self, scope, cin, cout, kernel):
        return {'weight': self.add_var(scope + '/weight', [kernel, kernel, cin, cout]),
                'mod_weight': self.add_var(scope + '/mod_weight', [self.p['dlatent_size'], cin]),
                'mod_bias': self.add_var(scope + '/mod_bias', [cin])}

    def _layer_vars(self, scope, cin, cout, kernel):
        v = self._modulation_vars(scope, cin, cout, kernel)
        v['noise_strength'] = self.add_var(scope + '/noise_strength', [])
        v['bias'] = self.add_var(scope + '/bias', [cout])
        return v

    def _torgb_vars(self, scope, cin):
        v = self._modulation_vars(scope, cin, self.p['num_channels'], 1)
        v['bias'] = self.add_var(scope + '/bias', [self.p['num_channels']])
        return v

    def _modulated_conv(self, x, w_style, v, demodulate=True, up=False):
        """Modulated convolution of NHWC x with style w_style [N, dlatent_size] (official modulated_conv2d_layer)."""
        weight = _weight(v['weight'])                                           # [k, k, I, O]
        s = _bias_act(tf.matmul(w_style, _weight(v['mod_weight'])), v['mod_bias']) + 1  # [N, I]
        x = x * s[:, None, None, :]
        if up:
            x = upsample_conv_2d(x, weight, k=self.p['resample_kernel'], data_format='NHWC')
        else:
            x = tf.nn.conv2d(x, weight, strides=1, padding='SAME')
        if demodulate:
            ww = weight[None] * s[:, None, None, :, None]                       # [N, k, k, I, O]
            d = tf.math.rsqrt(tf.reduce_sum(tf.square(ww), axis=[1, 2, 3]) + 1e-8)  # [N, O]
            x = x * d[:, None, None, :]
        return x

    def _layer(self, x, dlatents, index, scope, randomize_noise, up=False):
        v = self.layers[scope]
        x = self._modulated_conv(x, dlatents[:, index], v, up=up)
        x = x + noise_input(x, self.noise[index], randomize_noise) * v['noise_strength']
        return _bias_act(x, v['bias'], self.p['nonlinearity'])

    def _to_rgb(self, x, y, dlatents, res):
        v = self.torgb[res]
        t = _bias_act(self._modulated_conv(x, dlatents[:, res * 2 - 3], v, demodulate=False), v['bias'])
        return t if y is None else y + t

    def __call__(self, dlatents_in, randomize_noise=None, **_dynamic):
        p = self.p
        if randomize_noise is None:
            randomize_noise = p['randomize_noise']
        dlatents = tf.cast(dlatents_in, tf.float32)
        arch = p['architecture']
        x = tf.tile(tf.transpose(self.const, [0, 2, 3, 1]), [tf.shape(dlatents)[0], 1, 1, 1])
        x = self._layer(x, dlatents, 0, '4x4/Conv', randomize_noise)
        y = self._to_rgb(x, None, dlatents, 2) if arch == 'skip' else None
        for res in range(3, self.log2 + 1):
            size = '%dx%d' % (2 ** res, 2 ** res)
            t = x
            x = self._layer(x, dlatents, res * 2 - 5, size + '/Conv0_up', randomize_noise, up=True)
            x = self._layer(x, dlatents, res * 2 - 4, size + '/Conv1', randomize_noise)
            if arch == 'resnet':
                skip = upsample_conv_2d(t, _weight(self.skips[res]), k=p['resample_kernel'], data_format='NHWC')
                x = (x + skip) * np.float32(1 / np.sqrt(2))
            if arch == 'skip':
                y = upsample_2d(y, k=p['resample_kernel'], data_format='NHWC')
            if arch == 'skip' or res == self.log2:
                y = self._to_rgb(x, y, dlatents, res)
        return tf.transpose(y, [0, 3, 1, 2])


class GMain(TruncatingGenerator, BuiltNetwork):
    """StyleGAN2 generator: latents [N, latent_size], labels [N, label_size] -> images [N, C, R, R].

    Dynamic kwargs as the official G_main: truncation_psi (default 0.5), truncation_cutoff (default None = every
    layer), is_validation with truncation_psi_val / truncation_cutoff_val, randomize_noise (to the synthesis).
    """

    def __init__(self, name, static_kwargs, components):
        super().__init__(name)
        for key in ('synthesis', 'mapping'):  # their build functions were matched by the registry row
            if key not in components:
                raise ValueError('%s: G_main needs a %r component' % (name, key))
        self.defaults = take_kwargs(name, static_kwargs, MAIN_DEFAULTS, known=ALL_KWARGS)
        self.synthesis = components['synthesis'].module
        self.mapping = components['mapping'].module
        self.num_layers = self.synthesis.num_layers
        self.lod = self.add_var('lod', [], trainable=False)
        self.dlatent_avg = self.add_var('dlatent_avg', [self.synthesis.p['dlatent_size']], trainable=False)
        self.input_names = list(self.mapping.input_names)
        self.input_shapes = [list(s) for s in self.mapping.input_shapes]
        self.output_names = ['images_out']
        self.output_shapes = [list(self.synthesis.output_shapes[0])]

    TRUNCATION_DEFAULTS = dict(truncation_psi='default', truncation_cutoff='default', is_validation=None,
                               truncation_psi_val='default', truncation_cutoff_val='default')

    def truncation_coefs(self, truncation_psi='default', truncation_cutoff='default', is_validation=None,
                         truncation_psi_val='default', truncation_cutoff_val='default'):
        """float32 [num_layers] per-layer psi after G_main's rules, or None when truncation is off."""
        d = self.defaults
        pick = (lambda value, key: d[key] if value == 'default' else value)
        psi, cutoff = pick(truncation_psi, 'truncation_psi'), pick(truncation_cutoff, 'truncation_cutoff')
        if d['is_validation'] if is_validation is None else is_validation:
            psi = pick(truncation_psi_val, 'truncation_psi_val')
            cutoff = pick(truncation_cutoff_val, 'truncation_cutoff_val')
        if psi is None or psi == 1:
            return None
        ones = np.ones([self.num_layers], dtype=np.float32)
        if cutoff is None:
            return ones * np.float32(psi)
        return np.where(np.arange(self.num_layers) < cutoff, ones * np.float32(psi), ones).astype(np.float32)

    def dlatents(self, latents_in, labels_in, truncation=None, is_training=False, **_dynamic):
        """Mapped and truncated w [N, num_layers, dlatent_size]; truncation: truncation_coefs() output."""
        if is_training:
            raise NotImplementedError('%s: is_training=True (training mode) is not supported' % self.name)
        dlatents = self.mapping(latents_in, labels_in)
        if truncation is not None:
            dlatents = self.dlatent_avg + (dlatents - self.dlatent_avg) * truncation[None, :, None]
        return dlatents

    def __call__(self, latents_in, labels_in, randomize_noise=None, truncation_psi='default',
                 truncation_cutoff='default', is_validation=None, truncation=None, **kwargs):
        """truncation: per-layer coefficients given directly (Network.run feeds them; the kwargs are then ignored)."""
        psi_val = kwargs.pop('truncation_psi_val', 'default')
        cutoff_val = kwargs.pop('truncation_cutoff_val', 'default')
        coefs = truncation if truncation is not None else self.truncation_coefs(
            truncation_psi, truncation_cutoff, is_validation, psi_val, cutoff_val)
        return self.synthesis(self.dlatents(latents_in, labels_in, coefs, **kwargs), randomize_noise=randomize_noise)
