"""Download-and-cache helper (`open_url`) and EasyDict, as the official dnnlib offers them.

`open_url(url, cache_dir)` returns a binary file object. Downloads stream to a
temporary file in the cache folder and are renamed into place only when
complete and verified (size from Content-Length, optional size/sha256), so an
interrupted download never leaves a file that a later run would trust.
Google Drive's "can't scan for viruses" confirmation page is followed; its
quota page is a clear error.
"""
import contextlib
import glob
import hashlib
import html
import io
import os
import re
import tempfile
import time
import urllib.parse
import urllib.request

import requests
from tqdm.auto import tqdm

import dnnlib.owned_files as owned_files
from dnnlib.output_files import pending_file

# The one cache folder of the project (downloads, cached features, saved network sources, the Inception graph),
# as the official utils.py: `_cache` beside the scripts.
CACHE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), '_cache')
# The cache's layout, in this one place. Downloads lie in the cache folder itself (`<md5 of the url>_<name>`);
# the rest in these subfolders. Every file is recorded as the tool's (dnnlib.owned_files): --clear_cache
# removes exactly those.
CACHE_SUBFOLDERS = {'features': 'features', 'network notes': 'network_sources', 'inception': 'inception'}


def cache_subfolder(what, cache_dir=None):
    """The folder of `what` (a key of CACHE_SUBFOLDERS) in `cache_dir` (None: CACHE_DIR)."""
    return os.path.join(cache_dir or CACHE_DIR, CACHE_SUBFOLDERS[what])


class EasyDict(dict):
    """dict whose items can also be read and written as attributes."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name)

    def __setattr__(self, name, value):
        self[name] = value

    def __delattr__(self, name):
        del self[name]


class DownloadError(IOError):
    """A URL could not be downloaded completely and correctly."""


class CorruptFileError(ValueError):
    """A file is truncated or damaged (as opposed to readable but unsupported): a cached copy should be re-fetched."""


class DownloadRefused(DownloadError):
    """The server answered with a page instead of the file (e.g. Google Drive's quota page): retrying won't help."""


class HostUnreachable(DownloadRefused):
    """No connection could be made (the name does not resolve, the connection is refused, no route): offline or
    a wrong host; retrying won't help, the next source is tried at once."""


def _unreachable(error):
    """True when a requests error is a failure to connect at all (DNS, refused, no route), not a transient one."""
    import socket
    import urllib3.exceptions
    seen = set()
    stack = [error]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, (urllib3.exceptions.NewConnectionError, ConnectionRefusedError, socket.gaierror)):
            return True
        stack += [getattr(e, 'reason', None), e.__cause__, e.__context__] + [a for a in e.args
                                                                            if isinstance(a, BaseException)]
    return False


def is_url(obj):
    """True for http(s)/file URL strings."""
    if not isinstance(obj, str) or '://' not in obj:
        return False
    parsed = urllib.parse.urlparse(obj)
    if parsed.scheme == 'file':
        return True
    return parsed.scheme in ('http', 'https') and bool(parsed.netloc)


def is_download(obj):
    """True for http(s) URLs: what open_url downloads into its cache (a file:// URL is the user's own file)."""
    return is_url(obj) and urllib.parse.urlparse(obj).scheme in ('http', 'https')


def url_cache_key(url):
    """md5 hex digest of the URL: the prefix of its cached file name (as the official dnnlib)."""
    return hashlib.md5(url.encode('utf-8')).hexdigest()


def cached_path(url, cache_dir):
    """Path of the complete cached copy of `url` in cache_dir, or None."""
    if cache_dir is None:
        return None
    matches = [p for p in glob.glob(os.path.join(glob.escape(cache_dir), url_cache_key(url) + '_*'))
               if os.path.isfile(p)]
    return matches[0] if len(matches) == 1 else None


