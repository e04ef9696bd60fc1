"""The command line sets the native libraries' load-time settings before NumPy and TensorFlow load, unless the
user set them; once a library is loaded its setting is left alone."""
import os
import subprocess
import sys

from dnnlib import native_settings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAMES = sorted(native_settings.SETTINGS)


def _environment_after_import(module, **user):
    """[value of each of NAMES in the environment after `import module` in a fresh interpreter]."""
    env = {k: v for k, v in os.environ.items() if k not in NAMES}
    env.update(user)
    code = ('import os, sys; sys.path.insert(0, %r); import %s; print(" ".join(os.environ.get(n, "-") for n in %r))'
            % (ROOT, module, NAMES))
    return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env, cwd=ROOT,
                          check=True).stdout.split()


def test_run_metric_applies_the_settings_on_import():
    assert _environment_after_import('run_metric') == [native_settings.SETTINGS[n][0] for n in NAMES]


def test_a_user_setting_stands():
    values = _environment_after_import('run_metric', OPENBLAS_THREAD_TIMEOUT='26', TF_CPU_ALLOCATOR_USE_BFC='false')
    assert values == [{'OPENBLAS_THREAD_TIMEOUT': '26', 'TF_CPU_ALLOCATOR_USE_BFC': 'false'}[n] for n in NAMES]


def test_a_loaded_library_keeps_its_setting(monkeypatch):
    import numpy  # noqa: F401
    import tensorflow  # noqa: F401
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    assert native_settings.apply_native_settings() == {}
    assert not any(name in os.environ for name in NAMES)


def test_the_library_api_applies_what_it_still_can():
    """`import precision_recall` sets both settings; after NumPy was imported, TensorFlow's allocator still."""
    assert _environment_after_import('precision_recall') == [native_settings.SETTINGS[n][0] for n in NAMES]
    after_numpy = dict(zip(NAMES, _environment_after_import('numpy, precision_recall')))
    assert after_numpy == {'OPENBLAS_THREAD_TIMEOUT': '-', 'TF_CPU_ALLOCATOR_USE_BFC': 'true'}
