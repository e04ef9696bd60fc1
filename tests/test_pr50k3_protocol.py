"""pr50k3 as NVIDIA runs it: float16 overflow kept and counted, labels drawn from the dataset, 8 images per device."""
import warnings

import numpy as np
import pytest

import precision_recall
import run_metric
from metrics.manifold_stats import OverflowWarning
from metrics.options import Options


def overflowing_sets(seed=0):
    """Integer features (exact in float16) where some rows hold a 300: their squared norms (>= 90000) overflow
    float16, so distances to them are inf and between two of them NaN (inf - inf)."""
    rs = np.random.RandomState(seed)

    def make(n, huge):
        x = rs.randint(0, 4, size=(n, 6)).astype(np.float32) * 3
        x[:huge, 0] = 300
        rs.shuffle(x)
        return x
    return make(120, 12), make(100, 9)


def nvidia_semantics(ref, evl, k=3):
    """NVIDIA's pr50k3 decisions in float64 NumPy: D = NaN between two overflowing rows, inf between one and a
    finite row, else exact; radii by np.partition (NaN sorts last); inside where D <= r (NaN never inside)."""
    def distances(a, b):
        huge_a, huge_b = (a ** 2).sum(1) > 65504, (b ** 2).sum(1) > 65504
        d = ((a[:, None, :].astype(np.float64) - b[None, :, :]) ** 2).sum(-1)
        d[huge_a[:, None] | huge_b[None, :]] = np.inf
        d[huge_a[:, None] & huge_b[None, :]] = np.nan
        return d

    def radii(x):
        return np.partition(distances(x, x), k, axis=1)[:, k]
    with np.errstate(invalid='ignore'):
        precision_pred = (distances(evl, ref) <= radii(ref)[None, :]).any(axis=1)
        recall_pred = (distances(ref, evl) <= radii(evl)[None, :]).any(axis=1)
    return precision_pred, recall_pred, radii(ref), radii(evl)


def test_float16_overflow_gives_nvidias_numbers_with_a_count():
    ref, evl = overflowing_sets()
    precision_pred, recall_pred, ref_radii, eval_radii = nvidia_semantics(ref, evl)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        got = precision_recall.knn_precision_recall_details(ref, evl, [3], 'nvidia_fp16', Options(1, 10000, 10000),
                                                            verbose=False)
    np.testing.assert_array_equal(got['precision_pred'][:, 0], precision_pred)
    np.testing.assert_array_equal(got['recall_pred'][:, 0], recall_pred)
    np.testing.assert_array_equal(got['ref_radii'][:, 0].astype(np.float64), ref_radii)
    np.testing.assert_array_equal(got['eval_radii'][:, 0].astype(np.float64), eval_radii)
    assert got['precision'][0] == precision_pred.mean() and got['recall'][0] == recall_pred.mean()
    # every distance that touches an overflowing row: two self passes and one cross pass
    huge_r, huge_e = 12, 9
    expected = (120 ** 2 - (120 - huge_r) ** 2) + (100 ** 2 - (100 - huge_e) ** 2) + \
        (120 * 100 - (120 - huge_r) * (100 - huge_e))
    report = got['overflow']
    assert report['nonfinite_distances'] == expected
    assert (report['nonfinite_real_radii'], report['nonfinite_fake_radii']) == (huge_r, huge_e)
    assert any(issubclass(w.category, OverflowWarning) and 'float16 overflow' in str(w.message) for w in caught)
    # the official float16 convention refuses the same features
    with pytest.raises(ValueError, match='float16'):
        precision_recall.knn_precision_recall_details(ref, evl, [3], 'float16', verbose=False)


def test_conditional_generators_get_labels_drawn_from_the_dataset(tmp_path):
    from experiments import stylegan2_pr50k3
    from features.extraction import generated_features

    class RecordingGenerator:
        input_shapes = [[None, 4], [None, 3]]
        input_shape = input_shapes[0]

        def __init__(self):
            self.labels = []

        def run(self, latents, labels, **kwargs):
            self.labels.append(labels)
            return np.zeros([len(latents), 3, 4, 4], np.uint8)

    class FeatureNet:
        output_shape = [None, 2]

        def run(self, images, **kwargs):
            return np.zeros([len(images), 2], np.float32)

    table = np.eye(3, dtype=np.float32)[[0, 1, 1, 2, 2, 2]]  # 6 records, one-hot
    with open(str(tmp_path / 'ds-rxx.labels'), 'wb') as f:
        np.save(f, table)  # as dataset_tool writes it (no .npy suffix)
    settings = run_metric.parse_args(['--data_dir', str(tmp_path), '--protocol', 'stylegan2_pr50k3',
                                      '--random_seed', '5'])
    Gs = RecordingGenerator()
    draw = stylegan2_pr50k3.conditional_labels(Gs, settings)
    generated_features(Gs, FeatureNet(), np.random.RandomState(5), 20, {}, Options(minibatch_size=8), labels=draw)
    rows = np.random.RandomState([5, stylegan2_pr50k3.LABEL_STREAM]).randint(6, size=20)
    np.testing.assert_array_equal(np.concatenate(Gs.labels), table[rows])
    assert [len(b) for b in Gs.labels] == [8, 8, 4]
    (tmp_path / 'ds-rxx.labels').unlink()
    with pytest.raises(ValueError, match='conditional.*which has none'):
        stylegan2_pr50k3.conditional_labels(Gs, settings)


def test_pr50k3_takes_8_images_per_device_per_step():
    one = run_metric.parse_args(['--data_dir', 'x', '--protocol', 'stylegan2_pr50k3'])
    two = run_metric.parse_args(['--data_dir', 'x', '--protocol', 'stylegan2_pr50k3', '--num_gpus', '2'])
    assert (one.options.minibatch_size, two.options.minibatch_size) == (8, 16)
    # the 2019 experiments keep --minibatch_size as the images of one step
    assert run_metric.parse_args(['--data_dir', 'x', '-t', '--num_gpus', '2']).options.minibatch_size == 8
