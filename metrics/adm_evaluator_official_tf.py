"""OpenAI's ADM evaluator on today's TensorFlow: Inception Score, FID, sFID, precision and recall of image batches.

    python -m metrics.adm_evaluator_official_tf REF.npz SAMPLE.npz [--inception FILE] [--json FILE]

prints the five lines of openai/guided-diffusion `evaluations/evaluator.py` (commit 22e0df8),
"Inception Score: X", "FID: X", "sFID: X", "Precision: X", "Recall: X", with its numbers on the same
batches and Inception graph. Its semantics, kept here:
* batches: .npz with `arr_0` uint8 [N, H, W, 3] (metrics/adm_batches.py); a reference batch may also hold the
  dataset statistics mu, sigma, mu_s, sigma_s, which FID/sFID then use (P&R always use its images);
* features: the frozen Inception graph's pool_3 [N, 2048] (IS, FID, P&R) and mixed_6/conv[..., :7] flattened
  [N, 2023] (sFID); images enter at ExpandDims:0 as float32 0..255 in batches of 64 and the graph resizes them;
* statistics: mu = np.mean of the float32 activations (float32), sigma = np.cov (float64);
* FID/sFID: TTUR's Frechet distance with the sample's statistics first, sqrtm(sigma_sample . sigma_ref), the
  1e-6 diagonal retry, the imaginary-part check;
* IS: softmax(pool_3 @ softmax weights) without the bias, batches of 512, splits of 5,000 rows;
* P&R: metrics/adm_pr.py (float16 blocks of 10,000 with a float32 fallback per block, k = 3, `<=`).
A batch may instead be an activations file (keys pool [N, 2048], spatial [N, 2023], as --save_activations
writes): a port's own Inception features then go through the evaluator's arithmetic.
"""
import argparse
import os
import sys

from dnnlib.native_settings import apply_native_settings

apply_native_settings()

import numpy as np  # noqa: E402

from metrics.cli_options import run_cli  # noqa: E402

BATCH_SIZE = 64
SOFTMAX_BATCH_SIZE = 512
SPLIT_SIZE = 5000
OPENAI_GRAPH_URL = ('https://openaipublic.blob.core.windows.net/diffusion/jul-2021/ref_batches/'
                    'classify_image_graph_def.pb')
FIVE = ('Inception Score', 'FID', 'sFID', 'Precision', 'Recall')


def statistics(activations):
    """(mu, sigma) as the evaluator: np.mean of float32 activations [N, d] (float32), np.cov (float64)."""
    if len(activations) < 2:
        raise ValueError('statistics need at least 2 images, got %d' % len(activations))
    return np.mean(activations, axis=0), np.cov(activations, rowvar=False)


def frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """TTUR's Frechet distance in the evaluator's dtypes (the sample's statistics first)."""
    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError('statistics of different sizes: mu %s and %s, sigma %s and %s'
                         % (mu1.shape, mu2.shape, sigma1.shape, sigma2.shape))
    from metrics.fid_official_tf import covariance_root
    diff = mu1 - mu2  # float32 for the evaluator's float32 means
    covmean = covariance_root(sigma1, sigma2, eps)
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def inception_score(probabilities, split_size=SPLIT_SIZE):
    """Mean over splits of split_size rows of exp(mean KL(p(y|x) || p(y))), float32 arithmetic as the evaluator."""
    scores = []
    for begin in range(0, len(probabilities), split_size):
        part = probabilities[begin:begin + split_size]
        kl = part * (np.log(part) - np.log(np.expand_dims(np.mean(part, 0), 0)))
        scores.append(np.exp(np.mean(np.sum(kl, 1))))
    return float(np.mean(scores))


class Activations:
    """pool [N, 2048] and spatial [N, 2023] float32 of one batch, and its FID/sFID statistics (the file's when a
    reference batch carries them)."""

    def __init__(self, pool, spatial, file_statistics=None):
        self.pool, self.spatial = pool, spatial
        self.statistics_from_file = file_statistics is not None
        if file_statistics is not None:
            self.stats = (file_statistics['mu'], file_statistics['sigma'])
            self.stats_s = (file_statistics['mu_s'], file_statistics['sigma_s'])
        else:
            self.stats, self.stats_s = statistics(pool), statistics(spatial)


def open_input(path, role):
    """An AdmBatch (.npz), an ImageFolderBatch (folder), a ZipImagesBatch (.zip of images) or an ActivationsFile
    (.npz with pool and spatial), checked without reading the images or activations; errors name the file."""
    import zipfile

    from metrics.adm_batches import ActivationsFile, AdmBatch, ImageFolderBatch, ZipImagesBatch
    if os.path.isdir(path):
        return ImageFolderBatch(path)
    if os.path.isfile(path) and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
        if 'arr_0.npy' not in names:
            return ActivationsFile(path, role) if 'pool.npy' in names else ZipImagesBatch(path, role)
    return AdmBatch(path, role)


