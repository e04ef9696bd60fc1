"""VGG-16 feature network of the official metrics pickle (`vgg16.pkl`), rebuilt in TF2.

Input: images [N, 3, H, W] float32 with uint8 values 0..255 (RGB, NCHW, any H, W),
exactly what the official P&R code feeds. Output: [N, 4096] float32 features.

The pickle's build source is not public; what follows is inferred (see
../shared/spec/official_pipeline.md section 4) and checked against the stored
`build_module_src` when a real pickle is loaded (`SOURCE_MARKERS`; a mismatch
warns loudly):

1. resize to 224x224 with TF1 bilinear resampling (`align_corners=False`, no
   half-pixel centres, no antialiasing), inside the network;
2. scale to [0, 1] and normalize with the ImageNet mean (0.485, 0.456, 0.406)
   and std (0.229, 0.224, 0.225), RGB order;
3. the standard VGG-16 "D" stack: 13 conv3x3 + ReLU, max-pool 2x2/2 after
   blocks 1-5, flatten in NCHW (channel-major) order, fc1 + ReLU, fc2 + ReLU;
4. the feature is fc2 after ReLU (fc3, the 1000-way classifier, is not used).

Variable names of the rebuild: conv{b}_{i}/weight [3, 3, in, out] (HWIO) and
/bias, fc1..fc3/weight [in, out] and /bias.

Static kwarg `width_divisor` (default 1 = VGG-16) is this project's extension for
tests: every width is divided by it, giving a tiny network in the same format.
"""
import numpy as np
import tensorflow as tf

from networks.base import BuiltNetwork, take_kwargs

CONV_CHANNELS = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]]
FC_SIZES = [(512 * 7 * 7, 4096), (4096, 4096), (4096, 1000)]
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)
INPUT_SIZE = 224

# (description, substring that the official build source should contain if the assumption holds)
SOURCE_MARKERS = [
    ('TF1 bilinear resize inside the network', 'resize'),
    ('resize to 224 x 224', '224'),
]
# substrings that would contradict an assumption
SOURCE_CONTRADICTIONS = [
    ('Caffe BGR mean subtraction (103.939) instead of ImageNet mean/std', '103.939'),
    ('half-pixel-centre resize (tf.image.resize in TF2 style)', 'half_pixel_centers=True'),
]


def resize_bilinear_tf1(images_nhwc, size):
    """TF1 `resize_bilinear(align_corners=False)`: the legacy corner-aligned sampling grid."""
    return tf.raw_ops.ResizeBilinear(images=images_nhwc, size=size, align_corners=False, half_pixel_centers=False)


class VGG16Features(BuiltNetwork):
    """images [N, 3, H, W] float32 0..255 -> fc2 features [N, 4096 / width_divisor] float32 (>= 0)."""

    def __init__(self, name, static_kwargs):
        super().__init__(name)
        div = take_kwargs(name, static_kwargs, {'width_divisor': 1})['width_divisor']
        if isinstance(div, bool) or int(div) != div or div < 1 or 64 % div:
            raise ValueError('%s: width_divisor must be a divisor of 64, got %r' % (name, div))
        self.convs = []
        channels = 3
        for block, widths in enumerate(CONV_CHANNELS, start=1):
            block_vars = []
            for i, width in enumerate(widths, start=1):
                width //= div
                scope = 'conv%d_%d' % (block, i)
                block_vars.append((self.add_var(scope + '/weight', [3, 3, channels, width]),
                                   self.add_var(scope + '/bias', [width])))
                channels = width
            self.convs.append(block_vars)
        self.fc_sizes = [(fan_in // div, fan_out // div) for fan_in, fan_out in FC_SIZES]
        self.fcs = [(self.add_var('fc%d/weight' % (i + 1), list(shape)), self.add_var('fc%d/bias' % (i + 1),
                                                                                      [shape[1]]))
                    for i, shape in enumerate(self.fc_sizes)]
        self.input_names, self.input_shapes = ['images_in'], [[None, 3, None, None]]
        self.output_names, self.output_shapes = ['features_out'], [[None, self.fc_sizes[1][1]]]

    def __call__(self, images_in, **_dynamic):
        x = tf.transpose(tf.cast(images_in, tf.float32), [0, 2, 3, 1])
        x = resize_bilinear_tf1(x, [INPUT_SIZE, INPUT_SIZE])
        x = (x / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
        for block_vars in self.convs:
            for weight, bias in block_vars:
                x = tf.nn.relu(tf.nn.conv2d(x, weight, strides=1, padding='SAME') + bias)
            x = tf.nn.max_pool2d(x, ksize=2, strides=2, padding='VALID')
        x = tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [-1, self.fc_sizes[0][0]])
        for weight, bias in self.fcs[:2]:
            x = tf.nn.relu(tf.matmul(x, weight) + bias)
        return x


def source_problems(src):
    """Assumptions of this module that the stored build source does not support (list of strings)."""
    problems = ['no sign of %s (expected %r in the source)' % (what, marker)
                for what, marker in SOURCE_MARKERS if marker not in src]
    problems += ['the source suggests %s' % what for what, marker in SOURCE_CONTRADICTIONS if marker in src]
    return problems
