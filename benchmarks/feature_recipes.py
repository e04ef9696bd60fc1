"""Synthetic feature sets used by benchmarks and the demo (float32 outputs)."""
import numpy as np


def vgglike(basis_seed, seed, n, d=4096, latent_dim=32, latent_scale=1.0, noise=0.8, bias=-0.6, gain=2.0):
    """Non-negative, correlated features [n, d] resembling VGG-16 fc2 (post-ReLU) activations, values ~0..10."""
    basis = np.random.RandomState(basis_seed).randn(latent_dim, d) / np.sqrt(latent_dim)
    rs = np.random.RandomState(seed)
    z = rs.randn(n, latent_dim) * latent_scale
    pre = 1.2 * (z @ basis) + noise * rs.randn(n, d) + bias
    return (gain * np.maximum(pre, 0.0)).astype(np.float32)


def benchmark_pair(n, d=4096):
    """The benchmarks' real and generated VGG-like sets [n, d] float32 (one basis; the generated set shrunk and
    shifted a little, so precision and recall are neither 0 nor 1)."""
    return vgglike(300, 1, n, d), vgglike(300, 2, n, d, latent_scale=0.95, bias=-0.58)
