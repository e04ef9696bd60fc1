"""A StyleGAN (v1) generator written as TF1 graph code for this project's tests.

Stored as `build_module_src` in test pickles, it plays the part of a real pickle's own code on
the `--trust_pickle_code` path. It follows the published StyleGAN architecture and variable
naming (G_style with G_mapping and G_synthesis components, equalized learning rate, noise,
instance norm, style modulation, blurred 2x upsampling, ToRGB per resolution) for inference
only: no fused up-convolution, no training-time updates. It uses the TF1 idioms real build
sources use, so that the trusted path is exercised on them: `tensorflow.compat.v1` with
`disable_v2_behavior()`, a bool dimension in a variable shape, a `/gpu:0` device pin, NCHW
depthwise convolutions whose static output shape is asserted, `@tf.custom_gradient` ops inside variable scopes, `Dimension.value`,
an assign of the synthesis network's `lod` under a control dependency, and a linear growing
structure for the template graph but nested `tf.cond`s (the "recursive" structure) when evaluated.
"""
import numpy as np
import tensorflow.compat.v1 as tf
tf.disable_v2_behavior()
import dnnlib  # noqa: E402
import dnnlib.tflib as tflib  # noqa: E402


def _weight(shape, gain=np.sqrt(2), lrmul=1.0):
    fan_in = np.prod(shape[:-1])
    coef = gain / np.sqrt(fan_in) * lrmul
    return tf.get_variable('weight', shape=shape, initializer=tf.initializers.random_normal(0, 1.0 / lrmul)) * coef


def _dense(x, fmaps, gain=np.sqrt(2), lrmul=1.0):
    if len(x.shape) > 2:
        x = tf.reshape(x, [-1, np.prod([d.value for d in x.shape[1:]])])
    return tf.matmul(x, _weight([x.shape[1].value, fmaps], gain, lrmul))


def _conv(x, fmaps, kernel, gain=np.sqrt(2)):
    w = _weight([kernel, kernel, x.shape[1].value, fmaps], gain)
    return tf.nn.conv2d(x, w, strides=[1, 1, 1, 1], padding='SAME', data_format='NCHW')


def _bias(x, lrmul=1.0):
    b = tf.get_variable('bias', shape=[x.shape[1]], initializer=tf.initializers.zeros()) * lrmul
    return x + b if len(x.shape) == 2 else x + tf.reshape(b, [1, -1, 1, 1])


def _lrelu(x):
    with tf.variable_scope('LeakyReLU'):
        @tf.custom_gradient
        def func(x):
            y = tf.maximum(x, x * 0.2)

            def grad(dy):
                return tf.where(y >= 0, dy, dy * 0.2)
            return y, grad
        return func(x)


def _pixel_norm(x):
    return x * tf.rsqrt(tf.reduce_mean(tf.square(x), axis=1, keepdims=True) + 1e-8)


def _instance_norm(x):
    x -= tf.reduce_mean(x, axis=[2, 3], keepdims=True)
    return x * tf.rsqrt(tf.reduce_mean(tf.square(x), axis=[2, 3], keepdims=True) + 1e-8)


def _style_mod(x, dlatent):
    with tf.variable_scope('StyleMod'):
        style = _bias(_dense(dlatent, x.shape[1].value * 2, gain=1))
        style = tf.reshape(style, [-1, 2, x.shape[1].value, 1, 1])
        return x * (style[:, 0] + 1) + style[:, 1]


def _noise(x, noise_var, randomize):
    with tf.variable_scope('Noise'):
        if randomize:
            noise = tf.random_normal([tf.shape(x)[0], 1, x.shape[2], x.shape[3]])
        else:
            noise = noise_var
        weight = tf.get_variable('weight', shape=[x.shape[1].value], initializer=tf.initializers.zeros())
        return x + noise * tf.reshape(weight, [1, -1, 1, 1])


def _blur(x):
    f = np.float32([1, 2, 1])
    f = f[:, None] * f[None, :]
    f = np.tile((f / f.sum())[:, :, None, None], [1, 1, x.shape[1].value, 1])
    x = tf.nn.depthwise_conv2d(x, tf.constant(f), strides=[1, 1, 1, 1], padding='SAME', data_format='NCHW')
    assert all(dim.value is not None for dim in x.shape[1:])  # static shapes must survive the NCHW op
    return x


def _upscale(x):
    s = x.shape
    x = tf.reshape(x, [-1, s[1], s[2], 1, s[3], 1])
    x = tf.tile(x, [1, 1, 1, 2, 1, 2])
    return tf.reshape(x, [-1, s[1], s[2] * 2, s[3] * 2])


