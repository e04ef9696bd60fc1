"""FIR up/down-sampling (upfirdn) and the resampling convolutions of StyleGAN2, in plain TensorFlow.

`upfirdn_2d(x, k, ...)`: x [N, H, W, C]; insert up-1 zeros after every sample, pad (or crop, for
negative pads) each side, convolve with the 2-D FIR kernel k (true convolution, i.e. correlation
with k flipped), keep every down-th sample. The helpers take [N, C, H, W] (default) or NHWC and a
1-D or 2-D kernel, normalised to sum 1 and scaled by the gain (x factor^2 when upsampling):

| function | result size | padding of the FIR step (kernel width kw, conv width cw) |
|---|---|---|
| `filter_2d` | H | pad0 = kw // 2 + padding, pad1 = (kw - 1) // 2 + padding |
| `upsample_2d` | H * factor | pad0 = (kw + factor - 1) // 2 + padding, pad1 = (kw - factor) // 2 + padding |
| `downsample_2d` | H // factor | pad0 = (kw - factor + 1) // 2 + padding, pad1 = (kw - factor) // 2 + padding |
| `upsample_conv_2d` | H * factor | transposed conv (stride factor), then pad0 = (kw + factor - cw) // 2, pad1 = (kw - factor - cw + 3) // 2 |
| `conv_downsample_2d` | H // factor | pad0 = (kw - factor + cw) // 2, pad1 = (kw - factor + cw - 1) // 2, then strided conv |

Convolution weights w are [cw, cw, in_channels, out_channels]; a grouped convolution is given by an
input whose channel count is a multiple of in_channels (StyleGAN2's fused modulation). NCHW
convolutions go through `dnnlib.tflib.nchw`, so they run on CPUs without NCHW kernels too. `impl`
is accepted for compatibility and ignored.
"""
import numpy as np
import tensorflow as tf

from dnnlib.tflib import nchw


def _dim(x, i):
    """Static size of dimension i when known, else a scalar tensor."""
    value = tf.compat.dimension_value(x.shape[i])
    return value if value is not None else tf.shape(x)[i]


def upfirdn_2d(x, k, upx=1, upy=1, downx=1, downy=1, padx0=0, padx1=0, pady0=0, pady1=0, impl=None):
    """x: [N, H, W, C] float; k: 2-D numpy kernel [kh, kw]. Returns [N, H', W', C]."""
    del impl
    x = tf.convert_to_tensor(x)
    k = np.asarray(k, dtype=np.float32)
    height, width, channels = _dim(x, 1), _dim(x, 2), _dim(x, 3)
    if upx > 1 or upy > 1:  # zeros after every sample
        x = tf.reshape(x, [-1, height, 1, width, 1, channels])
        x = tf.pad(x, [[0, 0], [0, 0], [0, upy - 1], [0, 0], [0, upx - 1], [0, 0]])
        x = tf.reshape(x, [-1, height * upy, width * upx, channels])
    x = tf.pad(x, [[0, 0], [max(pady0, 0), max(pady1, 0)], [max(padx0, 0), max(padx1, 0)], [0, 0]])
    x = x[:, max(-pady0, 0):_dim(x, 1) - max(-pady1, 0), max(-padx0, 0):_dim(x, 2) - max(-padx1, 0), :]
    # One FIR filter for every channel: channels go to the batch axis, a single-channel NHWC conv.
    x = tf.transpose(x, [0, 3, 1, 2])
    out_h, out_w = _dim(x, 2), _dim(x, 3)
    x = tf.reshape(x, [-1, out_h, out_w, 1])
    x = tf.nn.conv2d(x, tf.constant(k[::-1, ::-1, None, None], dtype=x.dtype), strides=1, padding='VALID')
    x = tf.reshape(x, [-1, channels, out_h - k.shape[0] + 1, out_w - k.shape[1] + 1])
    x = tf.transpose(x, [0, 2, 3, 1])
    return x[:, ::downy, ::downx, :]


def _kernel(k, gain, default_taps):
    """Normalised 2-D FIR kernel (outer product of a 1-D one) times gain."""
    k = np.asarray(k if k is not None else [1] * default_taps, dtype=np.float32)
    if k.ndim == 1:
        k = np.outer(k, k)
    if k.ndim != 2 or k.shape[0] != k.shape[1]:
        raise ValueError('upfirdn_2d: the FIR kernel must be 1-D or square 2-D, got shape %s' % (k.shape,))
    return k / np.sum(k) * gain


