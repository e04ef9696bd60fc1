"""The frozen Inception graph of the official IS and FID code, run batched in TF2.

`classify_image_graph_def.pb` from `inception-2015-12-05.tgz` (what
openai/improved-gan and bioinf-jku/TTUR download). Its `ExpandDims:0` input has
a hard-coded batch of 1 and its batch norms are the legacy
`BatchNormWithGlobalNormalization` op, which TF2 functions refuse; so the graph
is imported into a `tf.compat.v1.Graph` with `ExpandDims:0` remapped to a
placeholder of shape [None, None, None, 3] and run in a `tf.compat.v1.Session`
(the one place this project uses a session). The graph's own TF1 bilinear
resize to 299x299 and its (x - 128) / 128 scaling stay inside, bit-exact.

Inputs: float32 NHWC RGB images with values 0..255, any H x W (a batch shares one size).
Outputs: `pool_3` features [N, 2048] float32, and the IS class probabilities
softmax(pool_3 @ softmax/weights) [N, 1008] float32 (no bias, all 1008 classes,
as improved-gan).
"""
import os
import tarfile

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from datasets.batching import equal_shape_batches
from dnnlib import owned_files, util
from dnnlib.output_files import atomic_output

INCEPTION_URL = 'https://download.tensorflow.org/models/image/imagenet/inception-2015-12-05.tgz'
GRAPH_MEMBER = 'classify_image_graph_def.pb'
DEFAULT_DIR = util.cache_subfolder('inception')

# Nodes the metrics depend on, with the op type the official graph has there.
REQUIRED_NODES = {
    'ExpandDims': 'ExpandDims',
    'ResizeBilinear': 'ResizeBilinear',
    'Sub': 'Sub',
    'Mul': 'Mul',
    'pool_3': 'AvgPool',
    'softmax/logits/MatMul': 'MatMul',
}
FEATURE_DIM = 2048
NUM_CLASSES = 1008
SPATIAL_NODE = 'mixed_6/conv'  # sFID's features (the ADM evaluator): its first SPATIAL_CHANNELS channels, 17 x 17
SPATIAL_CHANNELS = 7


class InceptionGraphError(ValueError):
    """The file is not the expected Inception graph."""


def graph_path(model_dir=DEFAULT_DIR, url=INCEPTION_URL):
    """Path of classify_image_graph_def.pb in model_dir, downloading it if needed: from a .tgz (TensorFlow's
    inception-2015-12-05.tgz, extracted) or a .pb (OpenAI's copy); checked to be the graph before it is kept."""
    path = os.path.join(model_dir, GRAPH_MEMBER)
    if os.path.isfile(path):
        return path
    os.makedirs(model_dir, exist_ok=True)
    owned_files.track(model_dir)
    try:
        opened = util.open_url(url, cache_dir=model_dir)
    except util.HostUnreachable as e:
        raise util.DownloadError('%s\nNo network? Download %s elsewhere, extract %s and pass it with -i PATH.'
                                 % (e, url, GRAPH_MEMBER)) from e
    with opened as f:
        data = graph_bytes(f, url)
    parse_graph_def(data, url)  # a file that is not the graph never enters the cache
    with atomic_output(path, 'wb') as out:
        out.write(data)
    return path


def graph_bytes(f, where):
    """The bytes of classify_image_graph_def.pb from an open file: the file itself when `where` names a .pb,
    else its member of a .tgz."""
    if where.endswith('.pb'):
        return f.read()
    with tarfile.open(fileobj=f, mode='r:gz') as archive:
        member = next((m for m in archive.getmembers() if os.path.basename(m.name) == GRAPH_MEMBER), None)
        if member is None or not member.isfile():
            raise InceptionGraphError('%s has no %s' % (where, GRAPH_MEMBER))
        return archive.extractfile(member).read()


def graph_def_of_archive(path):
    """The checked GraphDef of classify_image_graph_def.pb inside an inception-2015-12-05.tgz at path."""
    with open(path, 'rb') as f:
        return parse_graph_def(graph_bytes(f, path), path)


def load_graph_def(path):
    """Parse a frozen GraphDef and check that it is the Inception graph the official code uses."""
    with open(path, 'rb') as f:
        return parse_graph_def(f.read(), path)


def parse_graph_def(data, where):
    """A GraphDef from bytes, checked to be the Inception graph the official code uses."""
    graph_def = tf.compat.v1.GraphDef()
    try:
        graph_def.ParseFromString(data)
    except Exception as e:
        raise InceptionGraphError('%s is not a GraphDef (%s)' % (where, e)) from e
    check_graph_def(graph_def, where)
    return graph_def


