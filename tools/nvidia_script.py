r"""Run one of NVIDIA's scripts, unchanged, with this project's dnnlib (TensorFlow 2) in place of the checkout's.

    python tools/nvidia_script.py /path/to/stylegan2/run_generator.py generate-images --network=net.pkl \
        --seeds=6600-6605 --truncation-psi=0.5

Python puts a script's own folder first on sys.path, where NVIDIA's checkouts keep their TF1 dnnlib; this launcher
puts the project first and the script's folder (for its other modules: pretrained_networks, config, ...) second,
then runs the script as __main__ with the remaining arguments. What runs and what does not: README, "Running
NVIDIA's scripts on TensorFlow 2".
"""
import os
import runpy
import sys

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ('-h', '--help'):
        print(__doc__)
        return 0 if argv else 2
    script = os.path.abspath(argv[0])
    if not os.path.isfile(script):
        print('error: no such script: %s' % argv[0], file=sys.stderr)
        return 2
    folder = os.path.dirname(script)
    sys.path[:] = [PROJECT, folder] + [p for p in sys.path if os.path.abspath(p or '.') not in (PROJECT, folder)]
    sys.argv = [script] + argv[1:]
    runpy.run_path(script, run_name='__main__')
    return 0


if __name__ == '__main__':
    sys.exit(main())
