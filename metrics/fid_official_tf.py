"""Frechet Inception Distance exactly as bioinf-jku/TTUR computes it, plus KID, on TF2.

    python metrics/fid_official_tf.py PATH1 PATH2 [--batch_size 50] [--gpu 0] [-i GRAPH] [--kid]

Each PATH is a folder of images or a TTUR-style statistics file (.npz with mu, sigma).
Activations: pool_3 of the official Inception graph for images N x H x W x 3 in 0..255,
in batches of `batch_size`; like TTUR, the last N mod batch_size images are dropped
(pass --keep_remainder to use them). Statistics: float64 mean and np.cov(rowvar=False).
Distance: TTUR's `calculate_frechet_distance` (sqrtm of sigma1 sigma2, 1e-6 diagonal
offset only when that root is not finite, imaginary diagonal check at atol 1e-3), written
without SciPy's deprecated `disp` argument.
KID: torch-fidelity's definition (polynomial kernel (x.y/d + 1)^3, 100 subsets of 1000,
unbiased MMD^2, RandomState(2020)); returns mean and std over subsets.
"""
import argparse
import itertools
import os
import sys
import warnings

if __package__ in (None, ''):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from scipy import linalg  # noqa: E402

from dnnlib.array_files import load_array_file  # noqa: E402
from metrics.cli_options import add_inception_options, apply_gpu_choice, positive_int, run_cli  # noqa: E402


def calculate_frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """Frechet distance between N(mu1, sigma1) and N(mu2, sigma2), float64 (TTUR's stable version)."""
    mu1, sigma1 = check_statistics(np.atleast_1d(mu1), np.atleast_2d(sigma1), 'first statistics')
    mu2, sigma2 = check_statistics(np.atleast_1d(mu2), np.atleast_2d(sigma2), 'second statistics')
    if mu1.shape != mu2.shape:
        raise ValueError('mean vectors have different lengths %s and %s' % (mu1.shape, mu2.shape))
    if sigma1.shape != sigma2.shape:
        raise ValueError('covariances have different dimensions %s and %s' % (sigma1.shape, sigma2.shape))
    diff = mu1 - mu2
    tr_covmean = np.trace(covariance_root(sigma1, sigma2, eps))
    return diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_covmean


def covariance_root(sigma1, sigma2, eps=1e-6):
    """sqrtm(sigma1 . sigma2) as TTUR takes it: retried with eps on both diagonals when not finite, its imaginary
    part dropped when the diagonal's is within 1e-3 (ValueError otherwise) -> real [d, d]."""
    covmean = linalg.sqrtm(sigma1.dot(sigma2))
    if not np.isfinite(covmean).all():
        warnings.warn('fid calculation produces singular product; adding %s to diagonal of cov estimates' % eps)
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError('Imaginary component {}'.format(np.max(np.abs(covmean.imag))))
        covmean = covmean.real
    return covmean


def calculate_activation_statistics(act):
    """(mu [d], sigma [d, d]) float64 of activations [N, d]: np.mean and unbiased np.cov."""
    act = np.asarray(act, dtype=np.float64)
    if act.ndim != 2 or len(act) < 2:
        raise ValueError('need activations [N >= 2, d], got shape %s' % (act.shape,))
    if not np.isfinite(act).all():
        raise ValueError('activations contain NaN or inf')
    return np.mean(act, axis=0), np.cov(act, rowvar=False)


