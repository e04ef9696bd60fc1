"""ADM image batches: the .npz files of OpenAI's guided-diffusion evaluator, checked whole, read in bounded memory.

A batch holds `arr_0`, uint8 images [N, H, W, 3] (np.savez of a sample run, or a reference batch such as
VIRTUAL_imagenet256_labeled.npz). A reference batch may also hold the dataset's statistics `mu` [2048],
`sigma` [2048, 2048], `mu_s` [2023], `sigma_s` [2023, 2023]; the evaluator then takes FID and sFID from them
(they describe the whole dataset) and precision/recall from the batch's own images.

`AdmBatch(path)` checks everything knowable from the file before any work (the member, its header, its stored
size against the declared shape, the statistics' shapes and values) and `batches(64)` streams the images from
the zip member (a 50,000-image ImageNet-512 batch is 39 GB uncompressed).
"""
import os
import zipfile

import numpy as np

STATISTICS = {'mu': (2048,), 'sigma': (2048, 2048), 'mu_s': (2023,), 'sigma_s': (2023, 2023)}
IMAGES = 'arr_0'


class BatchError(ValueError):
    """The file is not a usable ADM batch (the message names the file and what is wrong)."""


def _header(member):
    """(shape, fortran_order, dtype, header bytes) of an .npy stream."""
    version = np.lib.format.read_magic(member)
    read = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}.get(version)
    if read is None:
        raise ValueError('unsupported .npy format version %s' % (version,))
    shape, fortran, dtype = read(member)
    return shape, fortran, dtype, member.tell()


