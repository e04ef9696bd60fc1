"""dnnlib.util.open_url against a local HTTP server on 127.0.0.1 (no outside network)."""
import hashlib
import http.server
import os
import threading

import pytest

from dnnlib import util
from conftest import listing

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    hits = {}

    def log_message(self, *args):
        pass

    def _send(self, body, content_type='application/octet-stream', name='file.bin', declared=None):
        self.send_response(200)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(declared if declared is not None else len(body)))
        if name:
            self.send_header('Content-Disposition', 'attachment; filename="%s"' % name)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def do_GET(self):
        path = self.path.split('?')[0]
        Handler.hits[path] = Handler.hits.get(path, 0) + 1
        port = self.server.server_address[1]
        if path == '/file.bin':
            self._send(PAYLOAD)
        elif path == '/drop':  # always closes the connection halfway through the body
            self._send(PAYLOAD[:len(PAYLOAD) // 2], declared=len(PAYLOAD))
            self.close_connection = True
        elif path == '/flaky':  # drops on the first request only
            if Handler.hits[path] == 1:
                self._send(PAYLOAD[:1000], declared=len(PAYLOAD))
                self.close_connection = True
            else:
                self._send(PAYLOAD, name='flaky.bin')
        elif path == '/drive':
            page = ('<html><title>Google Drive - Virus scan warning</title><form id="download-form" '
                    'action="http://127.0.0.1:%d/confirmed" method="get"><input type="hidden" name="id" value="abc">'
                    '<input type="hidden" name="confirm" value="t"></form></html>' % port).encode()
            self._send(page, content_type='text/html; charset=utf-8', name=None)
        elif path == '/confirmed':
            assert 'confirm=t' in self.path and 'id=abc' in self.path
            self._send(PAYLOAD, name='vgg16.pkl')
        elif path == '/old-drive':
            page = b'<a href="/uc?export=download&amp;confirm=XYZ&amp;id=abc">Download anyway</a>'
            self._send(page, content_type='text/html', name=None)
        elif path == '/uc':
            self._send(PAYLOAD, name='karras2019stylegan-ffhq-1024x1024.pkl')
        elif path == '/quota':
            self._send(b'<html><title>Google Drive - Quota exceeded</title></html>', content_type='text/html',
                       name=None)
        else:
            self.send_error(404)


@pytest.fixture(scope='module')
def server():
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield 'http://127.0.0.1:%d' % httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def files_in(folder):
    return listing(folder)


def test_download_is_cached_under_md5_of_url(server, tmp_path):
    url = server + '/file.bin'
    Handler.hits.clear()
    with util.open_url(url, cache_dir=str(tmp_path), verbose=False,
                       expected_sha256=hashlib.sha256(PAYLOAD).hexdigest(), expected_size=len(PAYLOAD)) as f:
        assert f.read() == PAYLOAD
    assert files_in(tmp_path) == [util.url_cache_key(url) + '_file.bin']
    with util.open_url(url, cache_dir=str(tmp_path), verbose=False) as f:  # served from the cache
        assert f.read() == PAYLOAD
    assert Handler.hits['/file.bin'] == 1


def test_without_cache_returns_bytes(server, tmp_path):
    with util.open_url(server + '/file.bin', verbose=False) as f:
        assert f.read() == PAYLOAD


def test_connection_dropped_midway_leaves_no_file(server, tmp_path):
    with pytest.raises(util.DownloadError, match='after 3 attempts'):
        util.open_url(server + '/drop', cache_dir=str(tmp_path), num_attempts=3, verbose=False)
    assert files_in(tmp_path) == []


def test_retry_after_a_dropped_connection(server, tmp_path):
    Handler.hits.clear()
    with util.open_url(server + '/flaky', cache_dir=str(tmp_path), num_attempts=3, verbose=False) as f:
        assert f.read() == PAYLOAD
    assert Handler.hits['/flaky'] == 2
    assert files_in(tmp_path) == [util.url_cache_key(server + '/flaky') + '_flaky.bin']


def test_checksum_mismatch_is_rejected_and_not_cached(server, tmp_path):
    with pytest.raises(util.DownloadError, match='sha256'):
        util.open_url(server + '/file.bin', cache_dir=str(tmp_path), num_attempts=2, verbose=False,
                      expected_sha256='0' * 64)
    assert files_in(tmp_path) == []


def test_google_drive_confirmation_form_is_followed(server, tmp_path):
    url = server + '/drive'
    with util.open_url(url, cache_dir=str(tmp_path), verbose=False) as f:
        assert f.read() == PAYLOAD
    assert files_in(tmp_path) == [util.url_cache_key(url) + '_vgg16.pkl']


def test_old_google_drive_confirmation_link_is_followed(server, tmp_path):
    with util.open_url(server + '/old-drive', cache_dir=str(tmp_path), verbose=False) as f:
        assert f.read() == PAYLOAD


def test_google_drive_quota_is_a_clear_error(server, tmp_path):
    with pytest.raises(util.DownloadError, match='quota exceeded'):
        util.open_url(server + '/quota', cache_dir=str(tmp_path), num_attempts=2, verbose=False)
    assert files_in(tmp_path) == []


def test_interrupted_download_leaves_no_partial_file(server, tmp_path, monkeypatch):
    real = util._stream_once

    def interrupted(session, url, f, verbose, timeout):
        f.write(b'partial data')
        raise KeyboardInterrupt

    monkeypatch.setattr(util, '_stream_once', interrupted)
    with pytest.raises(KeyboardInterrupt):
        util.open_url(server + '/file.bin', cache_dir=str(tmp_path), verbose=False)
    assert files_in(tmp_path) == []
    monkeypatch.setattr(util, '_stream_once', real)


def test_local_paths_and_missing_files(tmp_path):
    path = tmp_path / 'net.pkl'
    path.write_bytes(b'abc')
    with util.open_url(str(path)) as f:
        assert f.read() == b'abc'
    with util.open_url('file://' + str(path)) as f:
        assert f.read() == b'abc'
    with pytest.raises(FileNotFoundError):
        util.open_url(str(tmp_path / 'missing.pkl'))
