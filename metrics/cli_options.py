"""Command-line options shared by the official IS / FID / precalc scripts."""
import os


def add_inception_options(parser, batch_size):
    parser.add_argument('--batch_size', type=int, default=batch_size)
    parser.add_argument('--gpu', default=None, help='CUDA_VISIBLE_DEVICES to use ("" = CPU)')
    parser.add_argument('-i', '--inception', default=None,
                        help='path of classify_image_graph_def.pb (default: downloaded into _cache/inception)')
    parser.add_argument('--quiet', action='store_true', help='no progress bar')


def apply_gpu_choice(args):
    """Set CUDA_VISIBLE_DEVICES before TensorFlow initializes its devices, as TTUR's --gpu does."""
    if args.gpu is not None:
        os.environ['CUDA_VISIBLE_DEVICES'] = args.gpu
