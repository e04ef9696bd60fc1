"""Check that requirements.txt installs on every platform TensorFlow supports, without installing anything.

    python tools/check_install.py [--requirements requirements.txt] [--pythons 3.10 3.11 3.12 3.13]

For each (platform, Python) pair it evaluates the environment markers of requirements.txt as
that platform would, then asks pip for the selected TensorFlow wheel with
`pip download --no-deps --only-binary=:all: --platform ... --python-version ...` into a temporary
folder (the wheel is downloaded to prove it exists, then deleted) and prints a table
platform -> resolved wheel. Needs the package index; not part of the test suite.
Exit status 0 when every pair resolves.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

try:
    from packaging.requirements import Requirement
except ImportError:  # pip vendors packaging
    from pip._vendor.packaging.requirements import Requirement

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name -> (marker environment, pip platform tags accepted by that platform, newest first)
PLATFORMS = {
    'Linux x86_64': ({'sys_platform': 'linux', 'platform_system': 'Linux', 'platform_machine': 'x86_64',
                      'os_name': 'posix'},
                     ['manylinux_2_28_x86_64', 'manylinux_2_27_x86_64', 'manylinux_2_17_x86_64',
                      'manylinux2014_x86_64']),
    'Linux aarch64': ({'sys_platform': 'linux', 'platform_system': 'Linux', 'platform_machine': 'aarch64',
                       'os_name': 'posix'},
                      ['manylinux_2_28_aarch64', 'manylinux_2_27_aarch64', 'manylinux_2_17_aarch64',
                       'manylinux2014_aarch64']),
    'macOS arm64': ({'sys_platform': 'darwin', 'platform_system': 'Darwin', 'platform_machine': 'arm64',
                     'os_name': 'posix'},
                    ['macosx_14_0_arm64', 'macosx_13_0_arm64', 'macosx_12_0_arm64']),
    'Windows x86_64': ({'sys_platform': 'win32', 'platform_system': 'Windows', 'platform_machine': 'AMD64',
                        'os_name': 'nt'},
                       ['win_amd64']),
}


def tensorflow_requirement(requirements_path, environment):
    """The TensorFlow requirement line of requirements.txt that applies in `environment`, or None."""
    chosen = []
    with open(requirements_path) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if not line or line.startswith('-'):
                continue
            req = Requirement(line)
            if not req.name.lower().startswith('tensorflow'):
                continue
            if req.marker is None or req.marker.evaluate(environment):
                chosen.append(req)
    if len(chosen) > 1:
        raise ValueError('%d TensorFlow lines apply at once: %s' % (len(chosen), [str(r) for r in chosen]))
    return chosen[0] if chosen else None


def resolve(requirement, tags, python):
    """File name of the wheel pip picks for (tags, python), or 'NOT FOUND: <pip's reason>'."""
    spec = '%s%s' % (requirement.name, requirement.specifier)
    with tempfile.TemporaryDirectory() as folder:
        cmd = [sys.executable, '-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--quiet',
               '--python-version', python, '--dest', folder, spec]
        for tag in tags:
            cmd[5:5] = ['--platform', tag]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        wheels = [n for n in os.listdir(folder) if n.endswith('.whl')]
    if result.returncode == 0 and wheels:
        return wheels[0]
    reason = re.findall(r'ERROR: (.*)', result.stderr)
    return 'NOT FOUND: %s' % (reason[0][:90] if reason else result.stderr.strip()[-90:])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--requirements', default=os.path.join(HERE, 'requirements.txt'))
    p.add_argument('--pythons', nargs='+', default=['3.10', '3.11', '3.12', '3.13'])
    args = p.parse_args(argv)
    rows, ok = [], True
    for name, (environment, tags) in PLATFORMS.items():
        for python in args.pythons:
            env = dict(environment, python_version=python, python_full_version=python + '.0',
                       implementation_name='cpython', platform_python_implementation='CPython')
            requirement = tensorflow_requirement(args.requirements, env)
            if requirement is None:
                rows.append((name, python, '-', 'NO TensorFlow line applies'))
                ok = False
                continue
            wheel = resolve(requirement, tags, python)
            ok &= not wheel.startswith('NOT FOUND')
            rows.append((name, python, str(requirement.name + str(requirement.specifier)), wheel))
    widths = [max(len(r[i]) for r in rows + [('platform', 'python', 'requirement', 'wheel')]) for i in range(4)]
    line = ' | '.join('%%-%ds' % w for w in widths)
    print(line % ('platform', 'python', 'requirement', 'wheel'))
    print('-+-'.join('-' * w for w in widths))
    for row in rows:
        print(line % row)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
