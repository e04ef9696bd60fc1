"""VGG-16 feature network rebuilt from vgg16.pkl-format pickles, found by structure (random weights)."""
import collections
import io
import pickle
import warnings

import numpy as np
import pytest
import tensorflow as tf

import dnnlib.tflib as tflib
from network_factory import (NVIDIA_STYLE_VGG_SOURCE, network_from_state, nvidia_style_vgg_variables, vgg_state,
                             write_vgg_pickle)
from networks import vgg16
from networks import loading
from networks.loading import load_network_file


def tf1_resize_bilinear_reference(image, out_h, out_w):
    """NumPy TF1 resize_bilinear(align_corners=False): src = dst * in/out, clamped neighbours."""
    in_h, in_w = image.shape[:2]
    out = np.zeros((out_h, out_w, image.shape[2]), np.float64)
    for y in range(out_h):
        sy = y * in_h / out_h
        y0 = int(np.floor(sy)); y1 = min(y0 + 1, in_h - 1); fy = sy - y0
        for x in range(out_w):
            sx = x * in_w / out_w
            x0 = int(np.floor(sx)); x1 = min(x0 + 1, in_w - 1); fx = sx - x0
            top = image[y0, x0] * (1 - fx) + image[y0, x1] * fx
            bottom = image[y1, x0] * (1 - fx) + image[y1, x1] * fx
            out[y, x] = top * (1 - fy) + bottom * fy
    return out


@pytest.mark.parametrize('size', [(37, 53), (300, 256), (224, 224)])
def test_resize_is_tf1_bilinear(size):
    image = np.random.RandomState(0).randint(0, 256, size=size + (3,)).astype(np.float32)
    ours = vgg16.resize_bilinear_tf1(image[None], [24, 20]).numpy()[0]
    np.testing.assert_allclose(ours, tf1_resize_bilinear_reference(image, 24, 20), atol=5e-3)
    half_pixel = tf.image.resize(image[None], [24, 20], method='bilinear').numpy()[0]
    if size != (224, 224):
        assert np.abs(half_pixel - ours).max() > 1.0  # the TF2 default would be a different feature


def test_full_vgg16_structure():
    module = vgg16.VGG16Features('vgg16')
    shapes = {name: var.shape.as_list() for name, var in module.named_vars.items()}
    assert len(shapes) == 30
    assert shapes['conv1/weight'] == [3, 3, 3, 64] and shapes['conv13/weight'] == [3, 3, 512, 512]
    assert shapes['fc1/weight'] == [25088, 4096] and shapes['fc2/weight'] == [4096, 4096]
    # VGG-16 parameter count without the 1000-way classifier (4096 * 1000 + 1000)
    assert sum(int(np.prod(s)) for s in shapes.values()) == 138357544 - 4097000
    assert module.output_shapes == [[None, 4096]]


def full_size_variables():
    """Zero-valued variables of the full VGG-16 in NVIDIA's naming (shapes only matter)."""
    out, channels = [], 3
    for index, width in enumerate(vgg16.VGG16_CONV_WIDTHS, start=1):
        out += [('conv%d/conv%d' % (index, index), np.zeros([3, 3, channels, width], np.float16)),
                ('conv%d/bias%d' % (index, index), np.zeros([width], np.float16))]
        channels = width
    fan_in = 512 * 49
    for index, width in enumerate(vgg16.VGG16_FC_WIDTHS, start=1):
        out += [('fc%d/fc%d' % (index, index), np.zeros([fan_in, width], np.float16)),
                ('fc%d/bias%d' % (index, index), np.zeros([width], np.float16))]
        fan_in = width
    return collections.OrderedDict(out)


def test_full_size_layout_is_found_by_structure():
    layout = vgg16.find_layout(full_size_variables())
    assert layout.conv_widths == vgg16.VGG16_CONV_WIDTHS and layout.fc_widths == vgg16.VGG16_FC_WIDTHS
    assert layout.convs[5][0] == 'conv6/conv6' and layout.convs[6][0] == 'conv7/conv7'  # equal shapes, stored order
    assert [f[0] for f in layout.fcs] == ['fc1/fc1', 'fc2/fc2', 'fc3/fc3'] and layout.unused == []


