"""Image folders as the official IS/FID scripts read them: HxWx3 float32 RGB arrays, 0..255."""
from datasets.image_folder import ImageFolder


def folder_images(folder, verbose=True):
    """(generator of [H, W, 3] float32 images in sorted file order, count) for a folder of PNG/JPEG files."""
    source = ImageFolder(folder, verbose=verbose)

    def images():
        for chw in source.iterate():
            yield chw.transpose(1, 2, 0).astype('float32')
    return images(), source.num_images