def activations_of(source, inception, progress=True, desc='activations'):
    """Activations of a batch (batches of 64 through the graph) or of an ActivationsFile (read)."""
    from tqdm.auto import tqdm

    from metrics.adm_batches import ActivationsFile
    if isinstance(source, ActivationsFile):
        return Activations(*source.load())
    pools, spatials = [], []
    with tqdm(total=source.num_images, desc=desc, disable=not progress, unit='img') as bar:
        for batch in source.batches(BATCH_SIZE):
            pool, spatial = inception.run_pool_and_spatial(batch.astype(np.float32))
            pools.append(pool)
            spatials.append(spatial)
            bar.update(len(batch))
    return Activations(np.concatenate(pools), np.concatenate(spatials), source.statistics)


def inception_graph(given=None):
    """The Inception graph: a .pb or inception-2015-12-05.tgz given by path, else the cached one, downloaded
    from TensorFlow's .tgz or, failing that, OpenAI's .pb."""
    from metrics import inception_graph as graphs
    if given and given.endswith(('.tgz', '.tar.gz')):
        return graphs.InceptionNet(graph_def=graphs.graph_def_of_archive(given))
    if given:
        return graphs.InceptionNet(given)
    from dnnlib.util import DownloadError
    try:
        return graphs.InceptionNet(graphs.graph_path())
    except (DownloadError, graphs.InceptionGraphError, OSError) as first:  # the second published location
        try:
            return graphs.InceptionNet(graphs.graph_path(url=OPENAI_GRAPH_URL))
        except (DownloadError, graphs.InceptionGraphError, OSError):
            raise first


def evaluate(ref, sample, inception=None, progress=True, details=False):
    """The evaluator's five numbers of the sample batch against the reference batch.

    ref, sample: paths of .npz batches (or activations files). inception: path of the graph (.pb or .tgz), or an
    InceptionNet. Returns {'Inception Score', 'FID', 'sFID', 'Precision', 'Recall'} (floats); with details also
    'pr' (metrics.adm_pr.adm_precision_recall's per-sample arrays) and 'activations' {'ref', 'sample'}.
    """
    from metrics.adm_pr import adm_precision_recall
    sources = open_input(ref, 'reference batch'), open_input(sample, 'sample batch')
    net = inception if hasattr(inception, 'run_pool_and_spatial') else inception_graph(inception)  # IS needs it
    ref_acts = activations_of(sources[0], net, progress, 'reference activations')
    sample_acts = activations_of(sources[1], net, progress, 'sample activations')
    probabilities = net.probabilities_of(sample_acts.pool, SOFTMAX_BATCH_SIZE)
    pr = adm_precision_recall(ref_acts.pool, sample_acts.pool, progress)
    out = {'Inception Score': inception_score(probabilities),
           'FID': frechet_distance(*sample_acts.stats, *ref_acts.stats),
           'sFID': frechet_distance(*sample_acts.stats_s, *ref_acts.stats_s),
           'Precision': pr['precision'], 'Recall': pr['recall']}
    if details:
        out.update(pr=pr, activations={'ref': ref_acts, 'sample': sample_acts})
    return out


def save_activations(prefix, acts):
    """PREFIX_ref.npz and PREFIX_sample.npz with pool and spatial (what open_input reads back)."""
    from dnnlib.output_files import atomic_output
    for role, value in acts.items():
        with atomic_output('%s_%s.npz' % (prefix, role), 'wb') as f:
            np.savez(f, pool=value.pool, spatial=value.spatial)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('ref_batch', help='reference batch .npz (arr_0, optional mu/sigma/mu_s/sigma_s)')
    p.add_argument('sample_batch', help='sample batch .npz (arr_0)')
    p.add_argument('-i', '--inception', default=None,
                   help='classify_image_graph_def.pb or inception-2015-12-05.tgz (default: _cache/inception, '
                        'downloaded from TensorFlow, else from OpenAI)')
    p.add_argument('--json', metavar='FILE', help='also write the five numbers as JSON')
    p.add_argument('--save_activations', metavar='PREFIX',
                   help='also write PREFIX_ref.npz and PREFIX_sample.npz (pool, spatial), readable as batches')
    p.add_argument('--quiet', action='store_true', help='no progress bars')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from dnnlib.tf_logging import quiet_tensorflow
    quiet_tensorflow()

    def body():
        result = evaluate(args.ref_batch, args.sample_batch, args.inception, progress=not args.quiet,
                          details=bool(args.save_activations))
        for name in FIVE:
            print('%s: %s' % (name, result[name]))
        if args.save_activations:
            save_activations(args.save_activations, result['activations'])
        if args.json:
            from dnnlib.output_files import save_json
            save_json(args.json, {name: result[name] for name in FIVE})
        return 0
    return run_cli(body)


if __name__ == '__main__':
    sys.exit(main())
