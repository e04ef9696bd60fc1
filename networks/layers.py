"""Layer ops of the StyleGAN (v1) generator, NHWC, float32, as the official TF1 code computes them.

Weights are stored unscaled (equalized learning rate): the runtime weight is
`stored * gain / sqrt(fan_in) * lrmul`, the runtime bias `stored * lrmul`.
Activations here are NHWC (runs on every CPU/GPU kernel set); the networks
convert to the official NCHW at their inputs/outputs.
"""
import numpy as np
import tensorflow as tf


def runtime_coef(shape, gain, lrmul=1.0):
    """float32 scale applied to a stored weight of `shape` ([.., fan_in dims.., fmaps_out])."""
    fan_in = np.prod(shape[:-1])
    return np.float32(gain / np.sqrt(fan_in) * lrmul)


def scaled(weight, gain, lrmul=1.0):
    """Runtime weight tensor from a stored (unscaled) weight variable."""
    return weight * runtime_coef(weight.shape.as_list(), gain, lrmul)


def dense(x, weight, gain, lrmul=1.0):
    """x [N, in] @ runtime weight [in, out] -> [N, out]."""
    return tf.matmul(x, scaled(weight, gain, lrmul))


def conv2d(x, weight, gain):
    """3x3 or 1x1 'SAME' convolution, NHWC; weight HWIO [k, k, in, out]."""
    return tf.nn.conv2d(x, scaled(weight, gain), strides=1, padding='SAME')


def upscale2d(x, factor=2):
    """Nearest-neighbour upsampling, NHWC [N, H, W, C] -> [N, 2H, 2W, C]."""
    shape = tf.shape(x)
    channels = x.shape[-1]
    x = tf.reshape(x, [-1, shape[1], 1, shape[2], 1, channels])
    x = tf.tile(x, [1, 1, factor, 1, factor, 1])
    return tf.reshape(x, [-1, shape[1] * factor, shape[2] * factor, channels])


def fused_upscale2d_conv2d(x, weight, gain):
    """Nearest 2x upsampling fused with a 3x3 conv: conv2d_transpose with the 4x4 summed kernel (no 0.25)."""
    w = scaled(weight, gain)                          # [3, 3, in, out]
    w = tf.transpose(w, [0, 1, 3, 2])                 # [3, 3, out, in]
    w = tf.pad(w, [[1, 1], [1, 1], [0, 0], [0, 0]])
    w = tf.add_n([w[1:, 1:], w[:-1, 1:], w[1:, :-1], w[:-1, :-1]])  # [4, 4, out, in]
    shape = tf.shape(x)
    out_shape = tf.stack([shape[0], shape[1] * 2, shape[2] * 2, weight.shape[-1]])
    return tf.nn.conv2d_transpose(x, w, out_shape, strides=2, padding='SAME')


def blur2d(x, taps=(1, 2, 1)):
    """Separable low-pass filter taps (x) taps, normalized to sum 1, depthwise 'SAME' (zero padding)."""
    f = np.array(taps, dtype=np.float32)
    f = f[:, None] * f[None, :]
    f /= np.sum(f)
    channels = x.shape[-1]
    kernel = np.tile(f[:, :, None, None], [1, 1, channels, 1])
    return tf.nn.depthwise_conv2d(x, tf.constant(kernel), strides=[1, 1, 1, 1], padding='SAME')


def leaky_relu(x, alpha=0.2):
    return tf.maximum(x, x * tf.constant(alpha, x.dtype))


def pixel_norm(x, epsilon=1e-8, axis=1):
    """x * rsqrt(mean(x^2 over `axis`) + eps)."""
    return x * tf.math.rsqrt(tf.reduce_mean(tf.square(x), axis=axis, keepdims=True) + tf.constant(epsilon, x.dtype))


def instance_norm(x, epsilon=1e-8):
    """Per-sample, per-channel normalization over H, W (NHWC)."""
    x = x - tf.reduce_mean(x, axis=[1, 2], keepdims=True)
    return x * tf.math.rsqrt(tf.reduce_mean(tf.square(x), axis=[1, 2], keepdims=True) + tf.constant(epsilon, x.dtype))


def style_mod(x, dlatent, weight, bias):
    """AdaIN style: s = dense(w, 2C, gain 1) + b; x * (s[:, :C] + 1) + s[:, C:] (NHWC x)."""
    style = dense(dlatent, weight, gain=1.0) + bias
    channels = x.shape[-1]
    scale = tf.reshape(style[:, :channels], [-1, 1, 1, channels])
    shift = tf.reshape(style[:, channels:], [-1, 1, 1, channels])
    return x * (scale + 1) + shift


def noise_input(x, stored_noise, randomize_noise):
    """Per-pixel noise for NHWC x: fresh N(0, 1) [N, H, W, 1] draws, or the stored [1, 1, H, W] input as [1, H, W, 1]."""
    if randomize_noise:
        shape = tf.shape(x)
        return tf.random.normal([shape[0], shape[1], shape[2], 1], dtype=x.dtype)
    return tf.transpose(stored_noise, [0, 2, 3, 1])
