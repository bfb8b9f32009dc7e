r"""How good is a code for classification: a linear probe and k nearest neighbours.

Both take codes that are already computed (``H = model.encode(X)``, PCA codes, raw pixels) and
labels, train on one set and report the accuracy on another; the encoder stays frozen.

* :func:`linear_probe_accuracy`: multinomial logistic regression (an npae
  :class:`~npae.models.Classifier` with no hidden layer, softmax cross-entropy + L2) on the
  centred codes, all scaled by one number. It measures what is *linearly* decodable from the code.
* :func:`knn_accuracy`: the majority label of the ``k`` nearest training codes in Euclidean
  distance. It measures whether the code's geometry puts examples of one class together. The
  distances are computed as one matrix product per chunk of test rows,
  ``||a - b||^2 = ||a||^2 - 2 a.b + ||b||^2``, with no Python loop over test points; the chunk
  size bounds the memory (a chunk's distance matrix is at most ``max_bytes``).

See ``docs/15-feature-learning.md``.
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_array, check_float, check_int, check_labels
from ..models.classifier import Classifier
from ..optim import Adam


def _check_codes_and_labels(H_train, y_train, H_test, y_test, n_classes: int | None
                            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Two code matrices of one width, their labels, and the number of classes (inferred if None)."""
    H_train = check_array(H_train, "H_train", ndim=2)
    H_test = check_array(H_test, "H_test", ndim=2)
    if H_train.shape[1] != H_test.shape[1]:
        raise ValueError(f"H_train and H_test must have the same number of columns, got shapes "
                         f"{H_train.shape} and {H_test.shape}")
    if n_classes is None:  # the labels' own range, checked for integers first
        ids = [check_labels(y, name, len(H), 2**62) for y, name, H in
               ((y_train, "y_train", H_train), (y_test, "y_test", H_test))]
        n_classes = max(2, int(max(ids[0].max(), ids[1].max())) + 1)
    n_classes = check_int(n_classes, "n_classes", 2)
    y_train = check_labels(y_train, "y_train", len(H_train), n_classes)
    y_test = check_labels(y_test, "y_test", len(H_test), n_classes)
    return H_train, y_train, H_test, y_test, n_classes


