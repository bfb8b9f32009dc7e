r"""Principal component analysis from ``numpy.linalg.svd``, and principal angles between subspaces.

PCA is the yardstick of every autoencoder: a linear autoencoder trained with the squared
error learns the same subspace (Baldi and Hornik 1989), and a non-linear one must beat its
error to be worth its training time. Derivation: ``docs/12-pca-and-linear-autoencoders.md``.

Centre the data, ``Xc = X - mean`` (N, D), and take its thin SVD ``Xc = U S V^T``. The first
``k`` rows of ``V^T`` are the principal directions ``components_`` (k, D), and

.. math::
    h = (x - \mu) V_k, \qquad \hat x = \mu + h V_k^T, \qquad
    \frac{1}{N D} \lVert X_c - X_c V_k V_k^T \rVert_F^2 = \frac{1}{N D} \sum_{i > k} s_i^2

is the best rank-``k`` reconstruction in squared error (Eckart and Young 1936).
"""

from __future__ import annotations

import numpy as np

from ._validation import check_array, check_dtype, check_int


class PCA:
    r"""Principal component analysis by the singular value decomposition of the centred data.

    .. math::
        X - \mu = U S V^T, \qquad \text{components\_} = V_k^T \ (k, D), \qquad
        \text{explained\_variance\_}_i = \frac{s_i^2}{N - 1}

    ``transform`` gives the codes ``h = (x - mean_) @ components_.T`` (N, k) and
    ``inverse_transform`` the reconstruction ``h @ components_ + mean_`` (N, D): an
    autoencoder whose encoder and decoder are tied, orthonormal and linear.

    Parameters
    ----------
    n_components : int
        ``k``, the number of directions kept (at most ``min(N, D)`` of the data fitted).
    dtype : float32 (default) or float64
        Dtype of the stored components and of the outputs. The SVD itself always runs in
        float64.

    Attributes
    ----------
    mean_ : ndarray, shape (D,)
    components_ : ndarray, shape (k, D)
        Orthonormal rows, sorted by decreasing variance; each row's largest-magnitude entry is
        positive (a fixed sign, so two fits of the same data agree).
    singular_values_ : ndarray, shape (k,)
    explained_variance_ : ndarray, shape (k,)
    explained_variance_ratio_ : ndarray, shape (k,)
        Share of the total variance along each direction.
    total_variance_ : float
        ``sum(s_i^2) / (N - 1)`` over all directions.
    n_samples_ : int
    """

    def __init__(self, n_components: int, dtype=np.float32) -> None:
        self.n_components = check_int(n_components, "n_components", 1)
        self.dtype = check_dtype(dtype)

    def fit(self, X) -> PCA:
        """Fit the principal directions of ``X`` (N, D); return ``self``."""
        X = check_array(X, "X", ndim=2, min_samples=2, dtype=np.float64)
        n, d = X.shape
        if self.n_components > min(n, d):
            raise ValueError(f"n_components must be <= min(n_samples, n_features) = {min(n, d)}, "
                             f"got {self.n_components}")
        mean = X.mean(axis=0)  # (D,)
        Xc = X - mean  # (N, D)
        # Thin SVD: U (N, r), s (r,), Vt (r, D) with r = min(N, D); s is sorted descending.
        _, s, Vt = np.linalg.svd(Xc, full_matrices=False)
        k = self.n_components
        Vt = Vt[:k]  # (k, D)
        # Fix each direction's sign (an SVD returns +v or -v at random): largest |entry| positive.
        signs = np.sign(Vt[np.arange(k), np.argmax(np.abs(Vt), axis=1)])
        Vt = Vt * signs[:, None]
        variances = s ** 2 / (n - 1)
        self.mean_ = mean.astype(self.dtype)
        self.components_ = np.ascontiguousarray(Vt, dtype=self.dtype)
        self.singular_values_ = s[:k].astype(self.dtype)
        self.explained_variance_ = variances[:k].astype(self.dtype)
        self.total_variance_ = float(variances.sum())
        self.explained_variance_ratio_ = (variances[:k] / max(self.total_variance_, np.finfo(float).tiny)
                                          ).astype(self.dtype)
        self.n_samples_ = n
        self.n_features_ = d
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "components_"):
            raise RuntimeError("this PCA is not fitted yet: call fit(X) first")

    def _check_X(self, X, name: str = "X") -> np.ndarray:
        self._check_fitted()
        X = check_array(X, name, ndim=2, dtype=self.dtype)
        if X.shape[1] != self.n_features_:
            raise ValueError(f"{name} must have {self.n_features_} features (columns), got shape {X.shape}")
        return X

    def transform(self, X) -> np.ndarray:
        r"""Codes ``h = (X - mean_) @ components_.T``, shape (N, k)."""
        X = self._check_X(X)
        return (X - self.mean_) @ self.components_.T  # (N, D) @ (D, k) -> (N, k)

    def inverse_transform(self, H) -> np.ndarray:
        r"""Reconstructions ``H @ components_ + mean_``, shape (N, D)."""
        self._check_fitted()
        H = check_array(H, "H", ndim=2, dtype=self.dtype)
        if H.shape[1] != self.n_components:
            raise ValueError(f"H must have {self.n_components} columns, got shape {H.shape}")
        return H @ self.components_ + self.mean_  # (N, k) @ (k, D) -> (N, D)

    def reconstruct(self, X) -> np.ndarray:
        """``inverse_transform(transform(X))``: the projection of ``X`` on the principal subspace."""
        return self.inverse_transform(self.transform(X))

    def reconstruction_errors(self, X) -> np.ndarray:
        """Per-sample mean squared error ``mean_j (x_j - xhat_j)^2``, shape (N,)."""
        X = self._check_X(X)
        diff = self.reconstruct(X) - X  # (N, D)
        return np.mean(diff * diff, axis=1)

    def score(self, X) -> float:
        """Mean squared reconstruction error per element (the ``mse`` of ``npae.losses``)."""
        return float(np.mean(self.reconstruction_errors(X), dtype=np.float64))

    def truncated(self, n_components: int) -> PCA:
        """A fitted copy that keeps only the first ``n_components`` directions (no new SVD)."""
        self._check_fitted()
        k = check_int(n_components, "n_components", 1)
        if k > self.n_components:
            raise ValueError(f"n_components must be <= {self.n_components} (the fitted k), got {k}")
        out = PCA(k, dtype=self.dtype)
        out.mean_ = self.mean_
        for name in ("components_", "singular_values_", "explained_variance_", "explained_variance_ratio_"):
            setattr(out, name, getattr(self, name)[:k].copy())
        out.total_variance_ = self.total_variance_
        out.n_samples_ = self.n_samples_
        out.n_features_ = self.n_features_
        return out

    def __repr__(self) -> str:
        return f"PCA(n_components={self.n_components})"


