"""A stand-in for classify_image_graph_def.pb made by the tests (random weights).

Same node names, op types and quirks as the official inception-2015-12-05 graph where the
metrics touch it: DecodeJpeg -> Cast -> ExpandDims (static batch 1) -> ResizeBilinear to
299x299 (legacy TF1 sampling) -> Sub 128 -> Mul 1/128 -> convolutions with legacy
BatchNormWithGlobalNormalization -> AvgPool 'pool_3' [N, 1, 1, 2048] -> 'pool_3/_reshape'
hard-coded to [1, 2048] -> 'softmax/logits/MatMul' with 'softmax/weights' [2048, 1008],
+ 'softmax/biases' -> 'softmax'. Written with GraphDef producer version 8, as the legacy
batch-norm op requires.
"""
import numpy as np
import tensorflow as tf
from tensorflow.core.framework import attr_value_pb2, node_def_pb2

FEATURES = 2048
CLASSES = 1008


def _const(graph, name, value):
    with graph.as_default():
        return tf.constant(value, name=name)


def build_graph_def(seed=0, width=32):
    rs = np.random.RandomState(seed)
    g = tf.Graph()
    with g.as_default():
        contents = tf.compat.v1.placeholder(tf.string, [], name='DecodeJpeg/contents')
        decoded = tf.io.decode_jpeg(contents, channels=3, name='DecodeJpeg')
        cast = tf.cast(decoded, tf.float32, name='Cast')
        expand = tf.expand_dims(cast, tf.constant(0, name='ExpandDims/dim'), name='ExpandDims')
        resized = tf.compat.v1.image.resize_bilinear(expand, tf.constant([299, 299], name='ResizeBilinear/size'),
                                                     align_corners=False, name='ResizeBilinear')
        x = tf.subtract(resized, tf.constant(128.0, name='Sub/y'), name='Sub')
        x = tf.multiply(x, tf.constant(0.0078125, name='Mul/y'), name='Mul')
        w1 = tf.constant((rs.randn(3, 3, 3, width) * 0.3).astype(np.float32), name='conv/conv2d_params')
        x = tf.nn.conv2d(x, w1, strides=[1, 4, 4, 1], padding='VALID', name='conv/Conv2D')  # 75x75
        bn_in = x
        # Placeholder op for the legacy batch norm; replaced in the GraphDef below.
        x = tf.identity(bn_in, name='conv/batchnorm_standin')
        x = tf.nn.relu(x, name='conv')
        w2 = tf.constant((rs.randn(3, 3, width, FEATURES) * 0.1).astype(np.float32), name='conv_1/conv2d_params')
        x = tf.nn.conv2d(x, w2, strides=[1, 9, 9, 1], padding='VALID', name='conv_1/Conv2D')  # 9x9
        x = tf.nn.relu(x, name='conv_1')
        pool = tf.nn.avg_pool2d(x, ksize=9, strides=1, padding='VALID', name='pool_3')
        flat = tf.reshape(pool, tf.constant([1, FEATURES], name='pool_3/_reshape/shape'), name='pool_3/_reshape')
        weights = tf.constant((rs.randn(FEATURES, CLASSES) * 0.05).astype(np.float32), name='softmax/weights')
        biases = tf.constant((rs.randn(CLASSES) * 0.5).astype(np.float32), name='softmax/biases')
        logits = tf.matmul(flat, weights, name='softmax/logits/MatMul')
        logits = tf.add(logits, biases, name='softmax/logits')
        tf.nn.softmax(logits, name='softmax')
        for name, value in [('conv/batchnorm/moving_mean', rs.randn(width) * 0.1),
                            ('conv/batchnorm/moving_variance', rs.rand(width) + 0.5),
                            ('conv/batchnorm/beta', rs.randn(width) * 0.1),
                            ('conv/batchnorm/gamma', rs.rand(width) + 0.5)]:
            tf.constant(value.astype(np.float32), name=name)
    graph_def = g.as_graph_def()
    for node in graph_def.node:
        if node.name == 'conv/batchnorm_standin':
            node.Clear()
            node.name = 'conv/batchnorm'
            node.op = 'BatchNormWithGlobalNormalization'
            node.input.extend(['conv/Conv2D', 'conv/batchnorm/moving_mean', 'conv/batchnorm/moving_variance',
                               'conv/batchnorm/beta', 'conv/batchnorm/gamma'])
            node.attr['T'].CopyFrom(attr_value_pb2.AttrValue(type=tf.float32.as_datatype_enum))
            node.attr['variance_epsilon'].CopyFrom(attr_value_pb2.AttrValue(f=0.001))
            node.attr['scale_after_normalization'].CopyFrom(attr_value_pb2.AttrValue(b=True))
        elif node.name == 'conv':
            del node.input[:]
            node.input.append('conv/batchnorm')
    graph_def.versions.producer = 8
    graph_def.versions.min_consumer = 0
    return graph_def


def write_graph(path, seed=0):
    with open(path, 'wb') as f:
        f.write(build_graph_def(seed).SerializeToString())
    return path


def reference_pool3(graph_def, image_hwc):
    """pool_3 of ONE image through the graph's own batch-1 path (DecodeJpeg bypassed via ExpandDims feed)."""
    g = tf.Graph()
    with g.as_default():
        tf.graph_util.import_graph_def(graph_def, name='')
    with tf.compat.v1.Session(graph=g) as sess:
        pool, soft = sess.run(['pool_3:0', 'softmax:0'], {'ExpandDims:0': image_hwc[None].astype(np.float32)})
    return pool.reshape(-1), soft.reshape(-1)


__all__ = ['build_graph_def', 'write_graph', 'reference_pool3', 'node_def_pb2']
