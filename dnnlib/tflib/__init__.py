"""TF2 stand-in for the official dnnlib.tflib: Network (rebuilt on first use; see network.py), the image helper
and the session-era functions NVIDIA's scripts call (tf1_api: init_tf, run, set_vars, is_tf_expression)."""
from dnnlib.tflib.network import Network, NetworkPickleError  # noqa: F401
from dnnlib.tflib.tf1_api import VarHandle, init_tf, is_tf_expression, run, set_vars, unsupported  # noqa: F401
from dnnlib.tflib.tfutil import convert_images_to_uint8  # noqa: F401


def __getattr__(name):
    """Names of NVIDIA's tflib that need a TF1 graph or train networks: a clear refusal naming the alternative."""
    raise unsupported(name)
