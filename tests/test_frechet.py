"""The Frechet distance: closed forms, SciPy's matrix square root, and the sanity checks on images
(identical sets 0, a shuffled split of one set small, noise images large) with a classifier trained
by npae on synthetic 'digits'."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import sqrtm

from npae.metrics import classifier_frechet_distance, frechet_distance, gaussian_fit, train_feature_classifier
from npae.models import Classifier


def random_cov(d, rng, rank=None):
    A = rng.normal(size=(d, rank or d))
    return A @ A.T / d


def test_against_scipy_sqrtm():
    rng = np.random.default_rng(0)
    for d in (1, 3, 10):
        mu_a, mu_b = rng.normal(size=d), rng.normal(size=d)
        A, B = random_cov(d, rng), random_cov(d, rng)
        reference = np.sum((mu_a - mu_b) ** 2) + np.trace(A + B - 2 * np.real(sqrtm(A @ B)))
        assert frechet_distance(mu_a, A, mu_b, B) == pytest.approx(reference, rel=1e-9)


def test_closed_forms_and_symmetry():
    # diagonal covariances: d^2 = ||mu_a - mu_b||^2 + sum (sigma_a - sigma_b)^2
    sa, sb = np.array([1.0, 2.0, 0.5]), np.array([3.0, 2.0, 0.0])
    mu_a, mu_b = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    value = frechet_distance(mu_a, np.diag(sa**2), mu_b, np.diag(sb**2))
    assert value == pytest.approx(5.0 + 4.0 + 0.0 + 0.25, rel=1e-12)
    rng = np.random.default_rng(1)
    A, B = random_cov(6, rng, rank=2), random_cov(6, rng)  # a singular covariance needs no special case
    mu = rng.normal(size=6)
    assert frechet_distance(mu, A, 0 * mu, B) == pytest.approx(frechet_distance(0 * mu, B, mu, A), rel=1e-9)
    assert frechet_distance(mu, A, mu, A) == pytest.approx(0.0, abs=1e-10)


def test_gaussian_fit_and_argument_checks():
    F = np.random.default_rng(2).normal(size=(50, 3))
    mu, cov = gaussian_fit(F)
    np.testing.assert_allclose(mu, F.mean(axis=0))
    np.testing.assert_allclose(cov, np.cov(F.T))
    assert gaussian_fit(F[:, :1])[1].shape == (1, 1)
    with pytest.raises(ValueError, match="features must have at least 2 sample"):
        gaussian_fit(F[:1])
    with pytest.raises(ValueError, match=r"cov_b must have shape \(3, 3\)"):
        frechet_distance(mu, cov, mu, cov[:2, :2])
    with pytest.raises(ValueError, match=r"mu_b must have shape \(3,\)"):
        frechet_distance(mu, cov, mu[:2], cov)
    with pytest.raises(TypeError, match="classifier must be an npae Classifier with a hidden layer"):
        classifier_frechet_distance(Classifier((3, 2)), F, F)


@pytest.fixture(scope="module")
def digits():
    """Synthetic 8x8 'digits': 4 stroke prototypes, jittered and noisy, pixel values in [0, 1]."""
    rng = np.random.default_rng(3)
    protos = np.zeros((4, 8, 8))
    protos[0, 1:7, 3:5] = 1  # a vertical bar
    protos[1, 3:5, 1:7] = 1  # a horizontal bar
    protos[2, np.arange(8), np.arange(8)] = 1  # a diagonal
    protos[3, 1:7, 1:7] = 1
    protos[3, 2:6, 2:6] = 0  # a ring
    y = rng.integers(0, 4, 3000)
    shifts = rng.integers(-1, 2, (3000, 2))
    X = np.stack([np.roll(protos[c], s, axis=(0, 1)) for c, s in zip(y, shifts, strict=True)])
    X = np.clip(X + 0.15 * rng.standard_normal(X.shape), 0, 1).reshape(3000, 64).astype(np.float32)
    return X, y


def test_sanity_identical_split_and_noise(digits):
    X, y = digits
    clf = train_feature_classifier(X[:2000], y[:2000], hidden=(32, 16), epochs=5, random_state=0)
    assert clf.score(X[2000:], y[2000:]) > 0.95
    test = X[2000:]
    identical = classifier_frechet_distance(clf, test, test)
    order = np.random.default_rng(4).permutation(len(test))
    split = classifier_frechet_distance(clf, test[order[:500]], test[order[500:]])
    noise = np.random.default_rng(5).uniform(0, 1, test.shape).astype(np.float32)
    to_noise = classifier_frechet_distance(clf, noise, test)
    one_class = classifier_frechet_distance(clf, test[y[2000:] == 0], test)  # the right images, wrong mix
    assert identical == pytest.approx(0.0, abs=1e-6 * to_noise)
    assert split < 0.05 * one_class < 0.05 * to_noise
    assert classifier_frechet_distance(clf, test, noise) == pytest.approx(to_noise, rel=1e-6)
