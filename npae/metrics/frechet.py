r"""The Frechet distance between two image sets, in the features of an npae classifier.

Fit a Gaussian to the features of each set, ``N(mu_a, C_a)`` and ``N(mu_b, C_b)``; the Frechet
(2-Wasserstein) distance between them is

.. math::
    d^2 = \lVert \mu_a - \mu_b \rVert^2 + \mathrm{tr}\big(C_a + C_b - 2\,(C_a C_b)^{1/2}\big)

(Dowson and Landau 1982). The features are the penultimate-layer activations of an
:class:`~npae.models.Classifier` trained with npae on the same data set
(:func:`train_feature_classifier`): this is *not* the FID, which uses the features of an
Inception-v3 network trained on ImageNet, and its values are not comparable with FID values,
nor across classifiers. Lower is closer; identical sets give 0. See ``docs/15-feature-learning.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validation import check_array, check_int, check_labels
from ..models.classifier import Classifier
from ..optim import Adam


def gaussian_fit(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean (d,) and covariance (d, d) of the rows of ``features`` (N, d), in float64 (divisor N - 1)."""
    F = check_array(features, "features", ndim=2, min_samples=2, dtype=np.float64)
    return F.mean(axis=0), np.cov(F, rowvar=False).reshape(F.shape[1], F.shape[1])


def _psd_eigenvalues(w: np.ndarray) -> np.ndarray:
    """Eigenvalues ``w`` of a PSD matrix with rounding noise set to 0.

    An eigenvalue that is 0 in exact arithmetic comes out of ``eigh`` as +-1e-17 or so, and its
    square root (3e-9) is no longer negligible: below ``d * eps * max(w)`` (NumPy's ``matrix_rank``
    tolerance) an eigenvalue is taken as 0.
    """
    tol = len(w) * np.finfo(w.dtype).eps * max(float(np.max(w, initial=0.0)), 0.0)
    return np.where(w > tol, w, 0.0)


def _psd_sqrt(C: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix, by its eigenvalues."""
    w, V = np.linalg.eigh(C)  # C = V diag(w) V^T
    return (V * np.sqrt(_psd_eigenvalues(w))) @ V.T  # V diag(sqrt(w)) V^T


def frechet_distance(mu_a, cov_a, mu_b, cov_b) -> float:
    r"""The Frechet distance ``d^2`` between ``N(mu_a, cov_a)`` and ``N(mu_b, cov_b)``.

    The trace of the matrix square root is computed from a symmetric matrix,

    .. math::
        \mathrm{tr}\,(C_a C_b)^{1/2} = \mathrm{tr}\,(S C_b S)^{1/2} = \sum_i \sqrt{\lambda_i(S C_b S)},
        \qquad S = C_a^{1/2}

    (``C_a C_b = S (S C_b)`` and ``(S C_b) S = S C_b S``: AB and BA have the same non-zero eigenvalues,
    so ``C_a C_b`` has those of ``S C_b S``, which is symmetric positive semi-definite, even where
    ``S`` is singular), so ``np.linalg.eigh`` does it with real eigenvalues, and a singular
    covariance (a dead unit) needs no special case. ``scipy.linalg.sqrtm(C_a @ C_b)`` gives the
    same number (the tests compare them). Eigenvalues at rounding level (``d * eps * max``) are set to 0:
    their square roots (~1e-8) would otherwise make the distance depend on the order of its arguments.

    Parameters
    ----------
    mu_a, mu_b : array_like, shape (d,)
    cov_a, cov_b : array_like, shape (d, d)
        Symmetric positive semi-definite.

    Returns
    -------
    float
        ``d^2`` (the squared distance, as FID reports it), >= 0.
    """
    mu_a = check_array(mu_a, "mu_a", ndim=1, dtype=np.float64)
    mu_b = check_array(mu_b, "mu_b", ndim=1, dtype=np.float64)
    d = len(mu_a)
    for name, a in (("mu_b", mu_b), ("cov_a", cov_a), ("cov_b", cov_b)):
        if np.shape(a) != ((d,) if name == "mu_b" else (d, d)):
            raise ValueError(f"{name} must have shape {(d,) if name == 'mu_b' else (d, d)} (mu_a has {d} "
                             f"entries), got {np.shape(a)}")
    cov_a = check_array(cov_a, "cov_a", ndim=2, dtype=np.float64)
    cov_b = check_array(cov_b, "cov_b", ndim=2, dtype=np.float64)
    S = _psd_sqrt(cov_a)  # (d, d)
    M = S @ cov_b @ S  # (d, d), symmetric PSD up to rounding
    tr_sqrt = np.sum(np.sqrt(_psd_eigenvalues(np.linalg.eigvalsh((M + M.T) / 2))))
    value = np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * tr_sqrt
    return max(float(value), 0.0)


def train_feature_classifier(X, y, hidden: Sequence[int] = (256, 128), epochs: int = 8, batch_size: int = 128,
                             lr: float = 1e-3, random_state=0, verbose: bool = False) -> Classifier:
    """The classifier whose penultimate features :func:`classifier_frechet_distance` compares.

    A ReLU :class:`~npae.models.Classifier` ``(D, *hidden, n_classes)`` trained with Adam on the
    labelled images ``X`` (N, D), ``y`` (N,); ``n_classes`` is one more than the largest label.
    Its features are the last hidden layer's activations, ``hidden[-1]`` of them.
    """
    X = check_array(X, "X", ndim=2)
    y = check_labels(y, "y", len(X), 2**62)
    hidden = tuple(check_int(h, f"hidden[{i}]", 1) for i, h in enumerate(hidden))
    if not hidden:
        raise ValueError("hidden must name at least one hidden layer (the features), got ()")
    n_classes = max(2, int(y.max()) + 1)
    clf = Classifier((X.shape[1], *hidden, n_classes), activation="relu", random_state=random_state)
    return clf.fit(X, y, epochs=epochs, batch_size=batch_size, optimizer=Adam(lr=lr), verbose=verbose)


def classifier_frechet_distance(classifier: Classifier, X_a, X_b) -> float:
    """Frechet distance between image sets ``X_a`` and ``X_b`` in ``classifier``'s penultimate features.

    ``X_a`` (N_a, D) and ``X_b`` (N_b, D), each with at least 2 rows (more rows than features for a
    full-rank covariance: a few thousand for 128 features). ``classifier`` is an npae
    :class:`~npae.models.Classifier` with a hidden layer, usually from :func:`train_feature_classifier`
    on the training set of the data the images imitate. Returns ``d^2`` (:func:`frechet_distance`).
    """
    if not isinstance(classifier, Classifier) or len(classifier.sizes) < 3:
        raise TypeError(f"classifier must be an npae Classifier with a hidden layer, got {classifier!r}")
    mu_a, cov_a = gaussian_fit(classifier.features(classifier.check_batch(X_a, "X_a")))
    mu_b, cov_b = gaussian_fit(classifier.features(classifier.check_batch(X_b, "X_b")))
    return frechet_distance(mu_a, cov_a, mu_b, cov_b)


__all__ = ["classifier_frechet_distance", "frechet_distance", "gaussian_fit", "train_feature_classifier"]
