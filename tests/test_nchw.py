"""NCHW and grouped ops for TF1 code on every CPU, and the pure-TF StyleGAN2 ops, against NumPy definitions.

Each op is checked as this process runs it (natively where it has the kernel: oneDNN or a GPU)
and with the NHWC fallback that CPUs without NCHW kernels use forced, so every machine tests the
fallback and a oneDNN machine tests the native kernels too.
"""
import numpy as np
import pytest
import tensorflow as tf

from dnnlib.tflib import nchw
from dnnlib.tflib.ops import fused_bias_act as fba
from dnnlib.tflib.ops import upfirdn_2d as fir

v1 = tf.compat.v1
RS = np.random.RandomState(0)


def run_graph(build, feeds=()):
    """Build ops in a fresh TF1 graph (as stored code does) and run them; feeds: [(shape, value)]."""
    graph = tf.Graph()
    with graph.as_default():
        placeholders = [v1.placeholder(tf.float32, shape) for shape, _ in feeds]
        out = build(*placeholders)
        with v1.Session(graph=graph) as session:
            return session.run(out, dict(zip(placeholders, [v for _, v in feeds]))), out


@pytest.fixture(params=['auto', 'fallback'])
def path(request, monkeypatch):
    """'auto': what this process picks (native with oneDNN or a GPU); 'fallback': NHWC forced."""
    if request.param == 'fallback':
        monkeypatch.setattr(nchw, 'native', lambda op, dtype='float32': False)
    return request.param


# ---- NumPy definitions (float64) ----

def np_conv2d(x, w, stride=1, pad=(0, 0, 0, 0)):
    """x [N, C, H, W], w [kh, kw, ci, co] with C = G*ci (grouped), co = G*cog; pad (top, bottom, left, right)."""
    x = np.pad(x.astype(np.float64), [(0, 0), (0, 0), pad[:2], pad[2:]])
    kh, kw, ci, co = w.shape
    groups = x.shape[1] // ci
    out_h, out_w = (x.shape[2] - kh) // stride + 1, (x.shape[3] - kw) // stride + 1
    y = np.zeros([x.shape[0], co, out_h, out_w])
    per = co // groups
    for o in range(co):
        g = o // per
        for a in range(kh):
            for b in range(kw):
                patch = x[:, g * ci:(g + 1) * ci, a:a + stride * out_h:stride, b:b + stride * out_w:stride]
                y[:, o] += np.einsum('nchw,c->nhw', patch, w[a, b, :, o])
    return y


def np_conv2d_transpose(x, w, stride, groups=1):
    """VALID transposed conv: x [N, G*ci, H, W], w [kh, kw, co, G*ci] -> [N, G*co, (H-1)*s+kh, (W-1)*s+kw]."""
    kh, kw, co, _ = w.shape
    n, c, h, wd = x.shape
    ci = c // groups
    y = np.zeros([n, groups * co, (h - 1) * stride + kh, (wd - 1) * stride + kw])
    for g in range(groups):
        for a in range(kh):
            for b in range(kw):
                contrib = np.einsum('nchw,oc->nohw', x[:, g * ci:(g + 1) * ci], w[a, b, :, g * ci:(g + 1) * ci])
                y[:, g * co:(g + 1) * co, a:a + stride * h:stride, b:b + stride * wd:stride] += contrib
    return y


def close(ours, expected, rel=1e-5):
    assert ours.shape == expected.shape
    assert np.abs(ours - expected).max() <= rel * np.abs(expected).max(), np.abs(ours - expected).max()


X = RS.randn(2, 6, 9, 8).astype(np.float32)


def test_conv2d_strided_same_and_grouped(path):
    w = RS.randn(3, 3, 6, 4).astype(np.float32)
    y, _ = run_graph(lambda x: nchw.conv2d(x, w, [1, 1, 1, 1], 'SAME', data_format='NCHW'), [([None, 6, 9, 8], X)])
    close(y, np_conv2d(X, w, 1, (1, 1, 1, 1)))
    y, _ = run_graph(lambda x: nchw.conv2d(x, w, [1, 1, 2, 2], 'VALID', data_format='NCHW'), [([None, 6, 9, 8], X)])
    close(y, np_conv2d(X, w, 2))
    wg = RS.randn(3, 3, 2, 9).astype(np.float32)  # 3 groups of 2 input channels -> 3 outputs each
    y, _ = run_graph(lambda x: nchw.conv2d(x, wg, [1, 1, 1, 1], 'VALID', data_format='NCHW'), [([None, 6, 9, 8], X)])
    close(y, np_conv2d(X, wg))


