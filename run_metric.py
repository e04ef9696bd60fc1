"""Improved precision and recall metric: experiments of Kynkaanniemi et al. (2019) in TensorFlow 2.

    python run_metric.py                                      # embedded demo, no downloads
    python run_metric.py --data_dir <ffhq tfrecords> --truncation_sweep [--realism_score]

With no arguments it runs a self-contained feature-space truncation sweep and
writes `stylegan_truncation.txt` in the official format.
"""
import argparse
import os
import sys


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('-d', '--data_dir', type=str, default=None,
                        help='Absolute path to the FFHQ TFRecords directory (official flag).')
    parser.add_argument('-t', '--truncation_sweep', action='store_true',
                        help='StyleGAN truncation sweep psi in 1.0, 0.7, 0.3 (paper Fig. 4).')
    parser.add_argument('-r', '--realism_score', action='store_true',
                        help='Realism score of 1000 StyleGAN images (paper Fig. 11).')
    parser.add_argument('--save_path', type=str, default='results',
                        help='Folder for the output files (default: ./results).')
    parser.add_argument('--demo', action='store_true',
                        help='Run the embedded feature-space demo (the default when no data is given).')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.demo or args.data_dir is None:
        from experiments import feature_space_demo
        print('No --data_dir given: running the embedded feature-space truncation sweep (no downloads).')
        feature_space_demo.run(args.save_path)
        print('To run on real data: python run_metric.py --data_dir /path/to/ffhq-tfrecords --truncation_sweep')
        return 0
    if not os.path.isdir(args.data_dir):
        print('error: --data_dir %s is not a directory' % args.data_dir, file=sys.stderr)
        return 2
    print('error: the StyleGAN/VGG pipeline is not available in this version yet; '
          'use precision_recall.knn_precision_recall_features on your own features.', file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main())
