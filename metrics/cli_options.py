"""Command-line options shared by the official IS / FID / precalc scripts."""
import os


def positive_int(text):
    """argparse type: an integer >= 1 (argparse reports anything else as a usage error, exit 2)."""
    import argparse
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError('%r is not an integer' % text)
    if value < 1:
        raise argparse.ArgumentTypeError('must be >= 1, got %d' % value)
    return value


def add_inception_options(parser, batch_size):
    parser.add_argument('--batch_size', type=positive_int, default=batch_size)
    parser.add_argument('--allow_large_images', action='store_true',
                        help="read images above PIL's decompression-bomb limit; only for files you trust")
    parser.add_argument('--gpu', default=None, help='CUDA_VISIBLE_DEVICES to use ("" = CPU)')
    parser.add_argument('-i', '--inception', default=None,
                        help='path of classify_image_graph_def.pb (default: downloaded into _cache/inception)')
    parser.add_argument('--quiet', action='store_true', help='no progress bar')


def apply_gpu_choice(args):
    """Set CUDA_VISIBLE_DEVICES before TensorFlow initializes its devices, as TTUR's --gpu does.

    Also applies --allow_large_images.
    """
    if args.gpu is not None:
        os.environ['CUDA_VISIBLE_DEVICES'] = args.gpu
    if getattr(args, 'allow_large_images', False):
        from datasets.image_folder import allow_large_images
        allow_large_images(True)


def run_cli(body):
    """Run body() -> exit status; ValueError/OSError -> 'error: ...' and 2, Ctrl-C -> 'interrupted' and 130."""
    import sys
    try:
        return body()
    except (ValueError, OSError) as e:
        print('error: %s' % e, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print('interrupted', file=sys.stderr)
        return 130