def sha256_of_file(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


def open_url(url, cache_dir=None, num_attempts=10, verbose=True, expected_sha256=None, expected_size=None,
             timeout=60, validate=None):
    """Open `url` (http/https/file URL or a local path) as a binary file object.

    Args:
        cache_dir: folder for cached downloads; the file is `<md5(url)>_<name>`.
            None keeps the data in memory only.
        num_attempts: tries before giving up (connection drops, incomplete bodies).
        expected_sha256, expected_size: verified before the file is accepted.
        validate: None or callable(path) that raises when the downloaded file is not a complete
            file of its kind (e.g. a pickle that does not parse); run on every download before it
            enters the cache, so a body of unknown length that was cut short is never cached.
        verbose: progress bar and retry messages.
    Raises:
        DownloadRefused when the server answers with a page instead of the file (not retried);
        DownloadError when every attempt failed or the data does not verify.
    """
    if not is_url(url):
        if not os.path.isfile(url):
            raise FileNotFoundError('no such file: %s' % url)
        _verify_file(url, expected_sha256, expected_size)
        return open(url, 'rb')
    if url.startswith('file://'):
        path = urllib.request.url2pathname(urllib.parse.urlparse(url).path)
        return open_url(path, expected_sha256=expected_sha256, expected_size=expected_size)

    if cache_dir is not None:
        owned_files.track(cache_dir)  # downloads are recorded, so only they can ever be removed from the cache
    cached = cached_path(url, cache_dir)
    if cached is not None:
        _verify_file(cached, expected_sha256, expected_size)
        return open(cached, 'rb')

    folder = cache_dir if cache_dir is not None else tempfile.gettempdir()
    with _download(url, folder, num_attempts, verbose, expected_sha256, expected_size, timeout, validate) as done:
        pending, name = done
        if cache_dir is None:
            with open(pending.path, 'rb') as f:
                return io.BytesIO(f.read())
        safe_name = re.sub(r'[^0-9a-zA-Z._-]', '_', name)[:100] or 'download'
        final = os.path.join(cache_dir, url_cache_key(url) + '_' + safe_name)
        pending.commit(final)  # atomic: readers see no file or the whole file
    return open(final, 'rb')


def _verify_file(path, expected_sha256, expected_size):
    if expected_size is not None and os.path.getsize(path) != expected_size:
        raise DownloadError('%s: size %d, expected %d' % (path, os.path.getsize(path), expected_size))
    if expected_sha256 is not None and sha256_of_file(path) != expected_sha256.lower():
        raise DownloadError('%s: sha256 does not match %s' % (path, expected_sha256))


@contextlib.contextmanager
def _download(url, folder, num_attempts, verbose, expected_sha256, expected_size, timeout, validate=None):
    """Yield (PendingFile in `folder` holding the verified download, file name); the caller commits it or not.

    A temporary file that is not committed (failed attempt, bad checksum, KeyboardInterrupt) is always removed.
    """
    last_error = None
    with requests.Session() as session:
        for attempt in range(max(int(num_attempts), 1)):
            with pending_file(folder) as pending:
                try:
                    url, name = _stream_once(session, url, pending.file, verbose, timeout)
                    pending.file.close()
                    _verify_file(pending.path, expected_sha256, expected_size)
                    if validate is not None:
                        try:
                            validate(pending.path)
                        except Exception as e:  # the validator names what is wrong; the file is incomplete or not it
                            raise DownloadError('the downloaded file is not complete or not the expected kind: %s' % e)
                except _FollowLink as follow:
                    url = follow.url
                    last_error = follow
                    continue
                except DownloadRefused:
                    raise
                except (requests.RequestException, DownloadError, OSError) as e:
                    if isinstance(e, requests.ConnectionError) and _unreachable(e):
                        raise HostUnreachable('cannot connect to %s (%s)' % (urllib.parse.urlparse(url).netloc,
                                                                             _short_reason(e))) from e
                    last_error = e
                    if verbose:
                        print('Download attempt %d/%d of %s failed: %s' % (attempt + 1, num_attempts, url, e))
                    time.sleep(min(0.2 * (attempt + 1), 2.0))
                    continue
                yield pending, name
                return
    raise DownloadError('could not download %s after %d attempts: %s' % (url, num_attempts, last_error))


def _short_reason(error):
    """The innermost reason of a connection error in a few words (e.g. 'Name or service not known')."""
    text = str(error)
    match = re.search(r"(\[Errno -?\d+\] [^'\)\]]+|Name or service not known|Temporary failure in name resolution|"
                      r"Connection refused|Network is unreachable|No route to host)", text)
    return match.group(1) if match else text[:120]


class _FollowLink(Exception):
    def __init__(self, url):
        super().__init__('following Google Drive confirmation to %s' % url)
        self.url = url


def _stream_once(session, url, f, verbose, timeout):
    """Write the body of one GET into f; returns (url, file name) or raises."""
    with session.get(url, stream=True, timeout=timeout) as res:
        if 400 <= res.status_code < 500 and res.status_code not in (408, 429):
            raise DownloadRefused('%s answered HTTP %d %s' % (url, res.status_code, res.reason))
        res.raise_for_status()
        content_type = res.headers.get('Content-Type', '')
        if 'text/html' in content_type:
            _handle_drive_page(url, res.text)  # raises _FollowLink or DownloadError
        total = int(res.headers.get('Content-Length', 0)) or None
        received = 0
        with tqdm(total=total, unit='B', unit_scale=True, desc=os.path.basename(urllib.parse.urlparse(url).path)[:30],
                  disable=not verbose, leave=False) as bar:
            for chunk in res.iter_content(chunk_size=1 << 20):
                f.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
        if received == 0:
            raise DownloadError('no data received')
        if total is not None and received != total:
            raise DownloadError('connection closed after %d of %d bytes' % (received, total))
        f.flush()
        os.fsync(f.fileno())
        match = re.search(r'filename="([^"]*)"', res.headers.get('Content-Disposition', ''))
        name = match.group(1) if match else os.path.basename(urllib.parse.urlparse(url).path)
    return url, name


def _handle_drive_page(url, text):
    """An HTML answer instead of the file: follow Drive's virus-scan confirmation or fail clearly."""
    if 'quota exceeded' in text.lower():
        raise DownloadRefused('Google Drive quota exceeded for %s; try again later or download by hand' % url)
    form = re.search(r'<form[^>]*id="download-form"[^>]*action="([^"]+)"[^>]*>(.*?)</form>', text, re.S)
    if form:
        fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form.group(2)))
        raise _FollowLink(html.unescape(form.group(1)) + '?' + urllib.parse.urlencode(fields))
    links = [html.unescape(link) for link in re.findall(r'href="([^"]*export=download[^"]*)"', text)]
    if links:
        raise _FollowLink(urllib.parse.urljoin(url, links[0]))
    raise DownloadRefused('%s answered with an HTML page, not the file' % url)
