"""Command-line tools print no TensorFlow C++ log lines, at start-up or later, and keep every other stderr line."""
import os
import subprocess
import sys

from conftest import REPO

FILTER_SCRIPT = r'''
import os, subprocess, sys
sys.path.insert(0, %r)
from dnnlib import tf_logging
tf_logging.quiet_tensorflow()
import tensorflow as tf
g = tf.Graph()
with g.as_default():
    x = tf.compat.v1.placeholder(tf.float32, [None])
    with tf.compat.v1.Session(graph=g) as s:
        s.run(x * 2, {x: [1.0]})  # a TF1 graph session, where absl/MLIR notices appear on some CPUs
os.write(2, b'I0000 00:00:1796314195.062697    7546 mlir_graph_optimization_pass.cc:437] MLIR V1 pass\n')
os.write(2, b'W1203 15:34:25.123456    7546 some_op.cc:12] a warning\n')
os.write(2, b'E0000 00:00:1796314195.062697    7546 util.cc:131] oneDNN supports DT_HALF only on ...\n')
os.write(2, b'F0000 00:00:1796314195.062697    7546 op.cc:1] a fatal line\n')
print('python line', file=sys.stderr)
subprocess.run([sys.executable, '-c', 'import sys; sys.stderr.write("child line\\n")'])
'''


def run(args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k != 'TF_CPP_MIN_LOG_LEVEL'}
    env.update(env_extra or {})
    return subprocess.run([sys.executable] + args, capture_output=True, text=True, timeout=300, cwd=REPO, env=env)


def test_tensorflow_log_lines_are_dropped_and_everything_else_kept():
    result = run(['-c', FILTER_SCRIPT % REPO])
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert sorted(lines) == sorted(['F0000 00:00:1796314195.062697    7546 op.cc:1] a fatal line', 'python line',
                                    'child line']), lines


def test_the_user_setting_turns_the_filter_off():
    result = run(['-c', FILTER_SCRIPT % REPO], {'TF_CPP_MIN_LOG_LEVEL': '0'})
    assert 'MLIR V1 pass' in result.stderr and 'a warning' in result.stderr


def test_ms_ssim_help_is_quiet():
    result = run([os.path.join('metrics', 'ms_ssim.py'), '--help'])
    assert result.returncode == 0 and result.stderr == '' and 'usage' in result.stdout
