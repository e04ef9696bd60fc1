"""Where the official network files are published, and opening the first location that delivers a whole file.

A source is a URL or path with what is published about it (sha256, size, where it is documented).
Downloads go through `dnnlib.util.open_url` (cache, retries, checksums); a download is accepted
only when `check_file` can parse it, so an error page or a truncated file never enters the cache.
"""
from dnnlib import util


class NetworkSource:
    """One published location of a network file: url, sha256/size where published, and where it is documented."""

    def __init__(self, url, where, sha256=None, size=None):
        self.url, self.where, self.sha256, self.size = url, where, sha256, size


# Tried in this order; the next is tried when one answers with Google Drive's quota page, an error page or an
# HTTP error. The official code's own Google Drive copy comes first.
STYLEGAN_FFHQ_SOURCES = (
    NetworkSource('https://drive.google.com/uc?id=1zwhFLIvQYyNVOwQCLAhIJHmN7sjvAM84',
                  'Google Drive, kynkaat/improved-precision-and-recall-metric utils.py'),
    NetworkSource('https://drive.google.com/uc?id=1MEGjdvVpUsu1jB4zrXZN7Y4kBBOzizDQ',
                  'Google Drive, NVlabs/stylegan README.md and pretrained_example.py'),
)
VGG16_SOURCES = (
    NetworkSource('https://drive.google.com/uc?id=1fk6r8vetqpRShtEODXm9maDytbMkHLfa',
                  'Google Drive, kynkaat/improved-precision-and-recall-metric utils.py (3-tuple pickle)'),
    NetworkSource('https://nvlabs-fi-cdn.nvidia.com/stylegan/networks/metrics/vgg16.pkl',
                  'NVIDIA CDN, NVlabs/stylegan2 metrics/precision_recall.py (single-network pickle)'),
    NetworkSource('https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada/pretrained/metrics/vgg16.pkl',
                  'NVIDIA CDN, NVlabs/stylegan2-ada metrics/precision_recall.py (single-network pickle)'),
    NetworkSource('https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/metrics/vgg16.pt',
                  'NVIDIA CDN, NVlabs/stylegan2-ada-pytorch metrics/precision_recall.py (TorchScript)',
                  sha256='b437eb095feaeb0b83eb3fa11200ebca4548ee39a07fb944a417ddc516cc07c3'),
)
STYLEGAN2_FFHQ_SOURCES = (
    NetworkSource('https://nvlabs-fi-cdn.nvidia.com/stylegan2/networks/stylegan2-ffhq-config-f.pkl',
                  'NVIDIA CDN, NVlabs/stylegan2 pretrained_networks.py (stylegan2-ffhq-config-f.pkl)'),
)
STYLEGAN_FFHQ_URL = STYLEGAN_FFHQ_SOURCES[0].url  # karras2019stylegan-ffhq-1024x1024.pkl
VGG16_URL = VGG16_SOURCES[0].url  # vgg16.pkl
DEFAULT_SOURCES = {'generator': STYLEGAN_FFHQ_SOURCES, 'feature network': VGG16_SOURCES}


def as_sources(sources):
    """A path or URL (str) -> one NetworkSource; a sequence of NetworkSource stays as it is."""
    return [NetworkSource(sources, 'given on the command line')] if isinstance(sources, str) else list(sources)


def open_network(sources, check_file, cache_dir=util.CACHE_DIR, verbose=True, num_attempts=10):
    """Open the first source that delivers a complete file -> (binary file, the NetworkSource used).

    sources: a local path or URL (str) or a sequence of NetworkSource, tried in order.
    check_file: callable(path) that raises unless the file is a complete network file.
    """
    sources = as_sources(sources)
    failures, errors = [], []
    for source in sources:
        try:
            f = util.open_url(source.url, cache_dir=cache_dir, verbose=verbose, expected_sha256=source.sha256,
                              expected_size=source.size, validate=check_file, num_attempts=num_attempts)
        except util.DownloadError as e:
            failures.append('%s: %s' % (source.url, e))
            errors.append(e)
            if len(sources) > 1:
                print('Could not get %s (%s)%s' % (source.url, e, '; trying the next source' if
                                                   source is not sources[-1] else ''))
            continue
        if len(sources) > 1 or util.is_url(source.url):
            print('Network source: %s [%s]' % (source.url, source.where))
        return f, source
    remedy = ''
    if any(isinstance(e, util.HostUnreachable) for e in errors):
        remedy = ('\nNo network? Download the file elsewhere and pass its path (--network FILE, --feature_network FILE; '
                  'NVIDIA\'s vgg16.pt works as the feature network).')
    raise util.DownloadError('no source could deliver the file (tried %d):\n  %s%s'
                             % (len(failures), '\n  '.join(failures), remedy))
