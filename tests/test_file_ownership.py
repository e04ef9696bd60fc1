"""The tool removes only files it can prove it wrote: every path that removes something, against user files,
user files named like the tool's, symlinks to outside folders and files, FIFOs and read-only entries."""
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import time

import numpy as np
import PIL.Image
import pytest

from conftest import REPO
from dnnlib import output_files, owned_files
from dnnlib.folder_lock import FolderBusyError, FolderLock
from network_factory import write_vgg_pickle

USER_NAMES = ['tmp_20241201', 'tmp_abcdefgh', 'd41d8cd98f00b204e9800998ecf8427e_thesis.pdf', 'notes.txt',
              '.tmp_results.json.abcdefgh', owned_files.LEDGER + '.bak']
USER_NAMES_IN = {'features': ['tmp_backup01', 'reals-0123abcd-' + 'f' * 24 + '.npz', 'mine.npy'],
                 'network_sources': ['my_0123456789ab.layout.txt', 'Gs_0123456789ab.build_module_src.py'],
                 'stylegan_realism': ['keep.png']}


def cli(*args, cwd):
    return subprocess.run([sys.executable, os.path.join(REPO, 'run_metric.py')] + list(args), capture_output=True,
                          text=True, timeout=600, cwd=str(cwd))


def snapshot(*roots):
    """{path: what it is} for everything below roots, links not followed (content hash, mode, link target)."""
    seen = {}
    for root in roots:
        for folder, dirs, files in os.walk(str(root)):
            for name in dirs + files:
                path = os.path.join(folder, name)
                info = os.lstat(path)
                if stat.S_ISLNK(info.st_mode):
                    seen[path] = ('link', os.readlink(path))
                elif stat.S_ISREG(info.st_mode):
                    with open(path, 'rb') as f:
                        seen[path] = ('file', hashlib.sha256(f.read()).hexdigest(), stat.S_IMODE(info.st_mode))
                elif stat.S_ISDIR(info.st_mode):
                    seen[path] = ('dir', stat.S_IMODE(info.st_mode))
                else:
                    seen[path] = ('special', stat.S_IFMT(info.st_mode))
    return seen


