"""Pure-TensorFlow versions of the custom ops StyleGAN2/ADA network code imports (no CUDA plugin).

`fused_bias_act` and `upfirdn_2d` have the signatures of NVlabs' `dnnlib.tflib.ops` modules
(the StyleGAN2-ADA superset: `clamp`, `padding`); `impl` is accepted and ignored -- every call
runs these TensorFlow ops, on any device, in graph or eager mode.
"""
