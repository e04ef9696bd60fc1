"""VGG-16 feature network of the official metrics (`vgg16.pkl`, TorchScript `vgg16.pt`), rebuilt in TF2.

Input: images [N, 3, H, W] float32 with uint8 values 0..255 (RGB, NCHW, any H, W),
exactly what the official P&R code feeds. Output: [N, F] float32 fc2 features (F = 4096).

The build source of `vgg16.pkl` is not public. What the rebuild computes is what
torch-fidelity's VGG-16 extractor computes (tested in its own suite against NVIDIA's
`vgg16.pt` to < 1e-4) and what NVIDIA's public LPIPS build source of the same family
does; it is checked against the stored source when a pickle is loaded
(`source_problems`) and can be checked numerically with `python -m networks.check_pickle`:

1. resize to 224x224 with TF1 bilinear resampling (`align_corners=False`, no
   half-pixel centres, no antialiasing), inside the network, always;
2. (x / 255 - mean) / std with the ImageNet mean (0.485, 0.456, 0.406) and
   std (0.229, 0.224, 0.225), RGB order;
3. 13 conv3x3 + bias + ReLU layers, 2x2/2 max-pool after conv 2, 4, 7, 10, 13,
   flatten in NCHW order (c*49 + h*7 + w), fc1 + ReLU, fc2 + ReLU;
4. the feature is fc2 after ReLU (fc3, the classifier, and LPIPS weights are not used).

Weights are found by structure, not by name (`find_layout`): in stored order, 13
conv kernels (HWIO [3,3,in,out] or OIHW [out,in,3,3]) chained from 3 input
channels, each with its bias, then fc1 ([C*49, F] or [F, C*49]), fc2 ([F, F]) and
optionally fc3; widths come from the shapes, so narrow test networks load too.
"""
import collections
import re

import numpy as np
import tensorflow as tf

from networks.base import BuiltNetwork

NUM_CONVS = 13
POOL_AFTER = (2, 4, 7, 10, 13)  # 1-based conv index followed by a 2x2 max-pool
VGG16_CONV_WIDTHS = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
VGG16_FC_WIDTHS = [4096, 4096, 1000]
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)
INPUT_SIZE = 224
POOL5_SIZE = 7

# (description, regular expression the build source should match if the assumption holds)
SOURCE_MARKERS = [
    ('a bilinear resize inside the network', r'resize'),
    ('resize to 224 x 224', r'224'),
]
# (what it would mean, regular expression that would contradict an assumption)
SOURCE_CONTRADICTIONS = [
    ('Caffe BGR mean subtraction (103.939) instead of ImageNet mean/std', r'103\.939'),
    ('half-pixel-centre resize (TF2 tf.image.resize style)', r'half_pixel_centers\s*=\s*True'),
    ('align_corners=True resize', r'align_corners\s*=\s*True'),
    ('nearest-neighbour resize', r'(?i)resize_nearest|NEAREST'),
    ('features taken before the fc2 ReLU', r'(?i)pre_?relu'),
]


class LayoutError(ValueError):
    """The stored variables are not (unambiguously) a VGG-16 feature network."""


def _components(name):
    return re.split(r'[/.]', name)


def _scope(name):
    return '/'.join(_components(name)[:-1])


def _natural_key(name):
    return [int(t) if t.isdigit() else t for t in re.split(r'(\d+)', name)]


def variable_table(stored):
    """'name [shape] dtype' lines of stored variables (OrderedDict name -> array), in stored order."""
    return ['  %-40s %-22s %s' % (name, list(np.shape(v)), np.asarray(v).dtype) for name, v in stored.items()]


def _refuse(stored, reason):
    raise LayoutError('%s.\nExpected, in stored order: 13 conv kernels [3,3,in,out] (or [out,in,3,3]) chained from 3 '
                      'input channels, each with a bias [out]; fc1 [C*49, F] (or [F, C*49]); fc2 [F, F]; optionally '
                      'fc3 and LPIPS/mean/std extras.\nStored variables (%d):\n%s'
                      % (reason, len(stored), '\n'.join(variable_table(stored))))


