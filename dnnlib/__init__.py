"""Minimal dnnlib compatible with the official code: util (open_url, EasyDict) and tflib (Network)."""
from dnnlib import util  # noqa: F401
from dnnlib.util import EasyDict  # noqa: F401
