"""TensorFlow without its C++ log lines on stderr: call `quiet_tensorflow()` first thing in a command-line tool."""
import os
import re


# TensorFlow's C++ log lines: glog/absl style 'I1203 15:34:25.123456  1234 file.cc:12] ...' (or the
# 'I0000 00:00:<epoch>' form absl uses before initialization) and absl's one-time preamble.
_TF_LOG_LINE = re.compile(rb'^([IWE]\d{4} \d\d:\d\d:[\d.]+ +\d+ [\w./-]+:\d+\]|WARNING: All log messages before absl)')


def quiet_tensorflow():
    """Import TensorFlow without its C++ log lines on stderr, then and later; silence Python-side warnings.

    Unless the user set TF_CPP_MIN_LOG_LEVEL (then their choice stands): sets it to 2, mutes file
    descriptor 2 while TensorFlow loads and runs its first op (the oneDNN notice and the CPU-feature
    guard print before any level applies), and from then on passes what C++ code writes to fd 2
    through a filter that drops TensorFlow's info, warning and error log lines (e.g. absl's preamble,
    MLIR notices when a graph session starts, oneDNN's float16 fallback notice; a real op error also
    reaches Python as an exception) and forwards everything else, fatal (F) lines included. Python's own `sys.stderr` (messages, warnings, progress bars) writes directly.
    Call before anything imports tensorflow; later calls do nothing.
    """
    import logging
    import sys
    if 'tensorflow' in sys.modules:
        return
    user_choice = 'TF_CPP_MIN_LOG_LEVEL' in os.environ
    saved = None
    if not user_choice:
        os.environ['TF_CPP_MIN_LOG_LEVEL'] = '2'
        try:
            sys.stderr.flush()
            saved = os.dup(2)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.close(devnull)
        except OSError:  # no usable descriptor 2 (some embedded interpreters): just import
            saved = None
    try:
        import tensorflow as tf
        tf.constant(0) + 1  # device and CPU-feature initialization happen here
    finally:
        if saved is not None:
            _filter_native_stderr(saved)
    if not user_choice:
        tf.get_logger().setLevel(logging.ERROR)


def _filter_native_stderr(real_fd):
    """Route fd 2 through a thread that drops TensorFlow log lines; sys.stderr writes to `real_fd` directly."""
    import atexit
    import sys
    import threading
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, 2)
    os.close(write_fd)
    sys.stderr = open(os.dup(real_fd), 'w', buffering=1, encoding=sys.stderr.encoding or 'utf-8',
                      errors='backslashreplace')

    def forward():
        with open(read_fd, 'rb', buffering=0) as pipe:
            for line in iter(pipe.readline, b''):
                if not _TF_LOG_LINE.match(line):
                    os.write(real_fd, line)

    thread = threading.Thread(target=forward, name='native-stderr-filter', daemon=True)
    thread.start()

    def drain():  # close the pipe's last writer so the thread sees the end and forwards what is left
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
        thread.join(timeout=2)
    atexit.register(drain)
