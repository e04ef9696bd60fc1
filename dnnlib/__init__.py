"""Minimal dnnlib compatible with the official code: util (open_url) and tflib (Network)."""
