"""A folder of PNG/JPEG images as uint8 CHW RGB arrays, in sorted file-name order."""
import hashlib
import os
import warnings

import numpy as np
import PIL.Image

from datasets.tfrecords import DatasetError

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg')


class ImageFolder:
    """Images of a folder (recursively), any size; grayscale/RGBA/palette are converted to RGB with a warning.

    Attributes: folder, files (sorted relative paths), num_images, identity (str for cache keys).
    """

    def __init__(self, folder, verbose=True):
        if not os.path.isdir(folder):
            raise DatasetError('image folder %s does not exist' % folder)
        files = []
        for root, _, names in os.walk(folder):
            files += [os.path.relpath(os.path.join(root, n), folder) for n in names
                      if n.lower().endswith(IMAGE_EXTENSIONS)]
        if not files:
            raise DatasetError('no PNG or JPEG images in %s' % folder)
        self.folder = folder
        self.files = sorted(files)
        self.num_images = len(self.files)
        listing = hashlib.sha256()
        for name in self.files:
            stat = os.stat(os.path.join(folder, name))
            listing.update(('%s:%d:%d\n' % (name, stat.st_size, int(stat.st_mtime))).encode())
        self.identity = 'folder:%s:%s' % (os.path.abspath(folder), listing.hexdigest())
        self._warned_modes = set()
        if verbose:
            print('Image folder: %s, %d images' % (folder, self.num_images))

    def load(self, index):
        """uint8 [3, H, W] RGB image number `index`."""
        path = os.path.join(self.folder, self.files[index])
        try:
            with PIL.Image.open(path) as image:
                image.load()
                if image.mode != 'RGB':
                    if image.mode not in self._warned_modes:
                        warnings.warn('%s: %s images are converted to RGB (first: %s)'
                                      % (self.folder, image.mode, self.files[index]))
                        self._warned_modes.add(image.mode)
                    image = image.convert('RGB')
                array = np.asarray(image, dtype=np.uint8)
        except (OSError, SyntaxError, ValueError) as e:
            raise DatasetError('cannot read image %s: %s' % (path, e)) from e
        return array.transpose(2, 0, 1)

    def iterate(self, start=0):
        """Yield uint8 [3, H, W] images from index `start` to the end."""
        for index in range(start, self.num_images):
            yield self.load(index)