class VGGLayout:
    """Where each weight of the rebuild comes from.

    Attributes:
        convs: 13 tuples (kernel name, bias name, 'HWIO' | 'OIHW').
        fcs: tuples (weight name, bias name, '[in,out]' | '[out,in]') for fc1, fc2 (and fc3 if stored).
        conv_widths: 13 output widths; fc_widths: [F, F] (+ fc3 width).
        unused: stored names the features do not use besides fc3 (LPIPS weights, mean/std, scalars).
        order: 'stored order' or 'name order' (how identical-shape kernels were ordered).
    """

    def __init__(self, convs, fcs, conv_widths, fc_widths, unused, order):
        self.convs, self.fcs, self.conv_widths, self.fc_widths = convs, fcs, conv_widths, fc_widths
        self.unused, self.order = unused, order

    def roles(self):
        """OrderedDict stored name -> role ('conv1/weight', 'fc2/bias', 'unused: fc3/weight', ...)."""
        out = collections.OrderedDict()
        for i, (kernel, bias, fmt) in enumerate(self.convs, start=1):
            out[kernel] = 'conv%d/weight (%s)' % (i, fmt)
            out[bias] = 'conv%d/bias' % i
        for i, (weight, bias, fmt) in enumerate(self.fcs, start=1):
            suffix = '' if i <= 2 else ' (unused: classifier)'
            out[weight] = 'fc%d/weight %s%s' % (i, fmt, suffix)
            if bias:
                out[bias] = 'fc%d/bias%s' % (i, suffix)
        for name in self.unused:
            leaf = _components(name)[-1].lower()
            out.setdefault(name, 'unused (normalization buffer, compared with the ImageNet mean/std)'
                           if leaf in ('mean', 'std') else 'unused')
        return out

    def lines(self, stored=None):
        """One line per stored variable: 'stored name [shape] -> role'."""
        lines = []
        for name, role in self.roles().items():
            shape = '' if stored is None else ' %s' % list(np.shape(stored[name]))
            lines.append('  %s%s -> %s' % (name, shape, role))
        lines.append('  (convs ordered by %s; fc1 input in NCHW flatten order c*49 + h*7 + w [assumed])' % self.order)
        return lines


def _as_hwio(array, fmt):
    return array if fmt == 'HWIO' else np.transpose(array, [2, 3, 1, 0])


def _conv_chain(items, fmt):
    """The 13 3x3 kernels of `items` (list of (name, array)) if they chain from 3 channels in this order."""
    if fmt == 'HWIO':
        kernels = [(n, a) for n, a in items if a.ndim == 4 and a.shape[:2] == (3, 3)]
        io = [(a.shape[2], a.shape[3]) for _, a in kernels]
    else:
        kernels = [(n, a) for n, a in items if a.ndim == 4 and a.shape[2:] == (3, 3)]
        io = [(a.shape[1], a.shape[0]) for _, a in kernels]
    if len(kernels) != NUM_CONVS or io[0][0] != 3:
        return None
    if any(io[i][0] != io[i - 1][1] for i in range(1, NUM_CONVS)):
        return None
    return [n for n, _ in kernels], [o for _, o in io]


def _find_bias(stored, kernel, width, used, order):
    """Name of the bias of `kernel`: same scope, else the next 1-D variable of the right size in stored order."""
    candidates = [n for n in stored if n not in used and np.ndim(stored[n]) == 1 and stored[n].shape[0] == width]
    scope = _scope(kernel)
    same_scope = [n for n in candidates if _scope(n) == scope] if scope else []
    if len(same_scope) == 1:
        return same_scope[0]
    if len(same_scope) > 1:
        tail = [n for n in same_scope if re.search(r'(?i)bias|(^|[/.])b\d*$', n)]
        if len(tail) == 1:
            return tail[0]
        return None
    position = order.index(kernel)
    following = order[position + 1] if position + 1 < len(order) else None
    return following if following in candidates else None


def _is_extra(name, array):
    """Variables a VGG pickle may carry beside the features: scalars, LPIPS weights, mean/std buffers."""
    shape = np.shape(array)
    if len(shape) == 0 or np.size(array) <= 3:
        return True
    if len(shape) >= 2 and sum(d != 1 for d in shape) <= 1:
        return True
    return bool(re.search(r'(?i)(mean|std|lpips|perceptual)', name))


