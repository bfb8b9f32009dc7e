"""Tests of the reconstruction, image (PSNR, SSIM), sparsity and sensitivity metrics."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from profiles import examples
from scipy import ndimage

from npae.layers import Dense, Sequential, Sigmoid, Tanh
from npae.metrics import (
    binary_cross_entropy,
    contraction_ratio,
    dead_units,
    fraction_active,
    gaussian_window,
    jacobian_norms,
    mean_absolute_error,
    mean_activation,
    mean_jacobian_norm,
    mean_squared_error,
    psnr,
    reconstruction_errors,
    reconstruction_gains,
    saturation_fraction,
    sparsity_stats,
    ssim,
)

C1, C2 = 0.01 ** 2, 0.03 ** 2


# ---------------------------------------------------------------- reconstruction
def test_reconstruction_errors_known_values():
    x = np.array([[0.0, 1.0], [0.5, 0.5]])
    x_hat = np.array([[0.5, 1.0], [0.5, 0.0]])
    assert mean_squared_error(x, x_hat) == pytest.approx((0.25 + 0.25) / 4)
    assert mean_absolute_error(x, x_hat) == pytest.approx(1.0 / 4)
    mask = np.array([[True, False], [False, True]])
    assert mean_squared_error(x, x_hat, mask) == pytest.approx(0.25)
    p = np.array([[0.25, 0.75]])
    t = np.array([[1.0, 0.0]])
    assert binary_cross_entropy(t, p) == pytest.approx(-np.log(0.25))
    assert set(reconstruction_errors(x, x_hat)) == {"mse", "mae", "bce"}


def test_reconstruction_bad_arguments():
    with pytest.raises(ValueError, match=r"x and x_hat must have the same shape, got \(2, 3\) and \(3, 2\)"):
        mean_squared_error(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="no entries"):
        mean_absolute_error(np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((2, 3), bool))
    with pytest.raises(TypeError, match="boolean"):
        mean_absolute_error(np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="x_hat must lie in"):
        binary_cross_entropy(np.zeros(3), np.full(3, 2.0))


# ---------------------------------------------------------------- PSNR
def test_psnr_known_values():
    a = np.zeros((8, 8))
    assert psnr(a, a + 0.1) == pytest.approx(20.0)  # 10 log10(1 / 0.01)
    assert psnr(a, a + 0.01) == pytest.approx(40.0)
    assert psnr(a, a + 25.5, data_range=255) == pytest.approx(20.0)
    assert psnr(a, a) == np.inf
    batch = np.stack([a + 0.1, a + 0.01])
    np.testing.assert_allclose(psnr(np.zeros_like(batch), batch, reduction="none"), [20.0, 40.0])
    assert psnr(np.zeros_like(batch), batch) == pytest.approx(30.0)


def test_psnr_matches_skimage():
    metrics = pytest.importorskip("skimage.metrics")
    rng = np.random.default_rng(0)
    a = rng.random((20, 17))
    b = np.clip(a + 0.1 * rng.standard_normal(a.shape), 0, 1)
    assert psnr(a, b) == pytest.approx(metrics.peak_signal_noise_ratio(a, b, data_range=1.0), rel=1e-10)


# ---------------------------------------------------------------- SSIM
def ssim_loop_reference(a, b, R=1.0):
    """SSIM with explicit windows: a double loop over every position whose 11x11 window fits."""
    w = np.outer(gaussian_window(), gaussian_window())
    H, W = a.shape
    values = []
    for i in range(H - 10):
        for j in range(W - 10):
            pa, pb = a[i:i + 11, j:j + 11], b[i:i + 11, j:j + 11]
            mu_a, mu_b = np.sum(w * pa), np.sum(w * pb)
            var_a, var_b = np.sum(w * (pa - mu_a) ** 2), np.sum(w * (pb - mu_b) ** 2)
            cov = np.sum(w * (pa - mu_a) * (pb - mu_b))
            c1, c2 = (0.01 * R) ** 2, (0.03 * R) ** 2
            values.append((2 * mu_a * mu_b + c1) * (2 * cov + c2)
                          / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2)))
    return np.mean(values)


def test_gaussian_window():
    g = gaussian_window()
    assert g.shape == (11,) and g.sum() == pytest.approx(1.0)
    assert g[6] / g[5] == pytest.approx(np.exp(-1 / (2 * 1.5 ** 2)))


def test_ssim_identical_is_one():
    a = np.random.default_rng(0).random((2, 20, 24))
    assert ssim(a, a) == pytest.approx(1.0, abs=1e-12)


def test_ssim_constant_offset_closed_form():
    # Constant images v and v + c: zero variances, so SSIM = (2 v (v + c) + C1) / (v^2 + (v + c)^2 + C1).
    v, c = 0.3, 0.2
    a = np.full((16, 16), v)
    expected = (2 * v * (v + c) + C1) / (v ** 2 + (v + c) ** 2 + C1)
    assert ssim(a, a + c) == pytest.approx(expected, rel=1e-12)
    # On a texture, an offset leaves the variances and the covariance unchanged: the structure term
    # (2 cov + C2) / (var_a + var_b + C2) is exactly 1 and only the luminance term of the local means
    # mu (taken here from scipy's Gaussian filter, cropped by the window radius 5) remains.
    t = np.random.default_rng(1).random((16, 16)) * 0.5
    mu = ndimage.gaussian_filter(t, sigma=1.5, truncate=3.5)[5:-5, 5:-5]
    luminance = (2 * mu * (mu + c) + C1) / (mu ** 2 + (mu + c) ** 2 + C1)
    assert ssim(t, t + c) == pytest.approx(luminance.mean(), rel=1e-10)


def test_ssim_matches_slow_loop_reference():
    rng = np.random.default_rng(2)
    a = rng.random((15, 18))
    b = np.clip(a + 0.3 * rng.standard_normal(a.shape), 0, 1)
    assert ssim(a, b) == pytest.approx(ssim_loop_reference(a, b), rel=1e-12)
    assert ssim(a * 255, b * 255, data_range=255) == pytest.approx(ssim_loop_reference(a * 255, b * 255, 255),
                                                                    rel=1e-12)


def test_ssim_batch_is_mean_of_images():
    rng = np.random.default_rng(3)
    a, b = rng.random((3, 12, 12)), rng.random((3, 12, 12))
    per = [ssim(a[i], b[i]) for i in range(3)]
    np.testing.assert_allclose(ssim(a, b, reduction="none"), per, rtol=1e-12)
    assert ssim(a, b) == pytest.approx(np.mean(per), rel=1e-12)
    value, smap = ssim(a, b, return_map=True)
    assert smap.shape == (3, 2, 2)


def test_ssim_matches_skimage():
    metrics = pytest.importorskip("skimage.metrics")
    rng = np.random.default_rng(4)
    for shape in [(28, 28), (11, 11), (31, 20)]:
        a = rng.random(shape)
        b = np.clip(0.7 * a + 0.2 + 0.15 * rng.standard_normal(shape), 0, 1)
        ref = metrics.structural_similarity(a, b, gaussian_weights=True, sigma=1.5,
                                            use_sample_covariance=False, data_range=1.0)
        assert abs(ssim(a, b) - ref) < 1e-4
        assert ssim(a, b) == pytest.approx(ref, abs=1e-10)  # in fact they agree to rounding


@examples(10)
@given(st.integers(0, 2**31))
def test_ssim_symmetric_and_bounded(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.random((13, 14)), rng.random((13, 14))
    assert ssim(a, b) == pytest.approx(ssim(b, a), rel=1e-12)
    assert -1 <= ssim(a, b) <= 1


def test_image_metrics_bad_arguments():
    with pytest.raises(ValueError, match="a and b must have the same shape"):
        ssim(np.zeros((12, 12)), np.zeros((12, 13)))
    with pytest.raises(ValueError, match="a and b must have the same shape"):
        psnr(np.zeros((2, 12, 12)), np.zeros((3, 12, 12)))
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim(np.zeros((10, 12)), np.zeros((10, 12)))
    with pytest.raises(ValueError, match="dimensions"):
        psnr(np.zeros(5), np.zeros(5))
    with pytest.raises(ValueError, match="data_range"):
        psnr(np.zeros((4, 4)), np.zeros((4, 4)), data_range=0)


# ---------------------------------------------------------------- sparsity
def test_sparsity_statistics():
    h = np.array([[0.0, 0.5, 0.99], [0.0, 0.2, 0.02]])
    np.testing.assert_allclose(mean_activation(h), [0.0, 0.35, 0.505])
    assert fraction_active(h, 0.1) == pytest.approx(3 / 6)
    assert saturation_fraction(h, margin=0.05) == pytest.approx(4 / 6)  # 0, 0, 0.99, 0.02
    np.testing.assert_array_equal(dead_units(h), [0])
    stats = sparsity_stats(h)
    assert stats["dead_units"] == 1 and stats["max_unit_mean"] == pytest.approx(0.505)
    with pytest.raises(ValueError, match="margin"):
        saturation_fraction(h, margin=0.6)


# ---------------------------------------------------------------- sensitivity
def linear_encoder(M):
    layer = Dense(M.shape[1], M.shape[0], dtype=np.float64)
    layer.params["W"][...] = M
    return Sequential(layer)


def test_jacobian_norm_of_linear_encoder_is_frobenius_norm():
    M = np.random.default_rng(0).standard_normal((3, 5))
    X = np.random.default_rng(1).standard_normal((7, 5))
    np.testing.assert_allclose(jacobian_norms(linear_encoder(M), X), np.linalg.norm(M), rtol=1e-12)
    assert mean_jacobian_norm(linear_encoder(M), X, batch_size=2) == pytest.approx(np.linalg.norm(M))


def test_contraction_ratio_of_scaled_identity_is_the_scale():
    enc = linear_encoder(0.5 * np.eye(6))
    X = np.random.default_rng(0).standard_normal((10, 6))
    np.testing.assert_allclose(contraction_ratio(enc, X, [0.01, 1.0, 10.0], np.random.default_rng(0)), 0.5,
                               rtol=1e-12)


def test_contraction_ratio_small_distance_tends_to_jacobian_average_and_saturates():
    rng = np.random.default_rng(0)
    enc = Sequential(Dense(20, 8, rng=rng, dtype=np.float64), Tanh(), Dense(8, 4, rng=rng, dtype=np.float64),
                     Sigmoid())
    X = rng.standard_normal((400, 20))
    small, large = contraction_ratio(enc, X, [1e-4, 100.0], np.random.default_rng(1))
    # For r -> 0 the ratio is E ||J u||, u uniform on the sphere; E ||J u||^2 = ||J||_F^2 / D, and
    # by Jensen E ||J u|| <= sqrt(E ||J u||^2): the ratio lies below the RMS bound.
    bound = np.mean(jacobian_norms(enc, X) / np.sqrt(20))
    assert 0.5 * bound < small <= 1.01 * bound
    # A bounded code (sigmoid) moves at most sqrt(4) however far x moves: the ratio falls like 1/r.
    assert large < 2.0 / 100.0


def test_sensitivity_bad_arguments():
    enc = linear_encoder(np.eye(3))
    with pytest.raises(ValueError, match="distances"):
        contraction_ratio(enc, np.zeros((2, 3)), [0.0, 1.0], np.random.default_rng(0))
    with pytest.raises(TypeError, match="rng"):
        contraction_ratio(enc, np.zeros((2, 3)), [1.0], 0)
    with pytest.raises(TypeError, match="encoder"):
        jacobian_norms(object(), np.zeros((2, 3)))


# ---------------------------------------------------------------- reconstruction gains
class LinearMap:
    """A stand-in model whose reconstruction is ``x @ A.T``."""

    def __init__(self, A):
        self.A = A

    def reconstruct(self, X):
        return X @ self.A.T


def test_the_gain_is_one_for_the_identity_and_u_A_u_for_a_linear_map():
    gains = reconstruction_gains
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(5, 16))
    U = np.linalg.qr(rng.standard_normal((16, 16)))[0].T[:6]  # (6, 16), orthonormal rows
    np.testing.assert_allclose(gains(LinearMap(np.eye(16)), X, U), 1.0, atol=1e-12)
    A = rng.standard_normal((16, 16))
    np.testing.assert_allclose(gains(LinearMap(A), X, U), np.einsum("kd,de,ke->k", U, A, U), atol=1e-10)


def test_reconstruction_gains_refuses_bad_arguments():
    X, U = np.zeros((3, 4)), np.eye(4)[:2]
    with pytest.raises(TypeError, match="reconstruct"):
        reconstruction_gains(object(), X, U)
    with pytest.raises(ValueError, match="directions must have X's 4 columns"):
        reconstruction_gains(LinearMap(np.eye(4)), X, np.eye(3))
    with pytest.raises(ValueError, match="eps"):
        reconstruction_gains(LinearMap(np.eye(4)), X, U, eps=0.0)