def G_style(latents_in, labels_in, truncation_psi=0.7, truncation_cutoff=8, is_template_graph=False,
            components=dnnlib.EasyDict(), **kwargs):
    if truncation_psi is not None and not tflib.is_tf_expression(truncation_psi) and truncation_psi == 1:
        truncation_psi = None
    if truncation_cutoff is not None and not tflib.is_tf_expression(truncation_cutoff) and truncation_cutoff <= 0:
        truncation_cutoff = None
    num_layers = components.synthesis.input_shape[1]
    dlatent_size = components.synthesis.input_shape[2]
    lod_in = tf.get_variable('lod', initializer=np.float32(0), trainable=False)
    dlatent_avg = tf.get_variable('dlatent_avg', shape=[dlatent_size], initializer=tf.initializers.zeros(),
                                  trainable=False)
    with tf.device('/gpu:0'):  # GPU pins as in NVIDIA's code: soft placement on a CPU-only host
        dlatents = components.mapping.get_output_for(latents_in, labels_in, **kwargs)
    if truncation_psi is not None and truncation_cutoff is not None:
        with tf.variable_scope('Truncation'):
            layer_idx = np.arange(num_layers)[np.newaxis, :, np.newaxis]
            ones = np.ones(layer_idx.shape, dtype=np.float32)
            coefs = tf.where(layer_idx < truncation_cutoff, truncation_psi * ones, ones)
            dlatents = tflib.lerp(dlatent_avg, dlatents, coefs)
    with tf.control_dependencies([tf.assign(components.synthesis.find_var('lod'), lod_in)]):
        images = components.synthesis.get_output_for(dlatents, force_clean_graph=is_template_graph, **kwargs)
    return tf.identity(images, name='images_out')


def G_mapping(latents_in, labels_in, latent_size=512, label_size=0, dlatent_size=512, dlatent_broadcast=None,
              mapping_layers=8, mapping_fmaps=512, mapping_lrmul=0.01, **_kwargs):
    latents_in.set_shape([None, latent_size])
    labels_in.set_shape([None, label_size])
    x = _pixel_norm(tf.cast(latents_in, tf.float32))
    for layer_idx in range(mapping_layers):
        with tf.variable_scope('Dense%d' % layer_idx):
            fmaps = dlatent_size if layer_idx == mapping_layers - 1 else mapping_fmaps
            x = _lrelu(_bias(_dense(x, fmaps, lrmul=mapping_lrmul), lrmul=mapping_lrmul))
    if dlatent_broadcast is not None:
        with tf.variable_scope('Broadcast'):
            x = tf.tile(x[:, np.newaxis], [1, dlatent_broadcast, 1])
    return tf.identity(x, name='dlatents_out')


def G_synthesis(dlatents_in, dlatent_size=512, num_channels=3, resolution=1024, fmap_base=8192, fmap_decay=1.0,
                fmap_max=512, randomize_noise=True, is_template_graph=False, force_clean_graph=False, **_kwargs):
    resolution_log2 = int(np.log2(resolution))
    num_layers = resolution_log2 * 2 - 2
    if is_template_graph or force_clean_graph:
        randomize_noise = False
    recursive = not (is_template_graph or force_clean_graph)

    def nf(stage):
        return min(int(fmap_base / (2.0 ** (stage * fmap_decay))), fmap_max)

    dlatents_in.set_shape([None, num_layers, dlatent_size])
    dlatents_in = tf.cast(dlatents_in, tf.float32)
    lod_in = tf.get_variable('lod', initializer=np.float32(0), trainable=False)
    use_noise = True  # a bool dimension, as NVlabs/stylegan writes it (TF 1.x read it as 1)
    noises = [tf.get_variable('noise%d' % i, shape=[1, use_noise, 2 ** (i // 2 + 2), 2 ** (i // 2 + 2)],
                              initializer=tf.initializers.random_normal(), trainable=False)
              for i in range(num_layers)]

    def epilogue(x, layer_idx):
        x = _noise(x, noises[layer_idx], randomize_noise)
        x = _instance_norm(_lrelu(_bias(x)))
        return _style_mod(x, dlatents_in[:, layer_idx])

    def torgb(res, x):
        with tf.variable_scope('ToRGB_lod%d' % (resolution_log2 - res)):
            return _bias(_conv(x, num_channels, 1, gain=1))

    with tf.variable_scope('4x4'):
        with tf.variable_scope('Const'):
            x = tf.get_variable('const', shape=[1, nf(1), 4, 4], initializer=tf.initializers.ones())
            x = epilogue(tf.tile(x, [tf.shape(dlatents_in)[0], 1, 1, 1]), 0)
        with tf.variable_scope('Conv'):
            x = epilogue(_conv(x, nf(1), 3), 1)
    def block(res, x):
        with tf.variable_scope('%dx%d' % (2 ** res, 2 ** res)):
            with tf.variable_scope('Conv0_up'):
                x = epilogue(_blur(_conv(_upscale(x), nf(res - 1), 3)), res * 2 - 4)
            with tf.variable_scope('Conv1'):
                return epilogue(_conv(x, nf(res - 1), 3), res * 2 - 3)

    if not recursive:  # linear: every layer and ToRGB in plain sequence (the template graph)
        images_out = torgb(2, x)
        for res in range(3, resolution_log2 + 1):
            lod = resolution_log2 - res
            x = block(res, x)
            img = torgb(res, x)
            images_out = _upscale(images_out)
            with tf.variable_scope('Grow_lod%d' % lod):
                images_out = tflib.lerp_clip(img, images_out, lod_in - lod)
        return tf.identity(images_out, name='images_out')

    def upscale_n(img, factor):
        while factor > 1:
            img, factor = _upscale(img), factor // 2
        return img

    def grow(x, res, lod):  # recursive: nested tf.cond on lod, as fully grown (lod = 0) evaluation takes
        y = block(res, x)
        img = lambda: upscale_n(torgb(res, y), 2 ** lod)  # noqa: E731
        if lod > 0:
            deeper = lambda: grow(y, res + 1, lod - 1)  # noqa: E731
            current = img
            img = lambda: tf.cond(lod_in < lod, deeper, current)  # noqa: E731
        return img()
    return tf.identity(grow(x, 3, resolution_log2 - 3), name='images_out')
