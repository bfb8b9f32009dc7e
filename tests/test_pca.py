"""PCA from the SVD and principal angles: closed forms, invariances, a linear AE's optimum."""

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from profiles import examples
from scipy.linalg import subspace_angles

from npae.pca import PCA, orthonormal_basis, principal_angles


def low_rank_data(rng, n=200, d=12, k=3, noise=0.01):
    """Data near a k-dimensional affine subspace: mean + Z A + noise."""
    Z = rng.standard_normal((n, k)) * np.array([5.0, 3.0, 2.0][:k] + [1.0] * max(0, k - 3))
    A = np.linalg.qr(rng.standard_normal((d, k)))[0].T  # (k, d) orthonormal rows
    return 2.0 + Z @ A + noise * rng.standard_normal((n, d)), A


def test_pca_matches_covariance_eigendecomposition():
    rng = np.random.default_rng(0)
    X, _ = low_rank_data(rng)
    pca = PCA(4, dtype=np.float64).fit(X)
    cov = np.cov(X, rowvar=False)  # (d, d), divides by N - 1
    evals, evecs = np.linalg.eigh(cov)
    evals, evecs = evals[::-1], evecs[:, ::-1]
    np.testing.assert_allclose(pca.explained_variance_, evals[:4], rtol=1e-10)
    # Same directions up to sign: |<v_pca, v_eig>| = 1.
    np.testing.assert_allclose(np.abs(np.sum(pca.components_ * evecs[:, :4].T, axis=1)), 1.0, atol=1e-10)
    np.testing.assert_allclose(pca.components_ @ pca.components_.T, np.eye(4), atol=1e-12)
    np.testing.assert_allclose(pca.explained_variance_ratio_, evals[:4] / evals.sum(), rtol=1e-10)


def test_reconstruction_error_is_sum_of_discarded_singular_values():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((60, 10)) @ rng.standard_normal((10, 10))
    full = PCA(10, dtype=np.float64).fit(X)
    s = np.linalg.svd(X - X.mean(0), compute_uv=False)
    for k in (1, 4, 9):
        pca = full.truncated(k)
        expected = np.sum(s[k:] ** 2) / X.size  # Eckart-Young
        assert pca.score(X) == pytest.approx(expected, rel=1e-10)
        np.testing.assert_allclose(pca.components_, PCA(k, dtype=np.float64).fit(X).components_, atol=1e-10)
    assert full.score(X) < 1e-25


def test_transform_inverse_and_float32_default():
    rng = np.random.default_rng(2)
    X, _ = low_rank_data(rng, k=3, noise=0.0)
    pca = PCA(3).fit(X)
    H = pca.transform(X)
    assert H.dtype == np.float32 and H.shape == (200, 3)
    np.testing.assert_allclose(H.mean(0), 0.0, atol=1e-4)  # codes of the training data are centred
    np.testing.assert_allclose(pca.reconstruct(X), X, atol=1e-4)  # exact rank-3 data is reproduced
    assert pca.reconstruction_errors(X).shape == (200,)


def test_sign_is_deterministic():
    rng = np.random.default_rng(3)
    X, _ = low_rank_data(rng)
    a = PCA(3, dtype=np.float64).fit(X).components_
    b = PCA(3, dtype=np.float64).fit(X[::-1]).components_
    np.testing.assert_allclose(a, b, atol=1e-10)
    big = np.abs(a).argmax(axis=1)
    assert (a[np.arange(3), big] > 0).all()


def test_pca_bad_arguments():
    with pytest.raises(ValueError, match="n_components"):
        PCA(0)
    with pytest.raises(TypeError, match="n_components"):
        PCA(2.5)
    with pytest.raises(ValueError, match="n_components must be <= min"):
        PCA(5).fit(np.ones((4, 3)))
    with pytest.raises(RuntimeError, match="not fitted"):
        PCA(1).transform(np.ones((2, 3)))
    pca = PCA(2).fit(np.random.default_rng(0).standard_normal((10, 3)))
    with pytest.raises(ValueError, match="3 features"):
        pca.transform(np.ones((2, 4)))
    with pytest.raises(ValueError, match="H must have 2 columns"):
        pca.inverse_transform(np.ones((2, 3)))
    with pytest.raises(ValueError, match="finite"):
        PCA(1).fit(np.array([[1.0, np.nan], [0.0, 1.0]]))


