"""VGG-16 feature network rebuilt from a vgg16.pkl-format pickle (random weights made by the tests)."""
import warnings

import numpy as np
import pytest
import tensorflow as tf

import dnnlib.tflib as tflib
from network_factory import VGG_SOURCE, network_from_state, vgg_state, write_vgg_pickle
from networks import registry, vgg16


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
    module = registry.build('vgg16', 'vgg16', {}, {})
    shapes = {name: var.shape.as_list() for name, var in module.named_vars.items()}
    assert len(shapes) == 32
    assert shapes['conv1_1/weight'] == [3, 3, 3, 64] and shapes['conv5_3/weight'] == [3, 3, 512, 512]
    assert shapes['fc1/weight'] == [25088, 4096] and shapes['fc3/weight'] == [4096, 1000]
    assert sum(int(np.prod(s)) for s in shapes.values()) == 138357544  # VGG-16 parameter count
    assert module.output_shapes == [[None, 4096]]


def manual_forward(net, images):
    """Independent NumPy/TF-op forward of the documented pipeline, for the tiny network."""
    x = tf.transpose(tf.constant(images, tf.float32), [0, 2, 3, 1])
    x = tf.compat.v1.image.resize_bilinear(x, [224, 224], align_corners=False).numpy()
    x = (x / 255.0 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
    for block, count in enumerate([2, 2, 3, 3, 3], start=1):
        for i in range(1, count + 1):
            w = net.get_var('conv%d_%d/weight' % (block, i))
            b = net.get_var('conv%d_%d/bias' % (block, i))
            x = np.maximum(tf.nn.conv2d(x.astype(np.float32), w, 1, 'SAME').numpy() + b, 0)
        n, h, wd, c = x.shape
        x = x.reshape(n, h // 2, 2, wd // 2, 2, c).max(axis=(2, 4))
    x = x.transpose(0, 3, 1, 2).reshape(len(x), -1)
    for layer in ('fc1', 'fc2'):
        x = np.maximum(x @ net.get_var(layer + '/weight') + net.get_var(layer + '/bias'), 0)
    return x


def test_tiny_vgg_pickle_loads_and_computes_documented_features(tmp_path):
    path = write_vgg_pickle(str(tmp_path / 'vgg16.pkl'), width_divisor=16, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # the fixture source matches the assumptions: no warning
        _, _, net = tflib.load_network_pkl(path)
    images = np.random.RandomState(2).randint(0, 256, size=(3, 3, 64, 48)).astype(np.uint8)
    features = net.run(images, num_gpus=1, assume_frozen=True)
    assert features.shape == (3, 4096 // 16) and features.dtype == np.float32
    assert net.output_shape == [None, 256]
    assert (features >= 0).all() and features.std() > 0
    np.testing.assert_allclose(features, manual_forward(net, images), rtol=1e-4, atol=1e-4)
    # Any input size works (resize inside), and batching does not change the result.
    big = net.run(np.repeat(np.repeat(images, 4, axis=2), 4, axis=3), minibatch_size=2)
    assert big.shape == features.shape
    np.testing.assert_allclose(net.run(images, minibatch_size=1), features, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('source,warning', [
    ('x = images - [103.939, 116.779, 123.68]\nx = tf.image.resize_bilinear(x, [224, 224])', 'Caffe'),
    ('def vgg16(x):\n    return conv(x)\n', 'resize'),
])
def test_real_pickle_source_contradicting_assumptions_warns(source, warning):
    import io
    import pickle
    net = network_from_state(vgg_state(width_divisor=64, source=source))
    with pytest.warns(UserWarning, match=warning):
        tflib.load_network_pkl(io.BytesIO(pickle.dumps(net, protocol=4)))


def test_fixture_source_has_the_markers():
    assert vgg16.source_problems(VGG_SOURCE) == []
