"""Benchmark: NCHW TF1 graphs on CPUs without NCHW kernels -- our transposing wrappers vs grappler's conversion.

    python benchmarks/bench_nchw.py [--repeats 5]

Builds a VGG-like NCHW graph (3x3 conv + bias + ReLU, 2x2 max-pool, a blur as NHWC-less depthwise
conv, a stride-2 transposed conv), as NVIDIA's TF1 sources write it, and runs it in a subprocess per
oneDNN setting (TF_ENABLE_ONEDNN_OPTS=0: Eigen kernels, as on AMD/Apple CPUs; =1: oneDNN) three ways:
`wrappers` (dnnlib.tflib.nchw: transpose to NHWC where the kernel is missing), `grappler` (the plain
ops with RewriterConfig.cpu_layout_conversion = NCHW_TO_NHWC) and `native` (the plain ops), and the
first two again without the depthwise op (`-no-dw`), which grappler cannot convert. Prints
seconds per run, failures, and each output's max difference from the oneDNN native output.
"""
import argparse
import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHILD = r'''
import json, sys, time
sys.path.insert(0, %(repo)r)
from dnnlib.tf_logging import quiet_tensorflow
quiet_tensorflow()
import numpy as np, tensorflow as tf
from tensorflow.core.protobuf import rewriter_config_pb2
from dnnlib.tflib import nchw
v1 = tf.compat.v1
rs = np.random.RandomState(0)
images = rs.rand(8, 3, 128, 128).astype(np.float32)
weights = [rs.randn(3, 3, a, b).astype(np.float32) * 0.1 for a, b in [(3, 32), (32, 32), (32, 64), (64, 64)]]
blur = np.tile((np.outer([1, 2, 1], [1, 2, 1]) / 16.0).astype(np.float32)[:, :, None, None], [1, 1, 64, 1])
up = rs.randn(3, 3, 32, 64).astype(np.float32) * 0.1
results = {}
for mode in ('wrappers', 'grappler', 'native', 'wrappers-no-dw', 'grappler-no-dw'):
    nn = nchw if mode.startswith('wrappers') else v1.nn
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, [None, 3, 128, 128])
        y = x
        for i, w in enumerate(weights):
            y = tf.nn.relu(nn.bias_add(nn.conv2d(y, w, [1, 1, 1, 1], 'SAME', data_format='NCHW'),
                                       tf.fill([w.shape[3]], 0.1), data_format='NCHW'))
            if i %% 2:
                y = nn.max_pool(y, [1, 1, 2, 2], [1, 1, 2, 2], 'VALID', data_format='NCHW')
        if not mode.endswith('no-dw'):
            y = nn.depthwise_conv2d(y, blur, [1, 1, 1, 1], 'SAME', data_format='NCHW')
        y = nn.conv2d_transpose(y, up, [tf.shape(y)[0], 32, 64, 64], [1, 1, 2, 2], 'SAME', data_format='NCHW')
    config = v1.ConfigProto()
    if mode.startswith('grappler'):
        config.graph_options.rewrite_options.cpu_layout_conversion = rewriter_config_pb2.RewriterConfig.NCHW_TO_NHWC
    session = v1.Session(graph=graph, config=config)
    try:
        out = session.run(y, {x: images})
        times = []
        for _ in range(%(repeats)d):
            start = time.perf_counter()
            session.run(y, {x: images})
            times.append(time.perf_counter() - start)
        np.save(%(prefix)r + mode + '.npy', out)
        results[mode] = {'seconds': min(times)}
    except tf.errors.OpError as e:
        results[mode] = {'error': ' '.join(l for l in e.message.splitlines() if 'only supports' in l or 'not supported' in l or 'NHWC' in l)[:110] or e.message.splitlines()[0][:90]}
print(json.dumps(results))
'''


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=5)
    args = parser.parse_args()
    import tempfile
    import numpy as np
    folder = tempfile.mkdtemp(prefix='bench_nchw_')
    table = {}
    for onednn in ('1', '0'):
        prefix = os.path.join(folder, 'onednn%s_' % onednn)
        env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS=onednn)
        out = subprocess.run([sys.executable, '-c', CHILD % dict(repo=REPO, repeats=args.repeats, prefix=prefix)],
                             env=env, capture_output=True, text=True, check=True)
        table[onednn] = (prefix, json.loads(out.stdout.strip().splitlines()[-1]))
    reference = np.load(table['1'][0] + 'native.npy')
    reference_no_dw = np.load(table['1'][0] + 'wrappers-no-dw.npy')
    print('%-20s %-15s %10s %14s' % ('kernels', 'NCHW by', 'seconds', 'max |diff|'))
    for onednn, name in (('1', 'oneDNN'), ('0', 'Eigen (no oneDNN)')):
        prefix, results = table[onednn]
        for mode, result in results.items():
            if 'error' in result:
                print('%-20s %-15s %10s  fails: %s' % (name, mode, '-', result['error']))
                continue
            diff = np.abs(np.load(prefix + mode + '.npy') - (reference_no_dw if 'no-dw' in mode else reference)).max()
            print('%-20s %-15s %10.4f %14.2e' % (name, mode, result['seconds'], diff))
    print('(max |diff| against oneDNN native NCHW -- for *-no-dw, the graph without the depthwise blur, against\n'
          ' oneDNN wrappers-no-dw, which run natively there; output values up to %.1f)' % np.abs(reference).max())


if __name__ == '__main__':
    main()
