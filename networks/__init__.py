"""Network definitions (StyleGAN generator, VGG16 feature network) rebuilt in TF2."""