def orthonormal_basis(A, name: str = "A", rtol: float | None = None) -> np.ndarray:
    r"""An orthonormal basis ``Q`` (D, p) of the column space of ``A`` (D, p), from its SVD.

    ``A = U S V^T`` and ``Q = U``; ``A`` must have full column rank (every singular value above
    ``rtol * s_max``, default ``rtol = max(D, p) * eps``), else ``ValueError``.
    """
    A = check_array(A, name, ndim=2, dtype=np.float64)
    if A.shape[1] > A.shape[0]:
        raise ValueError(f"{name} must have at most as many columns as rows (a basis of a subspace of "
                         f"R^{A.shape[0]}), got shape {A.shape}")
    U, s, _ = np.linalg.svd(A, full_matrices=False)  # U (D, p), s (p,)
    rtol = max(A.shape) * np.finfo(np.float64).eps if rtol is None else rtol
    if s.size == 0 or s[-1] <= rtol * s[0]:
        rank = int(np.sum(s > rtol * s[0])) if s.size else 0
        raise ValueError(f"{name} must have full column rank {A.shape[1]}, got rank {rank}")
    return U


def principal_angles(A, B) -> np.ndarray:
    r"""Principal angles (radians, ascending) between the column spaces of ``A`` and ``B``.

    With orthonormal bases ``Qa`` (D, p) and ``Qb`` (D, q), ``p <= q`` (swap otherwise), the
    ``p`` angles satisfy (Björck and Golub 1973)

    .. math::
        \cos\theta_i = \sigma_i(Q_a^T Q_b), \qquad \sin\theta_i = \sigma_{p+1-i}(Q_a - Q_b Q_b^T Q_a)

    The cosine form loses all precision for small angles (``cos(1e-8) == 1`` in float64), the
    sine form for angles near 90 degrees, so each angle is taken from the one that is accurate
    for it (arcsin where ``sin < cos``, Knyazev and Argentati 2002). Identical subspaces give
    zeros to about 1e-15; orthogonal ones give ``pi / 2``.

    Parameters
    ----------
    A : array_like, shape (D, p)
    B : array_like, shape (D, q)
        Any bases (full column rank; not necessarily orthonormal), e.g. a decoder's ``W``
        (D, k) or an encoder's ``W.T``.

    Returns
    -------
    theta : ndarray, shape (min(p, q),), float64 in [0, pi/2], ascending
    """
    Qa = orthonormal_basis(A, "A")
    Qb = orthonormal_basis(B, "B")
    if Qa.shape[0] != Qb.shape[0]:
        raise ValueError(f"A and B must have the same number of rows (the ambient dimension), "
                         f"got shapes {np.shape(A)} and {np.shape(B)}")
    if Qa.shape[1] > Qb.shape[1]:
        Qa, Qb = Qb, Qa
    M = Qa.T @ Qb  # (p, q)
    cos = np.clip(np.linalg.svd(M, compute_uv=False), 0.0, 1.0)  # descending -> angles ascending
    R = Qa - Qb @ M.T  # (D, p): the part of span(A) outside span(B)
    sin = np.clip(np.linalg.svd(R, compute_uv=False)[::-1], 0.0, 1.0)  # ascending -> angles ascending
    return np.where(sin < cos, np.arcsin(sin), np.arccos(cos))


__all__ = ["PCA", "orthonormal_basis", "principal_angles"]
