"""Precompute TTUR-style FID statistics (mu, sigma) of an image folder.

    python metrics/precalc_stats_official_tf.py FOLDER OUT.npz [--batch_size 100] [--gpu 0] [-i GRAPH]

The file is interchangeable with TTUR's precalculated statistics (np.savez_compressed, keys mu, sigma).
"""
import argparse
import os
import sys

if __package__ in (None, ''):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from metrics import fid_official_tf  # noqa: E402
from metrics.cli_options import add_inception_options, apply_gpu_choice, run_cli  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('folder', help='folder of PNG/JPEG images')
    parser.add_argument('output', help='statistics file to write (.npz)')
    add_inception_options(parser, batch_size=100)
    parser.add_argument('--keep_remainder', action='store_true', help='use all images (TTUR drops N mod batch)')
    args = parser.parse_args(argv)
    apply_gpu_choice(args)
    from dnnlib.tf_logging import quiet_tensorflow
    quiet_tensorflow()
    from dnnlib.output_files import check_writable_folder
    from metrics.inception_graph import InceptionNet
    def body():
        if os.path.isdir(args.output):
            raise ValueError('the output %s is a folder; give the statistics file to write (e.g. stats.npz)'
                             % args.output)
        check_writable_folder(os.path.dirname(os.path.abspath(args.output)), 'the output folder')
        mu, sigma, _ = fid_official_tf.statistics_of_path(args.folder, lambda: InceptionNet(args.inception),
                                                          args.batch_size, args.keep_remainder, not args.quiet)
        fid_official_tf.save_statistics(args.output, mu, sigma)
        print('Saved statistics of %s to %s' % (args.folder, args.output))
        return 0
    return run_cli(body)


if __name__ == '__main__':
    sys.exit(main())
