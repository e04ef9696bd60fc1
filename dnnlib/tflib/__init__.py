"""TF2 stand-in for the official dnnlib.tflib: Network (its state; networks.loading attaches what runs it) and
image helpers."""
from dnnlib.tflib.network import Network, NetworkPickleError  # noqa: F401
from dnnlib.tflib.tfutil import convert_images_to_uint8  # noqa: F401
