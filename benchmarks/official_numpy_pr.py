"""Plain NumPy re-implementation of the official four-matrix P&R loop (the benchmark baseline).

Mirrors kynkaat/improved-precision-and-recall-metric `precision_recall.py`
step by step: one full row-batch x N distance buffer per manifold, np.partition
over whole rows, and evaluate() computing predictions, realism and nearest
neighbours over a second full buffer -- four distance matrices in all
(ref-ref, eval-eval, eval-ref, ref-eval). Float32 throughout.
"""
import numpy as np


def numpy_gemm(U, V):
    """U V^T [n, m] by the BLAS NumPy links."""
    return U @ V.T


GEMM = {'gemm': numpy_gemm}  # the GEMM the loop uses; benchmarks/bench_pr.py swaps in TensorFlow's to compare


def _distances(U, V):
    norm_u = np.sum(np.square(U), axis=1).reshape(-1, 1)
    norm_v = np.sum(np.square(V), axis=1).reshape(1, -1)
    return np.maximum(norm_u - 2 * GEMM['gemm'](U, V) + norm_v, 0.0)


def _fill(buffer, U, V, col_batch_size):
    for begin2 in range(0, len(V), col_batch_size):
        end2 = min(begin2 + col_batch_size, len(V))
        buffer[:len(U), begin2:end2] = _distances(U, V[begin2:end2])


def manifold_radii(features, nhood_sizes, row_batch_size, col_batch_size):
    """[N, K] squared k-NN radii as ManifoldEstimator.D."""
    n = len(features)
    radii = np.zeros([n, len(nhood_sizes)], dtype=np.float32)
    buffer = np.zeros([row_batch_size, n], dtype=np.float32)
    seq = np.arange(max(nhood_sizes) + 1, dtype=np.int32)
    for begin1 in range(0, n, row_batch_size):
        end1 = min(begin1 + row_batch_size, n)
        _fill(buffer, features[begin1:end1], features, col_batch_size)
        radii[begin1:end1, :] = np.partition(buffer[0:end1 - begin1, :], seq, axis=1)[:, nhood_sizes]
    return radii


def evaluate(ref_features, radii, eval_features, row_batch_size, col_batch_size, eps=1e-5):
    """(pred int32 [M, K], realism float32 [M], nearest int32 [M]) as ManifoldEstimator.evaluate."""
    m = len(eval_features)
    buffer = np.zeros([row_batch_size, len(ref_features)], dtype=np.float32)
    pred = np.zeros([m, radii.shape[1]], dtype=np.int32)
    realism = np.zeros([m], dtype=np.float32)
    nearest = np.zeros([m], dtype=np.int32)
    for begin1 in range(0, m, row_batch_size):
        end1 = min(begin1 + row_batch_size, m)
        rows = end1 - begin1
        _fill(buffer, eval_features[begin1:end1], ref_features, col_batch_size)
        pred[begin1:end1] = np.any(buffer[0:rows, :, None] <= radii, axis=1).astype(np.int32)
        realism[begin1:end1] = np.max(radii[:, 0] / (buffer[0:rows, :] + eps), axis=1)
        nearest[begin1:end1] = np.argmin(buffer[0:rows, :], axis=1)
    return pred, realism, nearest


def knn_precision_recall(ref_features, eval_features, nhood_sizes=(3,), row_batch_size=10000,
                         col_batch_size=50000):
    """{'precision', 'recall'} float64 [K] and the per-sample decisions {'precision_pred', 'recall_pred'}
    int32 [M, K] / [N, K], computed the official way."""
    nhood_sizes = list(nhood_sizes)
    ref_radii = manifold_radii(ref_features, nhood_sizes, row_batch_size, col_batch_size)
    eval_radii = manifold_radii(eval_features, nhood_sizes, row_batch_size, col_batch_size)
    precision = evaluate(ref_features, ref_radii, eval_features, row_batch_size, col_batch_size)[0]
    recall = evaluate(eval_features, eval_radii, ref_features, row_batch_size, col_batch_size)[0]
    return {'precision': precision.mean(axis=0), 'recall': recall.mean(axis=0), 'precision_pred': precision,
            'recall_pred': recall}
