"""Code evaluation: the vectorised k-NN against a loop over test points (any chunking), and the
linear probe on codes a linear map separates and on codes that carry nothing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from profiles import examples

from npae.metrics import knn_accuracy, knn_predict, linear_probe_accuracy
from npae.metrics.probes import center_and_scale


def knn_loop(H_train, y_train, H_query, k):
    """The reference: one test point at a time, neighbours by a full sort, ties to the smallest id."""
    out = []
    for q in H_query:
        d = np.sum((H_train - q) ** 2, axis=1)
        nearest = np.argsort(d, kind="stable")[:k]
        out.append(np.argmax(np.bincount(y_train[nearest], minlength=y_train.max() + 1)))
    return np.array(out)


@examples(30)
@given(n=st.integers(1, 40), m=st.integers(1, 30), d=st.integers(1, 6), c=st.integers(1, 5),
       k=st.integers(1, 7), max_bytes=st.sampled_from((1, 64, 1000, 2**26)), seed=st.integers(0, 2**16))
def test_knn_equals_a_loop_over_test_points(n, m, d, c, k, max_bytes, seed):
    rng = np.random.default_rng(seed)
    H_train, H_query = rng.normal(size=(n, d)), rng.normal(size=(m, d))
    y_train = rng.integers(0, c, n)
    k = min(k, n)
    np.testing.assert_array_equal(knn_predict(H_train, y_train, H_query, k, max_bytes),
                                  knn_loop(H_train, y_train, H_query, k))


def test_knn_ties_go_to_the_smallest_class_and_k1_is_the_nearest():
    H_train = np.array([[0.0], [1.0], [-1.1], [5.0]])
    y_train = np.array([3, 1, 1, 3])
    assert knn_predict(H_train, y_train, [[0.1]], k=1)[0] == 3
    assert knn_predict(H_train, y_train, [[0.1]], k=2)[0] == 1  # one vote each for 3 and 1: the smaller
    assert knn_predict(H_train, y_train, [[0.1]], k=3)[0] == 1
    assert knn_accuracy(H_train, y_train, H_train, y_train, k=1) == 1.0


def test_knn_bad_arguments():
    H, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"k must be <= the number of training rows \(4\)"):
        knn_predict(H, y, H, k=5)
    with pytest.raises(ValueError, match="same number of columns"):
        knn_predict(H, y, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="y_train must hold class ids"):
        knn_predict(H, -y - 1, H)
    with pytest.raises(ValueError, match="y_test must have one label per sample"):
        knn_accuracy(H, y, H, y[:3])


def test_linear_probe_reads_a_linearly_separable_code_and_not_noise():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(4, 20))  # 4 classes, decided by a linear map of the code
    H = rng.normal(size=(600, 20))
    y = np.argmax(H @ W.T, axis=1)
    assert linear_probe_accuracy(H[:400], y[:400], H[400:], y[400:], steps=300) > 0.9
    noise = rng.normal(size=(600, 20))  # a code that carries nothing about y
    assert linear_probe_accuracy(noise[:400], y[:400], noise[400:], y[400:], steps=300) < 0.45


def test_linear_probe_is_deterministic_and_checks_its_labels():
    rng = np.random.default_rng(1)
    H, y = rng.normal(size=(50, 3)), rng.integers(0, 3, 50)
    assert linear_probe_accuracy(H, y, H, y, steps=20) == linear_probe_accuracy(H, y, H, y, steps=20)
    with pytest.raises(ValueError, match=r"y_test must hold class ids in \[0, 3\)"):
        linear_probe_accuracy(H, y, H, y + 1, n_classes=3, steps=5)
    with pytest.raises(ValueError, match="y_train must hold integer class ids"):
        linear_probe_accuracy(H, y + 0.5, H, y, steps=5)
    with pytest.raises(ValueError, match="H_train and H_test must have the same number of columns"):
        linear_probe_accuracy(H, y, H[:, :2], y, steps=5)


def test_center_and_scale_uses_the_training_statistics_and_one_scale():
    H_train = np.array([[0.0, 1.0, 5.0], [2.0, 1.0, 9.0]])  # column variances 1, 0, 4: mean 5/3
    A, B = center_and_scale(H_train, np.array([[1.0, 3.0, 7.0]]))
    s = np.sqrt(5 / 3)
    np.testing.assert_allclose(A, [[-1 / s, 0, -2 / s], [1 / s, 0, 2 / s]], rtol=1e-6)
    np.testing.assert_allclose(B, [[0, 2 / s, 0]], rtol=1e-6)
    assert np.mean(A.var(axis=0)) == pytest.approx(1.0)
    np.testing.assert_array_equal(center_and_scale(np.ones((3, 2)), np.ones((1, 2)))[1], 0.0)  # no 0/0
