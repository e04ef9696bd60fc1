"""StyleGAN `dataset_tool` TFRecords: reading (as the official FFHQ data reader) and writing.

Format: `<dir>/<name>-rNN.tfrecords`, one file per resolution 2^NN (NN = 10 for
FFHQ-1024, down to 02), uncompressed. Each record is a `tf.train.Example` with
'shape' (int64 list [C, H, W]) and 'data' (uint8 CHW bytes). The official reader
uses the highest-resolution file as one unshuffled stream that repeats forever
(`shuffle_mb=0, repeat=True`); `TFRecordImages` reads it the same way.
Only the highest-resolution file is needed here (the official reader wants all).
"""
import glob
import os
import struct

import numpy as np
import tensorflow as tf

from dnnlib.output_files import pending_file


class DatasetError(ValueError):
    """Missing, empty, truncated or corrupt dataset."""


def _crc32c(data):
    """CRC-32C (Castagnoli), bitwise; used only on 8-byte record headers."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def _masked_crc32c(data):
    crc = _crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _scan_records(path):
    """Byte offsets of the records of a TFRecord file; DatasetError if the framing is truncated or corrupt.

    Reads only the 12-byte headers (length + its CRC); record bodies are checked when read.
    """
    offsets = []
    size = os.path.getsize(path)
    with open(path, 'rb') as f:
        position = 0
        while position < size:
            header = f.read(12)
            if len(header) < 12:
                raise DatasetError('%s: truncated record header at byte %d (file size %d)' % (path, position, size))
            length = struct.unpack('<Q', header[:8])[0]
            if struct.unpack('<I', header[8:])[0] != _masked_crc32c(header[:8]):
                raise DatasetError('%s: corrupt header of record %d at byte %d (not a TFRecord file, or damaged)'
                                   % (path, len(offsets), position))
            end = position + 12 + length + 4
            if end > size:
                raise DatasetError('%s: record %d at byte %d claims %d bytes but the file ends at %d (truncated file)'
                                   % (path, len(offsets), position, length, size))
            offsets.append(position)
            position = end
            f.seek(position)
    return offsets


def _parse_example(serialized, path, index):
    try:
        example = tf.io.parse_single_example(serialized, {
            'shape': tf.io.FixedLenFeature([3], tf.int64),
            'data': tf.io.FixedLenFeature([], tf.string)})
        shape = example['shape'].numpy()
        data = np.frombuffer(example['data'].numpy(), dtype=np.uint8)
    except tf.errors.OpError as e:
        raise DatasetError('%s: record %d is not a dataset_tool example (%s)' % (path, index, e.message)) from e
    if data.size != int(np.prod(shape)):
        raise DatasetError('%s: record %d holds %d bytes for shape %s' % (path, index, data.size, shape.tolist()))
    return data.reshape(shape)


class TFRecordImages:
    """Images of the highest-resolution TFRecords file of a dataset_tool folder, in file order.

    Attributes: path, num_images, shape ([C, H, W]), identity (str for cache keys).
    """

    def __init__(self, tfrecord_dir, verbose=True):
        if not os.path.isdir(tfrecord_dir):
            raise DatasetError('TFRecords directory %s does not exist' % tfrecord_dir)
        files = sorted(glob.glob(os.path.join(glob.escape(tfrecord_dir), '*.tfrecords')))
        if not files:
            raise DatasetError('no *.tfrecords files in %s' % tfrecord_dir)
        best = None
        for path in files:
            try:
                first = next(iter(self._dataset(path)), None)
            except tf.errors.OpError as e:
                raise DatasetError('%s: cannot read the first record (%s)' % (path, e.message)) from e
            if first is None:
                continue
            shape = _parse_example(first, path, 0).shape
            if best is None or shape[1] * shape[2] > best[1][1] * best[1][2]:
                best = (path, shape)
        if best is None:
            raise DatasetError('every *.tfrecords file in %s is empty' % tfrecord_dir)
        self.path, self.shape = best[0], list(best[1])
        self.num_images = len(_scan_records(self.path))
        stat = os.stat(self.path)
        self.identity = 'tfrecords:%s:%d:%d:%d' % (os.path.abspath(self.path), stat.st_size, int(stat.st_mtime),
                                                   self.num_images)
        if verbose:
            print('Dataset: %s, %d images of shape %s' % (self.path, self.num_images, self.shape))

    @staticmethod
    def _dataset(path, start=0):
        return tf.data.TFRecordDataset(path, buffer_size=64 << 20).skip(start).as_numpy_iterator()

    def iterate(self, start=0):
        """Yield uint8 [C, H, W] images from index `start` to the end of the file."""
        index = start
        try:
            for serialized in self._dataset(self.path, start):
                image = _parse_example(serialized, self.path, index)
                if list(image.shape) != self.shape:
                    raise DatasetError('%s: record %d has shape %s, expected %s' % (self.path, index,
                                                                                    list(image.shape), self.shape))
                yield image
                index += 1
        except tf.errors.DataLossError as e:
            raise DatasetError('%s: corrupt record %d (%s)' % (self.path, index, e.message)) from e


def dataset_labels(tfrecord_dir):
    """Labels [N, label_size] of a dataset_tool folder (its first *.labels file, a NumPy array, as NVIDIA's
    training/dataset.py finds it), or None when it has none. DatasetError for a file that is not a 2-D array."""
    from dnnlib.array_files import load_array_file
    files = sorted(glob.glob(os.path.join(glob.escape(tfrecord_dir), '*.labels')))
    if not files:
        return None
    try:
        labels = load_array_file(files[0], 'label file', '.npy array [N, label_size]')
    except ValueError as e:
        raise DatasetError(str(e)) from e
    if not isinstance(labels, np.ndarray) or labels.ndim != 2 or not len(labels):
        raise DatasetError('%s: expected a NumPy array [N, label_size] with N >= 1' % files[0])
    return labels


def write_tfrecords(tfrecord_dir, images, name=None):
    """Write uint8 images [N, C, R, R] (R a power of two) as dataset_tool TFRecords, one file per resolution.

    Lower resolutions are 2x2 box averages of the previous level's floats, stored rounded
    (np.rint, clip) like dataset_tool. Each file appears only when complete.
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.dtype != np.uint8 or images.shape[2] != images.shape[3]:
        raise ValueError('images must be uint8 [N, C, R, R], got %s %s' % (images.dtype, images.shape))
    resolution_log2 = int(np.log2(images.shape[2]))
    if 2 ** resolution_log2 != images.shape[2]:
        raise ValueError('resolution must be a power of two, got %d' % images.shape[2])
    name = name or os.path.basename(os.path.normpath(tfrecord_dir))
    os.makedirs(tfrecord_dir, exist_ok=True)
    levels = []
    level = images.astype(np.float32)
    for lod in range(resolution_log2 - 1):
        if lod:
            level = (level[:, :, 0::2, 0::2] + level[:, :, 0::2, 1::2] + level[:, :, 1::2, 0::2]
                     + level[:, :, 1::2, 1::2]) * 0.25
        levels.append(np.rint(level).clip(0, 255).astype(np.uint8))
    for lod, data in enumerate(levels):
        path = os.path.join(tfrecord_dir, '%s-r%02d.tfrecords' % (name, resolution_log2 - lod))
        with pending_file(tfrecord_dir, name=os.path.basename(path)) as pending:
            pending.file.close()  # the TFRecordWriter writes the temporary file by its path
            with tf.io.TFRecordWriter(pending.path) as writer:
                for image in data:
                    example = tf.train.Example(features=tf.train.Features(feature={
                        'shape': tf.train.Feature(int64_list=tf.train.Int64List(value=image.shape)),
                        'data': tf.train.Feature(bytes_list=tf.train.BytesList(value=[image.tobytes()]))}))
                    writer.write(example.SerializeToString())
            pending.commit(path)
    return tfrecord_dir