def _resample(x, k, up=1, down=1, pad0=0, pad1=0, data_format='NCHW'):
    """upfirdn_2d with the same factor and padding on both axes, for NCHW or NHWC x."""
    if data_format not in ('NCHW', 'NHWC'):
        raise ValueError('data_format must be NCHW or NHWC, got %r' % (data_format,))
    if data_format == 'NHWC':
        return upfirdn_2d(x, k, up, up, down, down, pad0, pad1, pad0, pad1)
    channels = _dim(x, 1)
    y = tf.reshape(x, [-1, _dim(x, 2), _dim(x, 3), 1])
    y = upfirdn_2d(y, k, up, up, down, down, pad0, pad1, pad0, pad1)
    return tf.reshape(y, [-1, channels, _dim(y, 1), _dim(y, 2)])


def filter_2d(x, k, gain=1, padding=0, data_format='NCHW', impl=None):
    k = _kernel(k, gain, 1)
    kw = k.shape[1]
    return _resample(x, k, pad0=kw // 2 + padding, pad1=(kw - 1) // 2 + padding, data_format=data_format)


def upsample_2d(x, k=None, factor=2, gain=1, padding=0, data_format='NCHW', impl=None):
    k = _kernel(k, gain * factor ** 2, factor)
    kw = k.shape[1]
    return _resample(x, k, up=factor, pad0=(kw + factor - 1) // 2 + padding, pad1=(kw - factor) // 2 + padding,
                     data_format=data_format)


def downsample_2d(x, k=None, factor=2, gain=1, padding=0, data_format='NCHW', impl=None):
    k = _kernel(k, gain, factor)
    kw = k.shape[1]
    return _resample(x, k, down=factor, pad0=(kw - factor + 1) // 2 + padding, pad1=(kw - factor) // 2 + padding,
                     data_format=data_format)


def upsample_conv_2d(x, w, k=None, factor=2, gain=1, padding=0, data_format='NCHW', impl=None):
    """Upsample by `factor` and convolve with w [cw, cw, in, out] as one transposed convolution."""
    w = tf.convert_to_tensor(w)
    cw = tf.compat.dimension_value(w.shape[0])
    k = _kernel(k, gain * factor ** 2, factor)
    kw = k.shape[1]
    in_c, out_c = _dim(w, 2), _dim(w, 3)
    c_axis, h_axis = (1, 2) if data_format == 'NCHW' else (3, 1)
    groups = _dim(x, c_axis) // in_c
    # Transposed-conv filter [cw, cw, out per group, groups * in]: spatially flipped, in/out swapped per group.
    wt = tf.reshape(w, [cw, cw, in_c, groups, -1])
    wt = tf.transpose(wt[::-1, ::-1], [0, 1, 4, 3, 2])
    wt = tf.reshape(wt, [cw, cw, -1, groups * in_c])
    size = [(_dim(x, h_axis) - 1) * factor + cw, (_dim(x, h_axis + 1) - 1) * factor + cw]
    if data_format == 'NCHW':
        output_shape, strides = [_dim(x, 0), out_c] + size, [1, 1, factor, factor]
    else:
        output_shape, strides = [_dim(x, 0)] + size + [out_c], [1, factor, factor, 1]
    x = nchw.conv2d_transpose(x, wt, output_shape=output_shape, strides=strides, padding='VALID',
                              data_format=data_format)
    return _resample(x, k, pad0=(kw + factor - cw) // 2 + padding, pad1=(kw - factor - cw + 3) // 2 + padding,
                     data_format=data_format)


def conv_downsample_2d(x, w, k=None, factor=2, gain=1, padding=0, data_format='NCHW', impl=None):
    """Convolve with w [cw, cw, in, out] and downsample by `factor` (FIR first, then a strided conv)."""
    cw = tf.compat.dimension_value(tf.convert_to_tensor(w).shape[0])
    k = _kernel(k, gain, factor)
    kw = k.shape[1]
    x = _resample(x, k, pad0=(kw - factor + cw) // 2 + padding * factor,
                  pad1=(kw - factor + cw - 1) // 2 + padding * factor, data_format=data_format)
    strides = [1, 1, factor, factor] if data_format == 'NCHW' else [1, factor, factor, 1]
    return nchw.conv2d(x, w, strides=strides, padding='VALID', data_format=data_format)