def test_conv2d_transpose_keeps_static_shapes_and_groups_with_a_dynamic_count(path):
    w = RS.randn(3, 3, 5, 6).astype(np.float32)
    (y, out) = run_graph(lambda x: nchw.conv2d_transpose(x, w, [tf.shape(x)[0], 5, 19, 17], [1, 1, 2, 2], 'VALID',
                                                         data_format='NCHW'), [([None, 6, 9, 8], X)])
    close(y, np_conv2d_transpose(X, w, 2))
    assert out.shape.as_list() == [None, 5, 19, 17]
    # StyleGAN2's fused modulation: minibatch folded into channels, groups = minibatch (unknown when built).
    wg = RS.randn(3, 3, 4, 12).astype(np.float32)  # co = 4 per group, in = 2 groups x 6
    y, _ = run_graph(lambda x: nchw.conv2d_transpose(tf.reshape(x, [1, -1, 9, 8]), wg,
                                                     [1, tf.shape(x)[0] * 4, 19, 17], [1, 1, 2, 2], 'VALID',
                                                     data_format='NCHW'), [([None, 6, 9, 8], X)])
    close(y, np_conv2d_transpose(X.reshape(1, 12, 9, 8), wg, 2, groups=2))


def test_depthwise_pools_bias_and_batch_norm(path):
    f = RS.rand(3, 3, 6, 1).astype(np.float32)
    y, out = run_graph(lambda x: nchw.depthwise_conv2d(x, f, [1, 1, 1, 1], 'VALID', data_format='NCHW'),
                       [([None, 6, 9, 8], X)])
    expected = np.stack([np_conv2d(X[:, c:c + 1], f[:, :, c:c + 1, :])[:, 0] for c in range(6)], axis=1)
    close(y, expected)
    assert out.shape.as_list() == [None, 6, 7, 6]
    y, _ = run_graph(lambda x: nchw.max_pool(x, [1, 1, 2, 2], [1, 1, 2, 2], 'VALID', data_format='NCHW'),
                     [([None, 6, 9, 8], X)])
    np.testing.assert_array_equal(y, X[:, :, :8].reshape(2, 6, 4, 2, 4, 2).max(axis=(3, 5)))
    y, _ = run_graph(lambda x: nchw.avg_pool(x, [1, 1, 2, 2], [1, 1, 2, 2], 'VALID', data_format='NCHW'),
                     [([None, 6, 9, 8], X)])
    close(y, X[:, :, :8].astype(np.float64).reshape(2, 6, 4, 2, 4, 2).mean(axis=(3, 5)), 1e-6)
    b = RS.randn(6).astype(np.float32)
    y, _ = run_graph(lambda x: nchw.bias_add(x, b, data_format='NCHW'), [([None, 6, 9, 8], X)])
    np.testing.assert_array_equal(y, X + b[None, :, None, None])
    scale, offset, mean, var = RS.rand(6) + 0.5, RS.randn(6), RS.randn(6), RS.rand(6) + 0.5
    y, _ = run_graph(lambda x: nchw.fused_batch_norm(x, *[np.float32(a) for a in (scale, offset, mean, var)],
                                                     data_format='NCHW', is_training=False)[0],
                     [([None, 6, 9, 8], X)])
    c = lambda a: a[None, :, None, None]  # noqa: E731
    close(y, (X - c(mean)) / np.sqrt(c(var) + 0.001) * c(scale) + c(offset), 1e-6)


def test_the_nn_namespace_for_stored_code_routes_nchw_ops():
    nn = nchw.nn_namespace()
    assert nn.conv2d is nchw.conv2d and nn.conv2d_transpose is nchw.conv2d_transpose and nn.max_pool2d is nchw.max_pool
    assert nn.relu is v1.nn.relu and v1.nn.conv2d is not nchw.conv2d  # TensorFlow itself is not patched


# ---- dnnlib.tflib.ops ----

def np_upfirdn(x, k, up, down, pad0, pad1):
    """NumPy upfirdn on [N, C, H, W]: zero-insert, pad/crop, true 2-D convolution with k, decimate."""
    n, c, h, w = x.shape
    z = np.zeros([n, c, h * up, w * up])
    z[:, :, ::up, ::up] = x
    z = np.pad(z, [(0, 0), (0, 0), (max(pad0, 0), max(pad1, 0)), (max(pad0, 0), max(pad1, 0))])
    z = z[:, :, max(-pad0, 0):z.shape[2] - max(-pad1, 0), max(-pad0, 0):z.shape[3] - max(-pad1, 0)]
    kh, kw = k.shape
    flipped = k[::-1, ::-1]
    out = np.zeros([n, c, z.shape[2] - kh + 1, z.shape[3] - kw + 1])
    for a in range(kh):
        for b in range(kw):
            out += flipped[a, b] * z[:, :, a:a + out.shape[2], b:b + out.shape[3]]
    return out[:, :, ::down, ::down]