def center_and_scale(H_train: np.ndarray, H_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Subtract the training codes' mean (d,) and divide every column by one number, the training
    codes' root-mean-square deviation, so the columns' variances average 1 (float32 out).

    One scale for all columns keeps the code's geometry (what k-NN sees): scaling each column to
    unit variance would whiten PCA codes and blow up a VAE's unused dimensions, noise that a probe
    trained on 100 labels then fits.
    """
    mean = H_train.mean(axis=0, dtype=np.float64)  # (d,)
    rms = float(np.sqrt(np.mean(H_train.var(axis=0, dtype=np.float64)))) or 1.0  # a constant code: 1
    return ((H_train - mean) / rms).astype(np.float32), ((H_test - mean) / rms).astype(np.float32)


def linear_probe_accuracy(H_train, y_train, H_test, y_test, n_classes: int | None = None, steps: int = 500,
                          batch_size: int = 256, lr: float = 1e-2, weight_decay: float = 1e-3,
                          random_state=0) -> float:
    r"""Test accuracy of multinomial logistic regression trained on frozen codes.

    The codes are centred and scaled by the training set's statistics (:func:`center_and_scale`),
    then a :class:`~npae.models.Classifier` ``(d, n_classes)`` (``logits = H W^T + b``) minimises

    .. math::
        J = -\frac{1}{N}\sum_n \log \mathrm{softmax}(H_n W^T + b)_{y_n}
            + \frac{\lambda}{2}\lVert W \rVert_F^2

    with Adam for about ``steps`` updates, whatever the number of labels (``epochs =
    ceil(steps / batches per epoch)``), so 100 labels and 60,000 are trained as long.
    ``lambda = weight_decay`` is fixed, not tuned on the test set.

    Parameters
    ----------
    H_train : array_like, shape (N, d)
        Codes of the labelled training examples.
    y_train : array_like of int, shape (N,)
    H_test : array_like, shape (M, d)
        Codes of the evaluation examples.
    y_test : array_like of int, shape (M,)
    n_classes : int, optional
        Default: one more than the largest label seen (at least 2).
    steps, batch_size, lr, weight_decay, random_state
        The training: updates, mini-batch size, Adam's rate, L2 weight, seed.

    Returns
    -------
    float
        The fraction of test codes classified correctly.
    """
    H_train, y_train, H_test, y_test, n_classes = _check_codes_and_labels(H_train, y_train, H_test, y_test,
                                                                          n_classes)
    steps = check_int(steps, "steps", 1)
    batch_size = check_int(batch_size, "batch_size", 1)
    lr = check_float(lr, "lr", 0.0, low_inclusive=False)
    A_train, A_test = center_and_scale(H_train, H_test)
    probe = Classifier((A_train.shape[1], n_classes), weight_decay=weight_decay, random_state=random_state)
    epochs = math.ceil(steps / math.ceil(len(A_train) / batch_size))
    probe.fit(A_train, y_train, epochs=epochs, batch_size=batch_size, optimizer=Adam(lr=lr))
    return probe.score(A_test, y_test)


def knn_predict(H_train, y_train, H_query, k: int = 5, max_bytes: int = 2**26) -> np.ndarray:
    r"""The majority label of the ``k`` nearest rows of ``H_train`` for each row of ``H_query``.

    For a chunk of query rows ``Q`` (m, d) the squared distances to every training row are

    .. math:: D = \lVert Q \rVert^2 \mathbf 1^T - 2\, Q H^T + \mathbf 1 \lVert H \rVert^{2\,T} \quad (m, N)

    one matrix product; ``np.argpartition`` picks the ``k`` smallest of each row without sorting
    it, and the votes are counted for all rows at once. Ties between classes go to the smallest
    class id (as ``scipy.stats.mode``). ``m`` is chosen so that ``D`` takes at most ``max_bytes``.

    Parameters
    ----------
    H_train : array_like, shape (N, d)
    y_train : array_like of int, shape (N,)
        Non-negative class ids.
    H_query : array_like, shape (M, d)
    k : int
        Neighbours that vote, ``1 <= k <= N``.
    max_bytes : int
        Memory bound of one chunk's distance matrix.

    Returns
    -------
    ndarray of int64, shape (M,)
    """
    H_train = check_array(H_train, "H_train", ndim=2)
    H_query = check_array(H_query, "H_query", ndim=2)
    if H_train.shape[1] != H_query.shape[1]:
        raise ValueError(f"H_train and H_query must have the same number of columns, got shapes "
                         f"{H_train.shape} and {H_query.shape}")
    y_train = check_labels(y_train, "y_train", len(H_train), 2**62)
    k = check_int(k, "k", 1)
    if k > len(H_train):
        raise ValueError(f"k must be <= the number of training rows ({len(H_train)}), got {k}")
    max_bytes = check_int(max_bytes, "max_bytes", 1)
    dtype = np.result_type(H_train.dtype, H_query.dtype, np.float32)
    H_train, H_query = H_train.astype(dtype, copy=False), H_query.astype(dtype, copy=False)
    n_classes = int(y_train.max()) + 1
    sq_train = np.einsum("ij,ij->i", H_train, H_train)  # (N,) squared norms, once
    rows = max(1, max_bytes // (len(H_train) * dtype.itemsize))  # query rows per chunk
    out = np.empty(len(H_query), dtype=np.int64)
    for start in range(0, len(H_query), rows):  # chunks bound the memory; no loop over single rows
        Q = H_query[start:start + rows]  # (m, d)
        D = np.einsum("ij,ij->i", Q, Q)[:, None] - 2 * (Q @ H_train.T) + sq_train  # (m, N)
        nearest = np.argpartition(D, k - 1, axis=1)[:, :k]  # (m, k): the k smallest, unordered
        votes = (y_train[nearest][:, :, None] == np.arange(n_classes)).sum(axis=1)  # (m, n_classes)
        out[start:start + len(Q)] = np.argmax(votes, axis=1)  # the first maximum: ties to the smallest id
    return out


def knn_accuracy(H_train, y_train, H_test, y_test, k: int = 5, max_bytes: int = 2**26) -> float:
    """Test accuracy of the ``k``-nearest-neighbour vote (:func:`knn_predict`) on codes.

    ``H_train`` (N, d) and ``y_train`` (N,) are the labelled neighbours, ``H_test`` (M, d) and
    ``y_test`` (M,) the examples classified. Returns the fraction classified correctly.
    """
    y_test = check_labels(y_test, "y_test", len(check_array(H_test, "H_test", ndim=2)), 2**62)
    return float(np.mean(knn_predict(H_train, y_train, H_test, k, max_bytes) == y_test))


__all__ = ["center_and_scale", "knn_accuracy", "knn_predict", "linear_probe_accuracy"]