def plant_user_files(folder, outside):
    """User files, user files named like the tool's, symlinks to outside, a FIFO, a read-only file."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in USER_NAMES:
        (folder / name).write_text('user data ' + name)
    for sub, names in USER_NAMES_IN.items():
        (folder / sub).mkdir(exist_ok=True)
        for name in names:
            (folder / sub / name).write_text('user data ' + name)
    (folder / 'link_to_outside').symlink_to(outside, target_is_directory=True)
    (folder / 'link_to_file.npz').symlink_to(outside / 'precious.txt')
    os.mkfifo(str(folder / 'pipe.png'))
    readonly = folder / 'readonly.txt'
    readonly.write_text('read-only user file')
    readonly.chmod(0o444)


def make_outside(tmp_path):
    outside = tmp_path / 'outside'
    outside.mkdir()
    (outside / 'precious.txt').write_text('precious')
    (outside / 'tmp_abcdefgh').write_text('outside tmp-like')
    (outside / 'features').mkdir()
    return outside


def features_file(tmp_path, name, seed):
    path = str(tmp_path / name)
    np.save(path, np.random.RandomState(seed).randn(40, 8))
    return path


def test_every_removal_path_leaves_user_files_and_outside_alone(tmp_path):
    outside = make_outside(tmp_path)
    out, cache = tmp_path / 'out', tmp_path / 'cache'
    reals, fakes = features_file(tmp_path, 'r.npy', 0), features_file(tmp_path, 'f.npy', 1)
    vgg = write_vgg_pickle(str(tmp_path / 'vgg16.pkl'), width_divisor=16, seed=0)
    # The tool's own files in both folders, from real runs.
    first = cli('--real_features', reals, '--fake_features', fakes, '--save_path', str(out), '--save_features',
                '--realism_score', '--show_n_images', '2', '--quiet', cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    import utils
    owned_files.track(str(cache))
    utils.initialize_feature_extractor(vgg, cache_dir=str(cache))  # saves the network notes into the cache
    assert list((cache / 'network_sources').iterdir())
    plant_user_files(out, outside)
    plant_user_files(cache, outside)
    (cache / 'features_link').symlink_to(outside / 'features', target_is_directory=True)
    # An output folder that is a link to a folder outside, whose ledger names a file there (as if the tool had
    # written it through the link): the rerun's clearing must not follow the link.
    shutil.rmtree(str(out / 'stylegan_realism'))
    (outside / 'realism_target').mkdir()
    (outside / 'realism_target' / 'precious.png').write_bytes(b'precious image')
    with open(str(outside / 'realism_target' / owned_files.LEDGER), 'w') as f:
        f.write(json.dumps(owned_files.HEADER) + '\n' + json.dumps(
            {'name': 'precious.png', 'size': 14, 'sha256': hashlib.sha256(b'precious image').hexdigest()}) + '\n')
    (out / 'stylegan_realism').symlink_to(outside / 'realism_target', target_is_directory=True)
    (out / '.run_metric_outputs.json').write_text('["stylegan_realism/precious.png"]')  # an older version's list
    # A ledger entry that names a user file behind a link, and one that names a file the user changed since.
    with open(str(outside / owned_files.LEDGER), 'w') as f:
        f.write(json.dumps(owned_files.HEADER) + '\n' + json.dumps({'name': 'precious.txt', 'size': 8, 'sha256':
                                                                    hashlib.sha256(b'precious').hexdigest()}) + '\n')
    (out / 'features' / 'evaluation.npz').write_bytes(b'the user replaced this file')
    user = snapshot(outside)
    user.update({p: v for p, v in snapshot(out, cache).items() if v[0] != 'dir' and not _is_tool_file(p)})

    rerun = cli('--real_features', reals, '--fake_features', fakes, '--save_path', str(out), '--quiet',
                '--cache_dir', str(cache), cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert 'changed since this tool wrote it' in rerun.stdout  # the replaced file is reported as kept
    cleared = cli('--clear_cache', '--cache_dir', str(cache), cwd=tmp_path)
    assert cleared.returncode == 0 and 'Traceback' not in cleared.stderr, cleared.stderr
    assert 'Removed 2 files' in cleared.stdout, cleared.stdout  # the two network notes (no GEMM choice is kept)
    damaged = tmp_path / 'damaged.pkl'
    damaged.write_bytes(b'\x80\x04not a whole pickle')
    images = tmp_path / 'images'
    images.mkdir()
    for i in range(5):
        PIL.Image.fromarray(np.full((16, 16, 3), 40 * i, np.uint8)).save(str(images / ('%d.png' % i)))
    for given in (str(damaged), 'file://' + str(damaged)):
        result = cli('--real_dir', str(images), '--fake_dir', str(images), '--feature_network', given,
                     '--save_path', str(tmp_path / 'o2'), '--cache_dir', str(cache), cwd=tmp_path)
        assert result.returncode == 2 and 'your file is left as it is' in result.stderr, result.stderr[-2000:]
    after = snapshot(outside, out, cache)
    changed = sorted(p for p, v in user.items() if after.get(p) != v)
    assert changed == [], changed
    assert damaged.read_bytes() == b'\x80\x04not a whole pickle'
    assert (out / 'features' / 'evaluation.npz').read_bytes() == b'the user replaced this file'
    assert (outside / 'realism_target' / 'precious.png').read_bytes() == b'precious image'


def _is_tool_file(path):
    folder, name = os.path.split(path)
    return name == owned_files.LEDGER or name in (owned_files.read_ledger(folder) or {})


def test_a_damaged_network_file_you_gave_is_named_and_kept(tmp_path):
    import utils
    from dnnlib.util import CorruptFileError
    victim = tmp_path / 'victim.txt'
    victim.write_text('data')
    for given in ('file://' + str(victim), str(victim)):
        with pytest.raises(CorruptFileError, match='your file is left as it is'):
            utils.initialize_feature_extractor(given, cache_dir=str(tmp_path / 'c'))
        assert victim.read_text() == 'data'


def test_a_damaged_download_is_removed_only_while_it_is_as_the_tool_wrote_it(tmp_path):
    from networks import loading
    from networks.sources import NetworkSource
    folder = tmp_path / 'cache'
    owned_files.track(str(folder))
    path = str(folder / ('0' * 32 + '_vgg16.pkl'))
    with output_files.atomic_output(path, 'wb') as f:
        f.write(b'\x80\x04garbage')

    class Opened:
        name = path

        def close(self):
            pass
    source = NetworkSource('https://example.invalid/vgg16.pkl', 'test')
    with open(path, 'ab') as f:
        f.write(b'!')  # changed after the tool wrote it: no longer provably the tool's
    with pytest.raises(output_files.NotOurFileError):  # it does not replace what it cannot prove its own
        with output_files.atomic_output(path, 'wb') as f:
            f.write(b'x')
    text = loading._damaged_file_message(Opened(), source, ValueError('bad'))
    aside = str(folder / ('damaged-' + os.path.basename(path)))
    assert 'changed since this tool wrote it, was moved aside to %s' % aside in text and not os.path.exists(path)
    with open(aside, 'rb') as f:
        assert f.read() == b'\x80\x04garbage!'  # its bytes are kept
    with output_files.atomic_output(str(folder / 'other_vgg.pkl'), 'wb') as f:  # unchanged: removed
        f.write(b'\x80\x04garbage')
    Opened.name = str(folder / 'other_vgg.pkl')
    assert 'this cached copy was removed' in loading._damaged_file_message(Opened(), source, ValueError('bad'))
    assert not os.path.exists(Opened.name)


def test_the_tool_never_replaces_a_file_it_did_not_write(tmp_path):
    owned_files.track(str(tmp_path))
    mine = tmp_path / 'results.json'
    mine.write_text('my own results')
    with pytest.raises(output_files.NotOurFileError, match='did not write it'):
        output_files.save_json(str(mine), {'a': 1})
    assert mine.read_text() == 'my own results' and sorted(p.name for p in tmp_path.iterdir()) == [owned_files.LEDGER,
                                                                                                  'results.json']
    ours = tmp_path / 'ours.json'
    output_files.save_json(str(ours), {'a': 1})
    output_files.save_json(str(ours), {'a': 2})  # its own file it replaces
    assert json.loads(ours.read_text()) == {'a': 2}


def test_clear_removes_killed_temporaries_by_inode_only(tmp_path):
    owned_files.track(str(tmp_path))
    tmp = tmp_path / '.tmp_download.abcd1234'
    tmp.write_bytes(b'partial')
    owned_files.record_temporary(str(tmp))
    owned_files.temporary_done((os.lstat(str(tmp)).st_dev, os.lstat(str(tmp)).st_ino))  # as if its writer was killed
    twin = tmp_path / '.tmp_download.efgh5678'
    twin.write_bytes(b'user')
    owned_files.record_temporary(str(twin))
    owned_files.temporary_done((os.lstat(str(twin)).st_dev, os.lstat(str(twin)).st_ino))
    os.link(str(twin), str(tmp_path / 'keep'))  # keeps the inode taken, so the new file below gets another one
    twin.unlink()
    twin.write_bytes(b'a new file of the user under the same name')
    removal = owned_files.remove_owned(str(tmp_path))
    assert removal.removed == [str(tmp)] and twin.exists()
    assert removal.kept == [(str(twin), 'replaced since this tool created it')]


def test_clear_cache_on_a_read_only_cache_reports_instead_of_failing(tmp_path):
    if os.geteuid() == 0:
        pytest.skip('root may remove files in read-only folders; this checks the report for other users')
    cache = tmp_path / 'cache'
    owned_files.track(str(cache))
    output_files.save_json(str(cache / 'features' / 'x.json'), {})
    (cache / 'features').chmod(0o555)
    try:
        result = cli('--clear_cache', '--cache_dir', str(cache), cwd=tmp_path)
    finally:
        (cache / 'features').chmod(0o755)
    assert result.returncode == 0 and 'Traceback' not in result.stderr and 'could not be removed' in result.stdout


def test_clear_cache_on_a_read_only_file_system_reports_instead_of_failing(tmp_path, monkeypatch, capsys):
    """EROFS refuses even root: simulated here, since a test cannot mount a read-only file system."""
    import errno
    import run_metric
    cache = tmp_path / 'cache'
    owned_files.track(str(cache))
    output_files.save_json(str(cache / 'features' / 'x.json'), {})

    def read_only(path, *args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), path)
    monkeypatch.setattr(owned_files.os, 'unlink', read_only)
    assert run_metric.main(['--clear_cache', '--cache_dir', str(cache)]) == 0
    out = capsys.readouterr().out
    assert 'Removed 0 files' in out and 'could not be removed: %s' % os.strerror(errno.EROFS) in out
    assert (cache / 'features' / 'x.json').exists()


def test_one_run_per_output_folder(tmp_path):
    with FolderLock(str(tmp_path), '--save_path'):
        with pytest.raises(FolderBusyError, match='in use by another run'):
            with FolderLock(str(tmp_path), '--save_path'):
                pass
        reals, fakes = features_file(tmp_path, 'r.npy', 0), features_file(tmp_path, 'f.npy', 1)
        result = cli('--real_features', reals, '--fake_features', fakes, '--save_path', str(tmp_path), '--quiet',
                     cwd=tmp_path)
        assert result.returncode == 2 and 'in use by another run of this tool (process %d' % os.getpid() \
            in result.stderr and not (tmp_path / 'results.json').exists()
    assert not (tmp_path / '.run_in_progress.lock').exists()


def test_a_lock_left_by_a_dead_process_is_taken_over_only_when_the_tool_made_it(tmp_path, capsys):
    import socket
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    stale = json.dumps({'host': socket.gethostname(), 'pid': dead.pid})
    lock_file = tmp_path / '.run_in_progress.lock'
    lock_file.write_text(stale)  # looks like a stale lock, but the tool did not create it: left alone
    with pytest.raises(FolderBusyError, match='cannot prove it created that file'):
        with FolderLock(str(tmp_path), '--save_path'):
            pass
    assert lock_file.read_text() == stale
    lock_file.unlink()
    owned_files.track(str(tmp_path))
    killed = FolderLock(str(tmp_path), '--save_path').__enter__()  # a run that never reaches __exit__
    with open(str(lock_file), 'r+') as f:  # as if that run had been another process, now dead (same file)
        f.write(stale)
        f.truncate()
    owned_files.temporary_done(killed.inode)
    with FolderLock(str(tmp_path), '--save_path'):
        assert 'took over the lock' in capsys.readouterr().out
    assert not lock_file.exists()


def test_two_runs_started_together_into_one_folder_never_mix(tmp_path):
    reals = features_file(tmp_path, 'r.npy', 0)
    fakes = [features_file(tmp_path, 'f%d.npy' % i, 10 + i) for i in range(2)]
    results = [None, None]

    def run(i):
        results[i] = cli('--real_features', reals, '--fake_features', fakes[i], '--save_path', str(tmp_path / 'out'),
                         '--save_features', '--quiet', cwd=tmp_path)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
        time.sleep(0.05)
    for t in threads:
        t.join()
    codes = sorted(r.returncode for r in results)
    assert codes in ([0, 0], [0, 2]), [r.stderr[-500:] for r in results]
    if codes == [0, 2]:
        loser = next(r for r in results if r.returncode == 2)
        assert 'in use by another run' in loser.stderr
    saved = np.load(str(tmp_path / 'out' / 'features' / 'evaluation.npz'))
    summary = json.loads((tmp_path / 'out' / 'results.json').read_text())
    winner = fakes.index(summary['config']['fake_features'])
    np.testing.assert_array_equal(saved['fake_features'], np.load(fakes[winner]).astype(saved['fake_features'].dtype))


def test_a_rerun_never_removes_its_own_input_files(tmp_path):
    """--save_features outputs given back as --real_features/--fake_features (FILE.npz:KEY) to a rerun into the
    same --save_path: clearing the previous run's files keeps them, naming why."""
    rs = np.random.RandomState(3)
    np.save(str(tmp_path / 'r.npy'), rs.rand(40, 6).astype(np.float32))
    np.save(str(tmp_path / 'f.npy'), rs.rand(30, 6).astype(np.float32))
    out = tmp_path / 'out'
    first = subprocess.run([sys.executable, os.path.join(REPO, 'run_metric.py'), '--real_features',
                            str(tmp_path / 'r.npy'), '--fake_features', str(tmp_path / 'f.npy'), '--save_path',
                            str(out), '--save_features', '--quiet'], capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr[-2000:]
    saved = out / 'features' / 'evaluation.npz'
    before = saved.read_bytes()
    again = subprocess.run([sys.executable, os.path.join(REPO, 'run_metric.py'), '--real_features',
                            str(saved) + ':real_features', '--fake_features', str(saved) + ':fake_features',
                            '--save_path', str(out), '--quiet'], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert saved.read_bytes() == before
    assert '%s (an input of this run)' % saved in again.stdout