def check_graph_def(graph_def, where='graph'):
    nodes = {node.name: node for node in graph_def.node}
    problems = []
    for name, op in REQUIRED_NODES.items():
        if name not in nodes:
            problems.append('no node %r' % name)
        elif nodes[name].op != op:
            problems.append('node %r is a %s, expected %s' % (name, nodes[name].op, op))
    if problems:
        raise InceptionGraphError('%s is not the inception-2015-12-05 graph: %s' % (where, '; '.join(problems)))


class InceptionNet:
    """Batched pool_3 features and IS probabilities from the official frozen graph.

    Args:
        graph_file: path of classify_image_graph_def.pb (default: downloaded into _cache/inception).
        graph_def: a checked GraphDef instead (e.g. graph_def_of_archive).
    """

    def __init__(self, graph_file=None, graph_def=None):
        if graph_def is None:
            graph_def = load_graph_def(graph_file or graph_path())
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.images = tf.compat.v1.placeholder(tf.float32, [None, None, None, 3], name='InputTensor')
            tf.graph_util.import_graph_def(graph_def, name='', input_map={'ExpandDims:0': self.images})
            pool3 = self.graph.get_tensor_by_name('pool_3:0')
            if pool3.shape[-1] != FEATURE_DIM:
                raise InceptionGraphError('pool_3 has %s channels, expected %d' % (pool3.shape[-1], FEATURE_DIM))
            self.pool3 = tf.reshape(pool3, [-1, FEATURE_DIM])
            weights = self.graph.get_operation_by_name('softmax/logits/MatMul').inputs[1]
            if weights.shape.as_list() != [FEATURE_DIM, NUM_CLASSES]:
                raise InceptionGraphError('softmax weights have shape %s, expected [%d, %d]'
                                          % (weights.shape.as_list(), FEATURE_DIM, NUM_CLASSES))
            self.probabilities = tf.nn.softmax(tf.matmul(self.pool3, weights))
            # IS probabilities of given pool_3 activations (the ADM evaluator's softmax graph)
            self.pool_input = tf.compat.v1.placeholder(tf.float32, [None, FEATURE_DIM], name='PoolInput')
            self.pool_probabilities = tf.nn.softmax(tf.matmul(self.pool_input, weights))
            self.spatial = None
            if SPATIAL_NODE in {node.name for node in graph_def.node}:
                mixed6 = self.graph.get_tensor_by_name(SPATIAL_NODE + ':0')[..., :SPATIAL_CHANNELS]
                self.spatial = tf.reshape(mixed6, [tf.shape(mixed6)[0], -1])
        config = tf.compat.v1.ConfigProto(allow_soft_placement=True)
        config.gpu_options.allow_growth = True
        self.session = tf.compat.v1.Session(graph=self.graph, config=config)

    def run(self, images_nhwc, want='pool3'):
        """pool_3 [N, 2048] or probabilities [N, 1008] (float32) of one batch [N, H, W, 3] with values 0..255."""
        images = np.asarray(images_nhwc, dtype=np.float32)
        if images.ndim != 4 or images.shape[3] != 3:
            raise ValueError('images must be [N, H, W, 3], got %s' % (images.shape,))
        tensor = self.pool3 if want == 'pool3' else self.probabilities
        return self.session.run(tensor, {self.images: images})

    def run_pool_and_spatial(self, images_nhwc):
        """(pool_3 [N, 2048], mixed_6/conv[..., :7] flattened [N, 17 * 17 * 7]) float32 of one batch of
        [N, H, W, 3] images (0..255), in one pass: the ADM evaluator's features for FID/P&R and for sFID."""
        if self.spatial is None:
            raise InceptionGraphError('the graph has no %s node (needed for sFID)' % SPATIAL_NODE)
        return self.session.run([self.pool3, self.spatial], {self.images: np.asarray(images_nhwc, np.float32)})

    def probabilities_of(self, pool, batch_size=512):
        """IS class probabilities [N, 1008] float32 of pool_3 activations [N, 2048], in batches of batch_size."""
        parts = [self.session.run(self.pool_probabilities, {self.pool_input: pool[begin:begin + batch_size]})
                 for begin in range(0, len(pool), batch_size)]
        return np.concatenate(parts, axis=0) if parts else np.zeros([0, NUM_CLASSES], np.float32)

    def run_all(self, images, want='pool3', batch_size=100, progress=True, desc='inception', total=None):
        """Outputs for an iterable of HxWx3 images (0..255); consecutive equal-size images are batched."""
        if total is None and hasattr(images, '__len__'):
            total = len(images)
        outputs = []
        with tqdm(total=total, desc=desc, disable=not progress, unit='img') as bar:
            for batch in equal_shape_batches(images, batch_size):
                outputs.append(self.run(batch, want))
                bar.update(len(batch))
        dim = FEATURE_DIM if want == 'pool3' else NUM_CLASSES
        return np.concatenate(outputs, axis=0) if outputs else np.zeros([0, dim], np.float32)

    def close(self):
        self.session.close()
