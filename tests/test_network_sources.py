"""Network files from their published locations: mirror fallback, incomplete downloads, kinds (127.0.0.1 servers)."""
import hashlib
import http.server
import os
import threading

import numpy as np
import pytest

import utils
from networks import loading, sources as network_sources
from conftest import listing, shared_path
from dnnlib import util
from dnnlib.tflib import NetworkPickleError
from network_factory import write_vgg_pickle


class Handler(http.server.BaseHTTPRequestHandler):
    files = {}

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.path.split('?')[0]
        if path == '/quota':  # what Google Drive answers when a popular file's quota is used up
            body = b'<html><title>Google Drive - Quota exceeded</title>Too many users have viewed or downloaded</html>'
            self.send_response(200)
            self.send_header('Content-Type', 'text/html; charset=utf-8')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif path == '/half':  # HTTP/1.0 without Content-Length, connection closed after half of the file
            data = self.files['/vgg16.pkl']
            self.send_response(200)
            self.send_header('Content-Type', 'application/octet-stream')
            self.end_headers()
            self.wfile.write(data[:len(data) // 2])
            self.close_connection = True
        elif path in self.files:
            data = self.files[path]
            self.send_response(200)
            self.send_header('Content-Type', 'application/octet-stream')
            self.send_header('Content-Length', str(len(data)))
            self.send_header('Content-Disposition', 'attachment; filename="%s"' % os.path.basename(path))
            self.end_headers()
            self.wfile.write(data)
        else:
            self.send_error(404)


@pytest.fixture(scope='module')
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp('served')
    Handler.files['/vgg16.pkl'] = open(write_vgg_pickle(str(root / 'vgg16.pkl'), width_divisor=32), 'rb').read()
    Handler.files['/vgg16.pt'] = open(shared_path('fixtures', 'vgg16_torchscript', 'vgg16_tiny.pt'), 'rb').read()
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield 'http://127.0.0.1:%d' % httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def sources(server, *paths, sha256=None):
    return [network_sources.NetworkSource(server + p, 'test server %s' % p, sha256=sha256 if p.endswith('.pt') else None)
            for p in paths]


def test_quota_page_falls_back_to_the_next_source(server, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(loading, '_NOTED', set())  # the layout is printed once per process and network
    net = utils.initialize_feature_extractor(sources(server, '/quota', '/missing', '/vgg16.pt'), str(tmp_path))
    out = capsys.readouterr().out
    assert 'quota exceeded' in out and 'HTTP 404' in out and 'trying the next source' in out
    assert 'Network source: %s/vgg16.pt' % server in out
    assert net.source == server + '/vgg16.pt' and net.load_path == 'TorchScript weights'
    assert net.output_shape == [None, 256]
    golden = np.load(shared_path('fixtures', 'vgg16_torchscript', 'golden.npz'))
    np.testing.assert_allclose(net.run(golden['images_224']), golden['features_224'], rtol=1e-5, atol=1e-5)
    # The layout was printed once and the archive's source and the layout were saved beside the cache.
    assert 'layers.conv1.weight [4, 3, 3, 3] -> conv1/weight (OIHW)' in out
    saved = listing(tmp_path / 'network_sources')
    assert len(saved) == 2 and any(n.endswith('.layout.txt') for n in saved)


def test_published_sha256_is_verified(server, tmp_path):
    good = hashlib.sha256(Handler.files['/vgg16.pt']).hexdigest()
    net = utils.initialize_feature_extractor(sources(server, '/vgg16.pt', sha256=good), str(tmp_path), verbose=False)
    assert net.kind == 'feature network'
    with pytest.raises(util.DownloadError, match='sha256 does not match'):
        utils.initialize_feature_extractor(sources(server, '/vgg16.pt', sha256='0' * 64), str(tmp_path / 'b'),
                                           verbose=False)


def test_every_source_failing_lists_them_all(server, tmp_path):
    with pytest.raises(util.DownloadError) as info:
        network_sources.open_network(sources(server, '/quota', '/missing'), loading.check_network_file, str(tmp_path),
                                     verbose=False)
    assert '/quota' in str(info.value) and '/missing' in str(info.value)
    assert listing(tmp_path) == []


def test_download_of_unknown_length_cut_short_is_never_cached(server, tmp_path, capsys):
    with pytest.raises(util.DownloadError, match='not complete'):
        network_sources.open_network(sources(server, '/half'), loading.check_network_file, str(tmp_path), num_attempts=2)
    assert listing(tmp_path) == []


def test_a_damaged_cached_copy_is_named_set_aside_and_fetched_again(server, tmp_path):
    url = server + '/vgg16.pkl'
    cached = tmp_path / (util.url_cache_key(url) + '_vgg16.pkl')
    cut = Handler.files['/vgg16.pkl'][:1000]
    cached.write_bytes(cut)  # left by an older version that trusted a cut download: not provably the tool's
    with pytest.raises(NetworkPickleError) as info:
        utils.initialize_feature_extractor(url, str(tmp_path), verbose=False)
    aside = tmp_path / ('damaged-' + cached.name)
    assert str(cached) in str(info.value) and 'moved aside to %s' % aside in str(info.value)
    assert not cached.exists() and aside.read_bytes() == cut  # nothing lost
    net = utils.initialize_feature_extractor(url, str(tmp_path), verbose=False)  # the rerun downloads it anew
    assert net.kind == 'feature network' and cached.exists()


def test_a_feature_network_given_as_the_generator_is_named(server, tmp_path):
    with pytest.raises(ValueError, match='holds a feature network .* not a generator'):
        utils.initialize_stylegan(server + '/vgg16.pkl', str(tmp_path), verbose=False)
    stylegan = shared_path('fixtures', 'stylegan_official', 'tiny32', 'network.pkl')
    with pytest.raises(ValueError, match='holds a generator .* not a feature network'):
        utils.initialize_feature_extractor(stylegan, str(tmp_path), verbose=False)


def test_official_sources_are_listed_in_order():
    assert network_sources.VGG16_SOURCES[0].url == network_sources.VGG16_URL and 'drive.google.com' in network_sources.VGG16_URL
    assert network_sources.VGG16_SOURCES[-1].url.endswith('/vgg16.pt') and len(network_sources.VGG16_SOURCES[-1].sha256) == 64
    assert all(s.where for s in network_sources.VGG16_SOURCES + network_sources.STYLEGAN_FFHQ_SOURCES)


def test_unreachable_hosts_fail_over_at_once_and_name_the_offline_remedy(tmp_path):
    """A name that does not resolve or a refused connection is not retried: one error lists every source."""
    import time
    from dnnlib import util
    sources = [network_sources.NetworkSource('http://no-such-host.invalid/vgg16.pkl', 'a host that does not resolve'),
               network_sources.NetworkSource('http://127.0.0.1:9/vgg16.pkl', 'a refused connection (discard port)')]
    start = time.time()
    with pytest.raises(util.DownloadError) as info:
        network_sources.open_network(sources, loading.check_network_file, cache_dir=str(tmp_path), verbose=False)
    assert time.time() - start < 10  # no retries (10 attempts each took ~50 s before)
    message = str(info.value)
    assert 'tried 2' in message and 'no-such-host.invalid' in message and '127.0.0.1:9' in message
    assert '--feature_network FILE' in message and 'cannot connect' in message
    from metrics import inception_graph
    with pytest.raises(util.DownloadError, match='-i PATH'):
        inception_graph.graph_path(str(tmp_path / 'inception'), url='http://127.0.0.1:9/inception.tgz')