class AdmBatch:
    """One ADM batch file.

    Attributes: path, num_images, image_shape [H, W, 3], statistics (None, or {'mu', 'sigma', 'mu_s', 'sigma_s'}
    as stored: mu float32/float64 [2048], ...).
    """

    def __init__(self, path, role='batch'):
        self.path, self.role = path, role
        if not os.path.isfile(path):
            raise BatchError('%s %s %s' % (role, path, 'is not a file' if os.path.exists(path) else 'does not exist'))
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
                if IMAGES + '.npy' not in names:
                    raise BatchError('%s %s has no %s (the images [N, H, W, 3]); it holds %s'
                                     % (role, path, IMAGES, sorted(n[:-4] for n in names) or 'nothing'))
                info = archive.getinfo(IMAGES + '.npy')
                with archive.open(info) as member:
                    shape, fortran, dtype, header_bytes = _header(member)
                self.statistics = self._read_statistics(archive, names)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
            if isinstance(e, BatchError):
                raise
            raise BatchError('%s %s is not a readable .npz batch (%s)' % (role, path, e)) from e
        self._check_images(shape, fortran, dtype, info.file_size - header_bytes)
        self.num_images, self.image_shape = int(shape[0]), [int(s) for s in shape[1:]]
        self._header_bytes = header_bytes

    def _check_images(self, shape, fortran, dtype, stored):
        if dtype != np.uint8 or len(shape) != 4 or shape[3] != 3 or fortran:
            raise BatchError('%s %s: %s must be uint8 images [N, H, W, 3] (C order), got %s %s%s'
                             % (self.role, self.path, IMAGES, dtype, list(shape), ' Fortran order' if fortran else ''))
        if shape[0] < 1 or shape[1] < 1 or shape[2] < 1:
            raise BatchError('%s %s: %s holds no images (shape %s)' % (self.role, self.path, IMAGES, list(shape)))
        declared = int(np.prod(shape, dtype=object))
        if stored != declared:
            raise BatchError('%s %s: %s declares %s (%d bytes) but the file stores %d bytes: truncated or damaged'
                             % (self.role, self.path, IMAGES, list(shape), declared, stored))

    def _read_statistics(self, archive, names):
        present = [key for key in STATISTICS if key + '.npy' in names]
        if not present:
            return None
        if len(present) != len(STATISTICS):
            raise BatchError('%s %s holds %s but not %s: a reference batch has all four statistics or none'
                             % (self.role, self.path, present, [k for k in STATISTICS if k not in present]))
        stats = {}
        for key, shape in STATISTICS.items():
            with archive.open(key + '.npy') as member:
                value = np.lib.format.read_array(member, allow_pickle=False)
            if value.shape != shape or value.dtype.kind != 'f':
                raise BatchError('%s %s: %s must be a float array of shape %s, got %s %s'
                                 % (self.role, self.path, key, list(shape), value.dtype, list(value.shape)))
            if not np.isfinite(value).all():
                raise BatchError('%s %s: %s holds NaN or inf' % (self.role, self.path, key))
            stats[key] = value
        return stats

    def batches(self, batch_size=64):
        """Yield uint8 [n, H, W, 3] arrays of up to batch_size images, in order, reading only those bytes."""
        per_image = int(np.prod(self.image_shape))
        with zipfile.ZipFile(self.path) as archive, archive.open(IMAGES + '.npy') as member:
            member.read(self._header_bytes)
            for begin in range(0, self.num_images, batch_size):
                count = min(batch_size, self.num_images - begin)
                data = member.read(count * per_image)
                if len(data) != count * per_image:
                    raise BatchError('%s %s: %s ends after %d images' % (self.role, self.path, IMAGES,
                                                                         begin + len(data) // per_image))
                yield np.frombuffer(data, np.uint8).reshape([count] + self.image_shape)


class ImageFolderBatch:
    """A folder of PNG/JPEG images read as a batch (datasets.image_folder: RGB uint8), without statistics.
    Consecutive images of equal size are batched together (the graph resizes each batch to 299 x 299)."""

    statistics = None

    def __init__(self, folder):
        from datasets.image_folder import ImageFolder
        self.folder = ImageFolder(folder, verbose=False)
        self.num_images = self.folder.num_images

    def batches(self, batch_size=64):
        return nhwc_batches(self.folder.iterate(), batch_size)


def nhwc_batches(images, batch_size):
    """uint8 [n, H, W, 3] batches of consecutive equal-size uint8 [3, H, W] images (the graph resizes per batch)."""
    from datasets.batching import equal_shape_batches
    for batch in equal_shape_batches(images, batch_size):
        yield np.asarray(batch).transpose(0, 2, 3, 1)


IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg')


class ZipImagesBatch:
    """A .zip of PNG/JPEG images (members in name order, folders included) read as a batch without statistics:
    each decoded with PIL to 8-bit RGB (other modes converted); consecutive images of equal size batched."""

    statistics = None

    def __init__(self, path, role='batch'):
        self.path, self.role = path, role
        with zipfile.ZipFile(path) as archive:
            self.members = sorted(n for n in archive.namelist() if n.lower().endswith(IMAGE_SUFFIXES))
        if not self.members:
            raise BatchError('%s %s is a zip without PNG/JPEG images, arr_0 or pool activations' % (role, path))
        self.num_images = len(self.members)

    def images(self):
        """uint8 [3, H, W] images in member order."""
        import io

        import PIL.Image
        with zipfile.ZipFile(self.path) as archive:
            for name in self.members:
                try:
                    with PIL.Image.open(io.BytesIO(archive.read(name))) as image:
                        array = np.asarray(image.convert('RGB') if image.mode != 'RGB' else image, np.uint8)
                except (OSError, SyntaxError, ValueError) as e:
                    raise BatchError('%s %s: cannot read image %s (%s)' % (self.role, self.path, name, e)) from e
                yield array.transpose(2, 0, 1)

    def batches(self, batch_size=64):
        return nhwc_batches(self.images(), batch_size)


class ActivationsFile:
    """An .npz of Inception activations in place of a batch: pool [N, 2048] and spatial [N, 2023] (what
    --save_activations writes). Shapes and stored sizes are checked from the headers; load() reads the arrays."""

    statistics = None

    def __init__(self, path, role='batch'):
        from dnnlib.array_files import check_array_file, declared_arrays
        self.path, self.role = path, role
        try:
            check_array_file(path)
            arrays = declared_arrays(path)
        except ValueError as e:
            raise BatchError('%s activations %s: %s' % (role, path, e)) from e
        pool, spatial = (arrays.get(key, ((),))[0] for key in ('pool', 'spatial'))
        if len(pool) != 2 or pool[1] != 2048 or tuple(spatial) != (pool[0], 2023):
            raise BatchError('%s activations %s: need pool [N, 2048] and spatial [N, 2023], got %s and %s'
                             % (role, path, list(pool), list(spatial)))
        self.num_images = int(pool[0])

    def load(self):
        """(pool [N, 2048], spatial [N, 2023]) float32."""
        with np.load(self.path, allow_pickle=False) as data:
            return data['pool'].astype(np.float32), data['spatial'].astype(np.float32)
