"""TensorFlow helpers of the official dnnlib.tflib that the metrics use, in TF2."""
import tensorflow as tf


def convert_images_to_uint8(images, drange=[-1, 1], nchw_to_nhwc=False, shrink=1):
    """Float images (nominal range `drange`) -> uint8 tensor, as the official helper.

    images: [N, C, H, W] float. Optional `shrink`x box downsampling, optional
    NCHW -> NHWC transpose, then x * 255/(hi-lo) + (0.5 - lo * 255/(hi-lo)) and a
    saturating cast (clamp to [0, 255], then truncate), i.e. floor(127.5 x + 128)
    for drange [-1, 1].
    """
    images = tf.cast(images, tf.float32)
    if shrink > 1:
        nhwc = tf.transpose(images, [0, 2, 3, 1])
        nhwc = tf.nn.avg_pool2d(nhwc, ksize=shrink, strides=shrink, padding='VALID')
        images = tf.transpose(nhwc, [0, 3, 1, 2])
    if nchw_to_nhwc:
        images = tf.transpose(images, [0, 2, 3, 1])
    scale = 255 / (drange[1] - drange[0])
    images = images * scale + (0.5 - drange[0] * scale)
    return tf.saturate_cast(images, tf.uint8)


def compute_devices(num_gpus):
    """Names of `num_gpus` devices to spread work over.

    GPU i when TensorFlow sees at least `num_gpus` GPUs; otherwise round-robin
    over the GPUs it does see or, with none, over the logical CPU devices --
    like the official code with soft placement, results do not change.
    """
    if isinstance(num_gpus, bool) or int(num_gpus) != num_gpus or num_gpus < 1:
        raise ValueError('num_gpus must be a positive integer, got %r' % (num_gpus,))
    devices = tf.config.list_logical_devices('GPU') or tf.config.list_logical_devices('CPU')
    return [devices[i % len(devices)].name for i in range(int(num_gpus))]


def device_part(num_rows, part, parts):
    """(begin, end) int32 tensors of the `part`-th of `parts` contiguous, nearly equal row ranges.

    Traceable; the first num_rows % parts ranges get one more row, so any num_rows works
    (the official tf.split needed num_rows % parts == 0).
    """
    base, extra = num_rows // parts, num_rows % parts
    begin = base * part + tf.minimum(part, extra)
    return begin, begin + base + tf.cast(part < extra, tf.int32)


def disable_tf32():
    """Use true float32 matmuls/convolutions on Ampere+ GPUs (TF1 on a V100 had no TF32)."""
    tf.config.experimental.enable_tensor_float_32_execution(False)