def find_layout(stored):
    """Map stored variables (OrderedDict name -> np.ndarray, in stored order) onto the VGG-16 rebuild.

    Returns a VGGLayout; raises LayoutError (listing every stored variable and what was
    expected) when the variables are incomplete or ambiguous.
    """
    stored = collections.OrderedDict((n, np.asarray(v)) for n, v in stored.items())
    stored_order = list(stored)
    name_order = sorted(stored_order, key=_natural_key)
    found = {}
    for order_name, order in (('stored order', stored_order), ('name order', name_order)):
        items = [(n, stored[n]) for n in order]
        chains = [(fmt, _conv_chain(items, fmt)) for fmt in ('HWIO', 'OIHW')]
        chains = [(fmt, c) for fmt, c in chains if c is not None]
        if len(chains) > 1:
            _refuse(stored, 'conv kernels can be read both as HWIO and OIHW')
        if chains:
            found[order_name] = (chains[0][0], chains[0][1], order)
    if not found:
        _refuse(stored, 'no chain of 13 3x3 conv kernels from 3 input channels (in stored or name order)')
    if len(found) == 2 and found['stored order'][1][0] != found['name order'][1][0]:
        _refuse(stored, 'stored order and name order give different conv chains (ambiguous)')
    order_name = 'stored order' if 'stored order' in found else 'name order'
    fmt, (kernels, widths), order = found[order_name]

    used = set(kernels)
    convs = []
    for kernel, width in zip(kernels, widths):
        bias = _find_bias(stored, kernel, width, used, order)
        if bias is None:
            _refuse(stored, 'no unambiguous bias [%d] for conv kernel %s' % (width, kernel))
        used.add(bias)
        convs.append((kernel, bias, fmt))

    flat = widths[-1] * POOL5_SIZE * POOL5_SIZE
    matrices = [n for n in order if n not in used and stored[n].ndim == 2]
    fc1 = [n for n in matrices if flat in stored[n].shape]
    if len(fc1) != 1:
        _refuse(stored, '%d candidates for fc1 (a matrix with a side of %d = %d x 7 x 7), expected 1'
                % (len(fc1), flat, widths[-1]))
    fc1 = fc1[0]
    rows, cols = stored[fc1].shape
    fc_fmt = '[in,out]' if rows == flat else '[out,in]'
    width = cols if fc_fmt == '[in,out]' else rows
    fc2 = [n for n in matrices if n != fc1 and stored[n].shape == (width, width)]
    if len(fc2) != 1:
        _refuse(stored, '%d candidates for fc2 (a [%d, %d] matrix), expected 1' % (len(fc2), width, width))
    fc2 = fc2[0]
    in_axis = 0 if fc_fmt == '[in,out]' else 1
    fc3 = [n for n in matrices if n not in (fc1, fc2) and stored[n].shape[in_axis] == width]
    if len(fc3) > 1:
        _refuse(stored, '%d candidates for fc3 (a matrix taking %d inputs), expected at most 1' % (len(fc3), width))
    fcs, fc_widths = [], []
    for weight in [fc1, fc2] + fc3:
        out_width = stored[weight].shape[1 - in_axis]
        used.add(weight)
        bias = _find_bias(stored, weight, out_width, used, order)
        if bias is None and weight != (fc3[0] if fc3 else None):
            _refuse(stored, 'no unambiguous bias [%d] for %s' % (out_width, weight))
        if bias:
            used.add(bias)
        fcs.append((weight, bias, fc_fmt))
        fc_widths.append(out_width)
    unused = [n for n in stored if n not in used]
    strange = [n for n in unused if not _is_extra(n, stored[n])]
    if strange:
        _refuse(stored, 'variables the VGG-16 layout does not explain: %s' % strange)
    return VGGLayout(convs, fcs, widths, fc_widths, unused, order_name)


def looks_like_vgg(stored):
    """True when the stored variables map onto the VGG-16 rebuild (see find_layout)."""
    try:
        find_layout(stored)
        return True
    except LayoutError:
        return False


def resize_bilinear_tf1(images_nhwc, size):
    """TF1 `resize_bilinear(align_corners=False)`: the legacy corner-aligned sampling grid."""
    return tf.raw_ops.ResizeBilinear(images=images_nhwc, size=size, align_corners=False, half_pixel_centers=False)


class VGG16Features(BuiltNetwork):
    """images [N, 3, H, W] float32 0..255 -> fc2 features [N, fc_widths[1]] float32 (>= 0).

    Args:
        conv_widths: 13 output widths (VGG-16: VGG16_CONV_WIDTHS).
        fc_widths: widths of fc1 and fc2 (VGG-16: 4096, 4096).
    Variables: conv1..conv13/weight [3, 3, in, out] (HWIO) and /bias, fc1, fc2/weight [in, out] and /bias.
    """

    def __init__(self, name, conv_widths=VGG16_CONV_WIDTHS, fc_widths=VGG16_FC_WIDTHS[:2]):
        super().__init__(name)
        self.convs = []
        channels = 3
        for i, width in enumerate(conv_widths, start=1):
            self.convs.append((self.add_var('conv%d/weight' % i, [3, 3, channels, width]),
                               self.add_var('conv%d/bias' % i, [width])))
            channels = width
        fan_in = channels * POOL5_SIZE * POOL5_SIZE
        self.flat_size = fan_in
        self.fcs = []
        for i, width in enumerate(fc_widths[:2], start=1):
            self.fcs.append((self.add_var('fc%d/weight' % i, [fan_in, width]), self.add_var('fc%d/bias' % i, [width])))
            fan_in = width
        self.input_names, self.input_shapes = ['images_in'], [[None, 3, None, None]]
        self.output_names, self.output_shapes = ['features_out'], [[None, fan_in]]

    def __call__(self, images_in, **_dynamic):
        x = tf.transpose(tf.cast(images_in, tf.float32), [0, 2, 3, 1])
        x = resize_bilinear_tf1(x, [INPUT_SIZE, INPUT_SIZE])
        x = (x / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
        for i, (weight, bias) in enumerate(self.convs, start=1):
            x = tf.nn.relu(tf.nn.conv2d(x, weight, strides=1, padding='SAME') + bias)
            if i in POOL_AFTER:
                x = tf.nn.max_pool2d(x, ksize=2, strides=2, padding='VALID')
        x = tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [-1, self.flat_size])
        for weight, bias in self.fcs:
            x = tf.nn.relu(tf.matmul(x, weight) + bias)
        return x