@examples(25)
@given(seed=st.integers(0, 2**31), d=st.integers(3, 20), p=st.integers(1, 3), q=st.integers(1, 3))
@example(seed=13, d=3, p=2, q=2)  # two planes in R^3 meet in a line: SciPy gives 1.5e-8, the truth is 0
def test_principal_angles_match_scipy(seed, d, p, q):
    rng = np.random.default_rng(seed)
    A, B = rng.standard_normal((d, p)), rng.standard_normal((d, q))
    theta = principal_angles(A, B)
    assert theta.shape == (min(p, q),)
    assert np.all(np.diff(theta) >= -1e-12) and np.all((theta >= 0) & (theta <= np.pi / 2 + 1e-15))
    # SciPy's small angles carry the arccos form's error, about sqrt(eps) = 1.5e-8: hence atol.
    np.testing.assert_allclose(theta, np.sort(subspace_angles(A, B)), atol=5e-8)
    np.testing.assert_allclose(principal_angles(B, A), theta, atol=1e-12)  # symmetric
    # Subspaces of dimensions p and q in R^d share at least p + q - d dimensions: that many
    # angles are exactly 0, which the sine form resolves to rounding error.
    n_shared = max(0, p + q - d)
    assert np.all(theta[:n_shared] < 1e-12)


def test_principal_angles_closed_forms():
    e = np.eye(4)
    # span(e0) vs span(cos t e0 + sin t e1): exactly the angle t, even a tiny one.
    for t in (1e-9, 0.3, np.pi / 2):
        theta = principal_angles(e[:, :1], np.cos(t) * e[:, :1] + np.sin(t) * e[:, 1:2])
        assert theta[0] == pytest.approx(t, rel=1e-7, abs=1e-15)
    # A basis change does not move the subspace: all angles ~ 0 (the arccos form alone gives ~1e-8).
    rng = np.random.default_rng(4)
    A = rng.standard_normal((30, 5))
    assert principal_angles(A, A @ rng.standard_normal((5, 5))).max() < 1e-12
    # Orthogonal subspaces: all angles pi/2.
    np.testing.assert_allclose(principal_angles(e[:, :2], e[:, 2:]), np.pi / 2)


def test_principal_angles_bad_arguments():
    with pytest.raises(ValueError, match="full column rank"):
        principal_angles(np.ones((5, 2)), np.eye(5)[:, :2])
    with pytest.raises(ValueError, match="same number of rows"):
        principal_angles(np.eye(5)[:, :2], np.eye(4)[:, :2])
    with pytest.raises(ValueError, match="at most as many columns"):
        orthonormal_basis(np.ones((2, 3)))


def test_linear_autoencoder_optimum_spans_principal_subspace():
    """Baldi and Hornik: at the optimum of a linear AE the decoder's columns span PCA's subspace."""
    rng = np.random.default_rng(5)
    X, _ = low_rank_data(rng, n=300, d=8, k=3, noise=0.3)
    pca = PCA(2, dtype=np.float64).fit(X)
    # Any optimum is W_dec = V_k C, W_enc = C^{-1} V_k^T: same loss as PCA and zero angles.
    C = rng.standard_normal((2, 2)) + 3 * np.eye(2)
    W_dec = pca.components_.T @ C  # (d, 2)
    W_enc = np.linalg.solve(C, pca.components_)  # (2, d)
    Xc = X - pca.mean_
    assert np.mean((Xc @ W_enc.T @ W_dec.T - Xc) ** 2) == pytest.approx(pca.score(X), rel=1e-10)
    assert principal_angles(W_dec, pca.components_.T).max() < 1e-12
    assert principal_angles(W_enc.T, pca.components_.T).max() < 1e-12
    # A random 2-D subspace is far from it and reconstructs worse.
    Q = orthonormal_basis(rng.standard_normal((8, 2)))
    assert principal_angles(Q, pca.components_.T).max() > 0.1
    assert np.mean((Xc @ Q @ Q.T - Xc) ** 2) > pca.score(X)
