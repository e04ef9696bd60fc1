"""Minimal dnnlib compatible with the official code and NVIDIA's scripts: util (open_url, EasyDict), tflib
(Network and the session-era functions) and the run folders of dnnlib.submission."""
from dnnlib import util  # noqa: F401
from dnnlib.submission import SubmitConfig, SubmitTarget, current_config, make_run_dir_path, submit_run  # noqa: F401
from dnnlib.util import EasyDict  # noqa: F401


def __getattr__(name):
    if name == 'submit_config':  # NVIDIA's package variable: the running SubmitConfig, None outside submit_run
        return current_config()
    raise AttributeError("module 'dnnlib' has no attribute %r" % name)