def get_activations(images, inception, batch_size=50, keep_remainder=False, progress=True, total=None):
    """pool_3 activations [n, 2048] float64 of HxWx3 images (0..255); n = N - N mod batch_size unless keep_remainder."""
    images = list(images) if total is None else images
    count = len(images) if total is None else total
    used = count if keep_remainder else (count // batch_size) * batch_size
    if used == 0:
        raise ValueError('%d images and batch size %d: no full batch (TTUR drops the remainder; use a smaller '
                         'batch size or keep_remainder)' % (count, batch_size))
    if used < count:
        print('Note: using %d of %d images (TTUR drops the last %d = N mod batch_size)' % (used, count, count - used))
    act = inception.run_all(itertools.islice(images, used), want='pool3', batch_size=batch_size, progress=progress, desc='FID',
                            total=used)
    return act.astype(np.float64)


def load_statistics(path):
    """(mu [d], sigma [d, d]) float64 from a TTUR-style .npz; ValueError naming what is wrong."""
    f = load_array_file(path, 'statistics file', '.npz with mu and sigma')
    if not isinstance(f, np.lib.npyio.NpzFile):
        raise ValueError('not a NumPy statistics file (.npz with mu and sigma): %s holds a single array' % path)
    with f:
        missing = [key for key in ('mu', 'sigma') if key not in f.files]
        if missing:
            raise ValueError('%s has no %s array (TTUR statistics hold mu and sigma; it holds %s)'
                             % (path, ' and no '.join(missing), f.files))
        mu, sigma = f['mu'], f['sigma']
    return check_statistics(mu, sigma, path)


def check_statistics(mu, sigma, what='statistics'):
    """Validate mu [d] and sigma [d, d], finite and real -> float64 arrays."""
    mu, sigma = np.asarray(mu), np.asarray(sigma)
    if mu.ndim != 1 or mu.shape[0] < 1:
        raise ValueError('%s: mu must be a vector [d], got shape %s' % (what, list(mu.shape)))
    if sigma.shape != (mu.shape[0], mu.shape[0]):
        raise ValueError('%s: sigma must be [%d, %d] to match mu, got shape %s'
                         % (what, mu.shape[0], mu.shape[0], list(sigma.shape)))
    for name, value in (('mu', mu), ('sigma', sigma)):
        if not np.issubdtype(value.dtype, np.number) or np.iscomplexobj(value):
            raise ValueError('%s: %s must hold real numbers, got dtype %s' % (what, name, value.dtype))
        if not np.isfinite(value).all():
            raise ValueError('%s: %s contains NaN or inf' % (what, name))
    mu, sigma = mu.astype(np.float64), sigma.astype(np.float64)
    check_covariance(sigma, what)
    return mu, sigma


def check_covariance(sigma, what='statistics', rel_tol=1e-6):
    """A covariance is symmetric and positive semi-definite up to rounding; ValueError naming `what` otherwise.

    rel_tol is relative to the largest |entry| (symmetry) and the largest eigenvalue (negative eigenvalues):
    np.cov of float32 or float64 activations stays many orders of magnitude inside it.
    """
    scale = np.abs(sigma).max()
    asymmetry = np.abs(sigma - sigma.T).max()
    if asymmetry > rel_tol * scale:
        raise ValueError('%s: sigma is not symmetric (max |sigma - sigma^T| = %.3g, %.3g of its largest entry); not a '
                         'covariance matrix' % (what, asymmetry, asymmetry / scale))
    eigenvalues = np.linalg.eigvalsh(sigma)
    if eigenvalues[0] < -rel_tol * max(eigenvalues[-1], 0.0):
        raise ValueError('%s: sigma has a negative eigenvalue %.3g (largest %.3g); not a covariance matrix'
                         % (what, eigenvalues[0], eigenvalues[-1]))


def save_statistics(path, mu, sigma):
    """Write TTUR-style statistics (np.savez_compressed, keys mu and sigma), atomically."""
    from dnnlib.output_files import atomic_output
    with atomic_output(path, 'wb') as f:
        np.savez_compressed(f, mu=mu, sigma=sigma)


def statistics_of_path(path, inception_loader, batch_size=50, keep_remainder=False, progress=True,
                       want_activations=False):
    """(mu, sigma, activations or None) of a stats .npz or an image folder."""
    if path.endswith('.npz'):
        mu, sigma = load_statistics(path)
        return mu, sigma, None
    from metrics.image_inputs import folder_images
    images, count = folder_images(path)
    act = get_activations(images, inception_loader(), batch_size, keep_remainder, progress, total=count)
    mu, sigma = calculate_activation_statistics(act)
    return mu, sigma, act if want_activations else None


def polynomial_kernel(x, y, degree=3, gamma=None, coef0=1.0):
    gamma = 1.0 / x.shape[1] if gamma is None else gamma
    return (x @ y.T * gamma + coef0) ** degree


def kernel_inception_distance(features1, features2, subsets=100, subset_size=1000, degree=3, gamma=None, coef0=1.0,
                              seed=2020):
    """(mean, std) of unbiased polynomial-kernel MMD^2 over random subsets (torch-fidelity's KID)."""
    f1 = np.asarray(features1, np.float64)
    f2 = np.asarray(features2, np.float64)
    if f1.ndim != 2 or f2.ndim != 2 or f1.shape[1] != f2.shape[1]:
        raise ValueError('KID needs two feature arrays [N, d] of equal width, got %s and %s' % (f1.shape, f2.shape))
    if len(f1) < subset_size or len(f2) < subset_size:
        raise ValueError('KID subset size %d is larger than the feature sets (%d, %d)'
                         % (subset_size, len(f1), len(f2)))
    if subset_size < 2:
        raise ValueError('KID subset size must be >= 2')
    rng = np.random.RandomState(seed)
    values = []
    m = subset_size
    for _ in range(subsets):
        x = f1[rng.choice(len(f1), m, replace=False)]
        y = f2[rng.choice(len(f2), m, replace=False)]
        k_xx = polynomial_kernel(x, x, degree, gamma, coef0)
        k_yy = polynomial_kernel(y, y, degree, gamma, coef0)
        k_xy = polynomial_kernel(x, y, degree, gamma, coef0)
        mmd2 = ((k_xx.sum() - np.trace(k_xx)) + (k_yy.sum() - np.trace(k_yy))) / (m * (m - 1)) \
            - 2 * k_xy.sum() / (m * m)
        values.append(mmd2)
    return float(np.mean(values)), float(np.std(values))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('path', nargs=2, help='image folders or TTUR .npz statistics')
    add_inception_options(parser, batch_size=50)
    parser.add_argument('--keep_remainder', action='store_true', help='use all images (TTUR drops N mod batch)')
    parser.add_argument('--kid', action='store_true', help='also KID (needs two image folders)')
    parser.add_argument('--kid_subset_size', type=positive_int, default=1000)
    parser.add_argument('--kid_subsets', type=positive_int, default=100)
    args = parser.parse_args(argv)
    apply_gpu_choice(args)
    from dnnlib.tf_logging import quiet_tensorflow
    quiet_tensorflow()
    net = {}

    def inception():
        if 'net' not in net:
            from metrics.inception_graph import InceptionNet
            net['net'] = InceptionNet(args.inception)
        return net['net']
    def body():
        if args.kid and any(p.endswith('.npz') for p in args.path):
            raise ValueError('KID needs the activations: give two image folders')
        if args.kid:  # known before any Inception pass: the subsets must fit in both sets
            from metrics.image_inputs import folder_images
            for path in args.path:
                count = folder_images(path, verbose=False)[1]
                usable = count if args.keep_remainder else count - count % args.batch_size
                if usable < args.kid_subset_size:
                    raise ValueError('--kid_subset_size %d is larger than the %d images of %s used (%d found%s); '
                                     'use a smaller --kid_subset_size' % (
                                         args.kid_subset_size, usable, path, count,
                                         '' if args.keep_remainder else ', the last N mod --batch_size dropped'))
        stats = [statistics_of_path(p, inception, args.batch_size, args.keep_remainder, not args.quiet,
                                    want_activations=args.kid) for p in args.path]
        fid = calculate_frechet_distance(stats[0][0], stats[0][1], stats[1][0], stats[1][1])
        print('FID: %s' % fid)
        if args.kid:
            mean, std = kernel_inception_distance(stats[0][2], stats[1][2], args.kid_subsets, args.kid_subset_size)
            print('KID: %s +- %s' % (mean, std))
        return 0
    return run_cli(body)


if __name__ == '__main__':
    sys.exit(main())
