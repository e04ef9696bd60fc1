"""A folder of PNG/JPEG images as uint8 CHW RGB arrays, in sorted file-name order.

How a file becomes uint8 RGB (`TRANSFORM`, part of the feature cache key): 8-bit RGB as
stored; 16-bit grayscale (PIL modes I;16*, and I with values 0..65535) scaled to 8 bits by
value >> 8 (so a 16-bit copy of an 8-bit image, values x257, gives the 8-bit image back) and
repeated over 3 channels, with a one-time note; other modes (L, RGBA, P, ...) by PIL's
convert('RGB') with a warning. Images above PIL's decompression-bomb limit are an error naming
the file, unless `allow_large_images(True)` (`--allow_large_images`) lifts the limit.
"""
import hashlib
import os
import warnings
from stat import S_ISREG

import numpy as np
import PIL.Image

from datasets.tfrecords import DatasetError

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg')
SIXTEEN_BIT_MODES = ('I;16', 'I;16L', 'I;16B', 'I;16N', 'I')
TRANSFORM = 'rgb8-v2: 8-bit RGB as stored; 16-bit grayscale >> 8; other modes PIL convert(RGB)'


def allow_large_images(allow=True):
    """Lift (or restore) PIL's decompression-bomb limit for images of any pixel count."""
    PIL.Image.MAX_IMAGE_PIXELS = None if allow else _DEFAULT_MAX_PIXELS


_DEFAULT_MAX_PIXELS = PIL.Image.MAX_IMAGE_PIXELS


class ImageFolder:
    """Images of a folder (recursively), any size; grayscale/RGBA/palette are converted to RGB with a warning.

    Attributes: folder, files (sorted relative paths), num_images, identity (str for cache keys),
    transform (how files become uint8 RGB, for cache keys).
    """

    transform = TRANSFORM

    def __init__(self, folder, verbose=True):
        if not os.path.isdir(folder):
            raise DatasetError('image folder %s %s' % (folder, 'is a file, not a folder' if os.path.exists(folder)
                                                        else 'does not exist'))
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
            try:
                stat = os.stat(os.path.join(folder, name))
            except OSError as e:  # a dangling symlink or a symlink loop
                raise DatasetError('cannot read image %s: %s' % (os.path.join(folder, name), e.strerror or e)) from e
            if not S_ISREG(stat.st_mode):  # a FIFO would block the reader forever, a device never end
                raise DatasetError('image %s is not a regular file (a FIFO, socket or device); remove it from the '
                                   'folder' % os.path.join(folder, name))
            listing.update(('%s:%d:%d\n' % (name, stat.st_size, int(stat.st_mtime))).encode())
        self.identity = 'folder:%s:%s' % (os.path.abspath(folder), listing.hexdigest())
        self._warned_modes = set()
        self._noted_16bit = False
        if verbose:
            print('Image folder: %s, %d images' % (folder, self.num_images))

    def sizes(self):
        """{(width, height): [file names]} read from the image headers (no pixels decoded)."""
        out = {}
        for name in self.files:
            path = os.path.join(self.folder, name)
            try:
                with PIL.Image.open(path) as image:
                    out.setdefault(image.size, []).append(name)
            except (OSError, SyntaxError, ValueError) as e:
                raise DatasetError('cannot read image %s: %s' % (path, e)) from e
        return out

    def check_one_size(self, purpose):
        """DatasetError naming the sizes (and an image of each) unless every image has the same size."""
        sizes = self.sizes()
        if len(sizes) > 1:
            listing = '; '.join('%dx%d: %d images (e.g. %s)' % (w, h, len(names), names[0])
                                for (w, h), names in sorted(sizes.items(), key=lambda item: -len(item[1])))
            raise DatasetError('%s needs images of one size; %s holds %s' % (purpose, self.folder, listing))

    def load(self, index):
        """uint8 [3, H, W] RGB image number `index`."""
        path = os.path.join(self.folder, self.files[index])
        try:
            with PIL.Image.open(path) as image:
                image.load()
                if image.mode in SIXTEEN_BIT_MODES:
                    array = self._sixteen_bit_to_rgb8(np.asarray(image), path)
                else:
                    if image.mode != 'RGB':
                        if image.mode not in self._warned_modes:
                            warnings.warn('%s: %s images are converted to RGB (first: %s)'
                                          % (self.folder, image.mode, self.files[index]))
                            self._warned_modes.add(image.mode)
                        image = image.convert('RGB')
                    array = np.asarray(image, dtype=np.uint8)
        except PIL.Image.DecompressionBombError as e:
            raise DatasetError('image %s is larger than PIL\'s decompression-bomb limit of %d pixels (%s); pass '
                               '--allow_large_images if you trust it' % (path, 2 * PIL.Image.MAX_IMAGE_PIXELS, e)) from e
        except (OSError, SyntaxError, ValueError) as e:
            raise DatasetError('cannot read image %s: %s' % (path, e)) from e
        return array.transpose(2, 0, 1)

    def _sixteen_bit_to_rgb8(self, values, path):
        """16-bit grayscale [H, W] -> uint8 RGB [H, W, 3] by value >> 8."""
        values = values.astype(np.int64)
        if values.size and (values.min() < 0 or values.max() > 65535):
            raise DatasetError('image %s: 32-bit integer values outside 0..65535 are not 16-bit images' % path)
        if not self._noted_16bit:
            print('Note: %s holds 16-bit images (first: %s); they are scaled to 8 bits by value >> 8'
                  % (self.folder, os.path.relpath(path, self.folder)))
            self._noted_16bit = True
        gray = (values >> 8).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)

    def iterate(self, start=0):
        """Yield uint8 [3, H, W] images from index `start` to the end."""
        for index in range(start, self.num_images):
            yield self.load(index)