def build_from_layout(name, stored, layout=None):
    """VGG16Features with the stored weights assigned (transposed to HWIO / [in, out] where needed).

    stored: OrderedDict name -> np.ndarray (float16/32/64); layout: find_layout(stored) if None.
    """
    layout = layout or find_layout(stored)
    module = VGG16Features(name, layout.conv_widths, layout.fc_widths[:2])
    values = {}
    for i, (kernel, bias, fmt) in enumerate(layout.convs, start=1):
        values['conv%d/weight' % i] = _as_hwio(stored[kernel], fmt)
        values['conv%d/bias' % i] = stored[bias]
    for i, (weight, bias, fmt) in enumerate(layout.fcs[:2], start=1):
        values['fc%d/weight' % i] = stored[weight] if fmt == '[in,out]' else stored[weight].T
        values['fc%d/bias' % i] = stored[bias]
    for role, var in module.named_vars.items():
        value = np.asarray(values[role], np.float64)
        if not np.all(np.isfinite(value)):
            raise LayoutError('network %r: the weights of %s contain NaN or inf' % (name, role))
        var.assign(value.astype(np.float32))
    return module


def buffer_problems(stored):
    """Stored mean/std buffers that disagree with the rebuild's ImageNet normalization (list of strings).

    Accepts either 0..1 (mean, std) or 0..255 (255 * mean, 255 * std) conventions.
    """
    problems = []
    for name, value in stored.items():
        leaf = _components(name)[-1].lower()
        if leaf not in ('mean', 'std') or np.size(value) != 3:
            continue
        value = np.asarray(value, np.float64).reshape(3)
        expected = IMAGENET_MEAN if leaf == 'mean' else IMAGENET_STD
        if not (np.allclose(value, expected, rtol=1e-4) or np.allclose(value, 255 * expected, rtol=1e-4)):
            problems.append('stored %s %s differs from the ImageNet %s %s (or 255x)'
                            % (name, np.round(value, 4).tolist(), leaf, expected.tolist()))
    return problems


# Resampling choices in an archive's TorchScript code that would contradict the TF1 bilinear resize
TORCHSCRIPT_CONTRADICTIONS = [
    ('area (box) resize', r"mode\s*=\s*['\"]area|adaptive_avg_pool"),
    ('bicubic resize', r"bicubic"),
    ('nearest-neighbour resize', r"mode\s*=\s*['\"]nearest"),
    ('align_corners=True resize', r"align_corners\s*=\s*True"),
    ('antialiased resize', r"antialias\s*=\s*True"),
]


def torchscript_problems(archive):
    """What a TorchScript VGG archive (networks.torchscript.TorchScriptArchive) says against this rebuild."""
    forward = archive.forward_source()
    code = '\n'.join(archive.code.values())
    problems = ['no sign of %s in its forward (expected /%s/)' % (what, marker)
                for what, marker in SOURCE_MARKERS if not re.search(marker, forward)]
    problems += ['its code suggests %s' % what for what, marker in TORCHSCRIPT_CONTRADICTIONS if re.search(marker, code)]
    problems += buffer_problems(archive.arrays)
    if not re.search(r'fc2', forward):
        problems.append('its forward never mentions fc2 (the rebuild returns fc2 after ReLU)')
    fc2 = [path for path in archive.classes if _components(path)[-1] == 'fc2']
    for path in fc2:
        obj = archive.root
        for part in path.split('.'):
            obj = getattr(obj, part)
        if getattr(obj, 'relu', True) is False:
            problems.append('%s has relu=False: its features would be taken before the ReLU' % path)
    return problems


def source_problems(src):
    """Assumptions of this module that a stored build source does not support (list of strings)."""
    problems = ['no sign of %s (expected /%s/ in the source)' % (what, marker)
                for what, marker in SOURCE_MARKERS if not re.search(marker, src)]
    problems += ['the source suggests %s' % what for what, marker in SOURCE_CONTRADICTIONS if re.search(marker, src)]
    return problems