K1 = np.array([1, 3, 3, 1], np.float32)
K2 = np.outer(K1, K1) / 64


def test_upfirdn_resampling_matches_its_definition():
    x = RS.randn(2, 3, 8, 8).astype(np.float32)
    y, _ = run_graph(lambda: fir.upfirdn_2d(tf.transpose(x, [0, 2, 3, 1]), K2 * 4, 2, 2, 1, 1, 2, 1, 2, 1))
    close(np.transpose(y, [0, 3, 1, 2]), np_upfirdn(x, K2 * 4, 2, 1, 2, 1))
    y, _ = run_graph(lambda: fir.upfirdn_2d(tf.transpose(x, [0, 2, 3, 1]), K2, 1, 1, 2, 2, -1, 0, -1, 0))
    close(np.transpose(y, [0, 3, 1, 2]), np_upfirdn(x, K2, 1, 2, -1, 0))
    cases = [(fir.upsample_2d(x, K1), np_upfirdn(x, K2 * 4, 2, 1, 2, 1), (2, 3, 16, 16)),
             (fir.downsample_2d(x, K1), np_upfirdn(x, K2, 1, 2, 1, 1), (2, 3, 4, 4)),
             (fir.filter_2d(x, K1), np_upfirdn(x, K2, 1, 1, 2, 1), (2, 3, 8, 8))]
    for ours, expected, shape in cases:  # eager too: the safe rebuilds call these directly
        assert ours.shape == shape
        close(ours.numpy(), expected)
    nhwc = fir.upsample_2d(np.transpose(x, [0, 2, 3, 1]), K1, data_format='NHWC')
    close(np.transpose(nhwc.numpy(), [0, 3, 1, 2]), np_upfirdn(x, K2 * 4, 2, 1, 2, 1))


def test_resampling_convolutions_match_their_definition(path):
    x = RS.randn(2, 4, 6, 6).astype(np.float32)
    w = RS.randn(3, 3, 4, 5).astype(np.float32)
    y, _ = run_graph(lambda: fir.upsample_conv_2d(x, w, K1))
    # upsample_conv_2d = transposed conv (flipped w, stride 2) then FIR with pads (1, 1).
    wt = np.transpose(w[::-1, ::-1], [0, 1, 3, 2])
    close(y, np_upfirdn(np_conv2d_transpose(x, wt, 2), K2 * 4, 1, 1, 1, 1))
    assert y.shape == (2, 5, 12, 12)
    y, _ = run_graph(lambda: fir.conv_downsample_2d(x, w, K1))
    close(y, np_conv2d(np_upfirdn(x, K2, 1, 1, 2, 2), w, 2))
    assert y.shape == (2, 5, 3, 3)
    # Grouped (fused modulation): 2 samples folded into 8 channels, per-sample weights [3, 3, 4, 2*5].
    wg = RS.randn(3, 3, 4, 10).astype(np.float32)
    y, _ = run_graph(lambda xs: fir.upsample_conv_2d(tf.reshape(xs, [1, -1, 6, 6]), wg, K1),
                     [([None, 4, 6, 6], x)])
    per_sample = [np_upfirdn(np_conv2d_transpose(x[i:i + 1], np.transpose(wg[::-1, ::-1, :, 5 * i:5 * i + 5],
                                                                         [0, 1, 3, 2]), 2), K2 * 4, 1, 1, 1, 1)
                  for i in range(2)]
    close(y, np.concatenate(per_sample, axis=1))


def test_fused_bias_act():
    x = RS.randn(3, 4, 5).astype(np.float32)
    b = RS.randn(4).astype(np.float32)
    pre = x + b[None, :, None]
    np.testing.assert_allclose(fba.fused_bias_act(x, b, act='lrelu').numpy(),
                               np.where(pre > 0, pre, 0.2 * pre) * np.sqrt(2), rtol=1e-6)
    np.testing.assert_allclose(fba.fused_bias_act(x, b, act='linear').numpy(), pre, rtol=1e-6)
    np.testing.assert_allclose(fba.fused_bias_act(x, b, axis=1, act='relu', gain=1, clamp=0.5).numpy(),
                               np.clip(np.maximum(pre, 0), -0.5, 0.5), rtol=1e-6)
    with pytest.raises(ValueError, match='unknown activation'):
        fba.fused_bias_act(x, b, act='gelu')