def manual_forward(stored, images, conv_layout='HWIO', fc_layout='[in,out]'):
    """Independent NumPy/TF-op forward of the documented pipeline from NVIDIA-style stored variables."""
    x = tf.transpose(tf.constant(images, tf.float32), [0, 2, 3, 1])
    x = tf.compat.v1.image.resize_bilinear(x, [224, 224], align_corners=False).numpy()
    x = (x / 255.0 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
    for index in range(1, 14):
        w = stored['conv%d/conv%d' % (index, index)]
        w = w if conv_layout == 'HWIO' else w.transpose(2, 3, 1, 0)
        x = np.maximum(tf.nn.conv2d(x.astype(np.float32), w, 1, 'SAME').numpy() + stored['conv%d/bias%d' % (index,
                                                                                                            index)], 0)
        if index in (2, 4, 7, 10, 13):
            n, h, wd, c = x.shape
            x = x.reshape(n, h // 2, 2, wd // 2, 2, c).max(axis=(2, 4))
    x = x.transpose(0, 3, 1, 2).reshape(len(x), -1)
    for index in (1, 2):
        w = stored['fc%d/fc%d' % (index, index)]
        w = w if fc_layout == '[in,out]' else w.T
        x = np.maximum(x @ w + stored['fc%d/bias%d' % (index, index)], 0)
    return x


IMAGES = np.random.RandomState(2).randint(0, 256, size=(3, 3, 64, 48)).astype(np.uint8)


@pytest.mark.parametrize('conv_layout,fc_layout', [('HWIO', '[in,out]'), ('OIHW', '[out,in]'), ('HWIO', '[out,in]')])
def test_nvidia_style_pickle_loads_by_structure_and_computes_documented_features(tmp_path, conv_layout, fc_layout):
    variables = nvidia_style_vgg_variables(16, seed=1, fc_layout=fc_layout, conv_layout=conv_layout)
    path = write_vgg_pickle(str(tmp_path / 'vgg16.pkl'), variables=variables)
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # the NVIDIA-style source matches the assumptions: no warning
        _, _, net = load_network_file(path)
    assert net.kind == 'feature network' and net.build_func_name == 'perceptual_features'
    lines = loading.layout_lines(net)
    assert '  conv1/conv1 %s -> conv1/weight (%s)' % (list(variables[0][1].shape), conv_layout) == lines[0]
    assert any(line.startswith('  lpips4/perceptual_weight_4') and line.endswith('-> unused') for line in lines)
    assert any('fc3/fc3' in line and 'unused: classifier' in line for line in lines)
    features = net.run(IMAGES, num_gpus=1, assume_frozen=True)
    assert features.shape == (3, 4096 // 16) and features.dtype == np.float32 and net.output_shape == [None, 256]
    assert (features >= 0).all() and features.std() > 0
    expected = manual_forward(dict(variables), IMAGES, conv_layout, fc_layout)
    np.testing.assert_allclose(features, expected, rtol=1e-4, atol=1e-4)
    big = net.run(np.repeat(np.repeat(IMAGES, 4, axis=2), 4, axis=3), minibatch_size=2)
    assert big.shape == features.shape
    np.testing.assert_allclose(net.run(IMAGES, minibatch_size=1), features, rtol=1e-5, atol=1e-5)


def test_shuffled_variables_are_mapped_by_their_names():
    variables = nvidia_style_vgg_variables(16, seed=4)
    shuffled = [variables[i] for i in np.random.RandomState(0).permutation(len(variables))]
    ordered = network_from_state(vgg_state(variables=variables))
    net = network_from_state(vgg_state(variables=shuffled))
    assert vgg16.find_layout(net.stored_arrays()).order == 'name order'
    np.testing.assert_array_equal(net.run(IMAGES), ordered.run(IMAGES))


def test_shuffled_variables_without_meaningful_names_are_refused_with_the_list():
    variables = nvidia_style_vgg_variables(16, seed=4)
    rs = np.random.RandomState(1)
    renamed = [('v%03d' % i, value) for i, (_, value) in zip(rs.permutation(len(variables)), variables)]
    shuffled = [renamed[i] for i in rs.permutation(len(renamed))]
    net = network_from_state(vgg_state(variables=shuffled))
    with pytest.raises(tflib.NetworkPickleError) as info:
        net.module
    text = str(info.value)
    assert 'Stored variables (%d)' % len(variables) in text and 'Expected, in stored order' in text
    assert all(name in text for name, _ in shuffled)


@pytest.mark.parametrize('change,message', [
    (lambda v: [(n, x) for n, x in v if n != 'conv5/bias5'], 'no unambiguous bias'),
    (lambda v: [(n, x) for n, x in v if n != 'conv9/conv9'], 'no chain of 13'),
    (lambda v: [(n, x) for n, x in v if n != 'fc2/fc2'], 'candidates for fc2'),
    (lambda v: v + [('extra/matrix', np.ones([7, 9], np.float32))], "does not explain: \\['extra/matrix'\\]"),
    (lambda v: [(n, x if n != 'fc2/bias2' else x * np.nan) for n, x in v], 'NaN'),
])
def test_incomplete_or_odd_layouts_are_refused_clearly(change, message):
    net = network_from_state(vgg_state(variables=change(nvidia_style_vgg_variables(64))))
    with pytest.raises(tflib.NetworkPickleError, match=message):
        net.module


def test_a_vgg_named_build_function_with_a_broken_layout_loads_but_names_the_problem():
    variables = [(n, x) for n, x in nvidia_style_vgg_variables(64) if n != 'conv3/conv3']
    net = network_from_state(vgg_state(variables=variables, build_func_name='vgg16_features'))
    assert net.kind == 'feature network'
    with pytest.raises(tflib.NetworkPickleError, match='no chain of 13 3x3 conv kernels'):
        loading.layout_lines(net)


@pytest.mark.parametrize('source,warning', [
    ('x = images - [103.939, 116.779, 123.68]\nx = tf.image.resize_bilinear(x, [224, 224])', 'Caffe'),
    ('def vgg16(x):\n    return conv(x)\n', 'resize'),
    ('x = tf.image.resize_bilinear(x, [224, 224], align_corners=True)', 'align_corners'),
])
def test_real_pickle_source_contradicting_assumptions_warns(source, warning):
    net = network_from_state(vgg_state(width_divisor=64, source=source))
    with pytest.warns(UserWarning, match=warning):
        load_network_file(io.BytesIO(pickle.dumps(net, protocol=4)))


def test_fixture_source_has_the_markers():
    assert vgg16.source_problems(NVIDIA_STYLE_VGG_SOURCE) == []
