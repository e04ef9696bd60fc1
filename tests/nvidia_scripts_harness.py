"""Runs functions of NVIDIA's own scripts, unchanged, from a local checkout, on one network pickle; writes PNGs.

    python tests/nvidia_scripts_harness.py --dnnlib ours|nvidia --repo CHECKOUT --generation stylegan|stylegan2
                                           --pickle NETWORK.pkl --out FOLDER

--dnnlib ours puts this project first on sys.path (its dnnlib serves the scripts); --dnnlib nvidia runs the
checkout's own dnnlib on TensorFlow 2 with the environment shims the shared fixtures' READMEs list (TF1 graph mode,
stub tensorboard/contrib modules, the pure-TF reference ops, soft placement, bool noise shapes). Both runs get one
more shim: NVIDIA's generate_figures.py passes generators to np.stack, which NumPy 2 refuses; np.stack takes them
as lists here. Nothing of NVIDIA's code is copied: the scripts are imported from the checkout and their functions
called as their own main() calls them, with seeds and sizes for the small fixture networks. PNGs are written into
--out (the scripts' run folder is the working directory).
"""
import argparse
import os
import pickle
import sys
import types

import numpy as np

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def stack_generators():
    """np.stack that also takes a generator (NumPy 1 did; NumPy 2 raises TypeError)."""
    stack = np.stack

    def stack_any(arrays, *args, **kwargs):
        return stack(list(arrays) if isinstance(arrays, types.GeneratorType) else arrays, *args, **kwargs)
    np.stack = stack_any


def nvidia_shims(generation):
    """The fixture READMEs' environment shims for running NVIDIA's 2019 TF1 code on TensorFlow 2."""
    import tensorflow as tf
    tf.compat.v1.disable_v2_behavior()
    v1 = tf.compat.v1
    for name in ('tensorboard', 'tensorboard.summary', 'tensorboard.plugins', 'tensorboard.plugins.custom_scalar',
                 'tensorboard.plugins.custom_scalar.layout_pb2', 'tensorflow.contrib'):
        sys.modules[name] = types.ModuleType(name)
    sys.modules['tensorboard'].summary = sys.modules['tensorboard.summary']
    sys.modules['tensorflow'] = v1
    v1.contrib = sys.modules['tensorflow.contrib']
    get_variable = v1.get_variable

    def get_variable_int_shape(name, shape=None, *args, **kwargs):  # StyleGAN v1 noise shapes hold a bool
        shape = [int(d) if isinstance(d, bool) else d for d in shape] if shape is not None else shape
        return get_variable(name, shape, *args, **kwargs)
    v1.get_variable = get_variable_int_shape
    import dnnlib.tflib as tflib
    init_tf = tflib.init_tf
    tflib.init_tf = lambda config_dict=None: init_tf(dict(config_dict or {}, allow_soft_placement=True))
    if generation == 'stylegan2':
        from dnnlib.tflib.ops import fused_bias_act, upfirdn_2d
        fused_bias_act._fused_bias_act_cuda = fused_bias_act._fused_bias_act_ref
        upfirdn_2d._upfirdn_2d_cuda = upfirdn_2d._upfirdn_2d_ref


def stylegan_figures(pickle_path):
    """NVIDIA/stylegan: the steps of pretrained_example.py (randomize_noise=False) and three generate_figures.py
    figures, at the network's own size."""
    import dnnlib.tflib as tflib
    import PIL.Image
    import generate_figures
    tflib.init_tf()
    with open(pickle_path, 'rb') as f:
        _G, _D, Gs = pickle.load(f)
    Gs.print_layers()
    latents = np.random.RandomState(5).randn(1, Gs.input_shape[1])
    fmt = dict(func=tflib.convert_images_to_uint8, nchw_to_nhwc=True)
    images = Gs.run(latents, None, truncation_psi=0.7, randomize_noise=False, output_transform=fmt)
    PIL.Image.fromarray(images[0], 'RGB').save('example.png')
    size, layers = Gs.output_shape[-1], Gs.components.synthesis.input_shape[1]
    half = layers // 2
    generate_figures.draw_style_mixing_figure('style_mixing.png', Gs, w=size, h=size,
                                              src_seeds=[639, 701, 687, 615, 2268], dst_seeds=[888, 829, 1898],
                                              style_ranges=[range(0, 2)] * 1 + [range(2, half)] + [range(half, layers)])
    generate_figures.draw_truncation_trick_figure('truncation_trick.png', Gs, w=size, h=size, seeds=[91, 388],
                                                  psis=[1, 0.7, 0.5, 0, -0.5, -1])
    generate_figures.draw_noise_components_figure('noise_components.png', Gs, w=size, h=size, seeds=[1157, 1012],
                                                  noise_ranges=[range(0, layers), range(0, 0), range(half, layers),
                                                                range(0, half)], flips=[1])


def stylegan2_figures(pickle_path):
    """NVIDIA/stylegan2: run_generator.generate_images and style_mixing_example, as its main() calls them."""
    import run_generator
    run_generator.generate_images(pickle_path, seeds=[6600, 6601, 6602], truncation_psi=0.5)
    run_generator.style_mixing_example(pickle_path, row_seeds=[85, 100, 75], col_seeds=[55, 821], truncation_psi=1.0,
                                       col_styles=[0, 1, 2, 3], minibatch_size=4)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--dnnlib', choices=['ours', 'nvidia'], required=True)
    parser.add_argument('--repo', required=True, help='a checkout of NVlabs/stylegan or NVlabs/stylegan2')
    parser.add_argument('--generation', choices=['stylegan', 'stylegan2'], required=True)
    parser.add_argument('--pickle', required=True)
    parser.add_argument('--out', required=True)
    args = parser.parse_args()
    pickle_path = os.path.abspath(args.pickle)
    sys.path[:0] = [PROJECT, os.path.abspath(args.repo)] if args.dnnlib == 'ours' else [os.path.abspath(args.repo)]
    stack_generators()
    if args.dnnlib == 'nvidia':
        nvidia_shims(args.generation)
    os.makedirs(args.out, exist_ok=True)
    os.chdir(args.out)
    (stylegan_figures if args.generation == 'stylegan' else stylegan2_figures)(pickle_path)


if __name__ == '__main__':
    main()
