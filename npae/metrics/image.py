r"""Image quality: PSNR and SSIM (Wang et al. 2004). Definitions: ``docs/08-metrics.md``.

Both take one grayscale image (H, W) or a batch (N, H, W) and return the mean over the
batch (``reduction="none"`` gives one value per image). Images stored as rows (N, H*W) must
be reshaped first (``x.reshape(-1, 28, 28)`` for MNIST).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_array, check_choice, check_float, check_same_shape


def _images(a, b) -> tuple[np.ndarray, np.ndarray]:
    """``a`` and ``b`` as float64 batches (N, H, W) of equal shape."""
    a = check_array(a, "a", ndim=(2, 3), dtype=np.float64)
    b = check_array(b, "b", ndim=(2, 3), dtype=np.float64)
    check_same_shape(a, b, "a", "b")
    if a.ndim == 2:
        a, b = a[None], b[None]  # (1, H, W)
    return a, b


def _reduce(values: np.ndarray, reduction: str) -> float | np.ndarray:
    check_choice(reduction, "reduction", ("mean", "none"))
    return float(values.mean()) if reduction == "mean" else values


def psnr(a, b, data_range: float = 1.0, reduction: str = "mean") -> float | np.ndarray:
    r"""Peak signal-to-noise ratio in decibels, per image.

    .. math:: \mathrm{PSNR} = 10 \log_{10} \frac{R^2}{\mathrm{MSE}(a, b)}, \qquad R = \text{data\_range}

    Identical images give ``inf`` (and then so does the batch mean: use ``reduction="none"``
    to see which). Each 10 dB means a 10x smaller mean squared error.

    Parameters
    ----------
    a, b : array_like, shape (H, W) or (N, H, W)
    data_range : float > 0
        Maximum minus minimum possible value (1 for images in [0, 1], 255 for uint8).
    reduction : {"mean", "none"}
        Mean over the batch, or the (N,) per-image values.
    """
    a, b = _images(a, b)
    R = check_float(data_range, "data_range", 0.0, low_inclusive=False)
    mse = np.mean((a - b) ** 2, axis=(1, 2))  # (N,)
    with np.errstate(divide="ignore"):
        values = 10 * np.log10(R * R / mse)  # R^2 / 0 = inf -> inf dB, no warning
    return _reduce(values, reduction)


def gaussian_window(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    """Normalised 1-D Gaussian taps ``exp(-t^2 / (2 sigma^2))``, ``t = -(size-1)/2 .. (size-1)/2``."""
    t = np.arange(size) - (size - 1) / 2
    g = np.exp(-(t ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def _valid_filter_matrix(n: int, g: np.ndarray) -> np.ndarray:
    """Banded matrix K (n - k + 1, n) with ``(K @ v)[i] = sum_t g[t] v[i + t]``: a 'valid' correlation."""
    k = len(g)
    K = np.zeros((n - k + 1, n))
    rows = np.arange(n - k + 1)[:, None]  # (n-k+1, 1)
    K[rows, rows + np.arange(k)] = g  # each row holds the taps shifted by its index
    return K


def ssim(a, b, data_range: float = 1.0, reduction: str = "mean", return_map: bool = False):
    r"""Structural similarity (Wang et al. 2004) with an 11x11 Gaussian window, sigma 1.5.

    With local weighted means, variances and covariance under the window ``w``
    (``mu_a = sum w a``, ``var_a = sum w a^2 - mu_a^2``, ``cov = sum w a b - mu_a mu_b``):

    .. math::
        \mathrm{SSIM} = \frac{(2\mu_a\mu_b + C_1)(2\,\mathrm{cov} + C_2)}
                             {(\mu_a^2 + \mu_b^2 + C_1)(\mathrm{var}_a + \mathrm{var}_b + C_2)},
        \qquad C_1 = (0.01 R)^2, \quad C_2 = (0.03 R)^2

    averaged over the positions where the window lies inside the image (a border of 5 pixels
    is left out). This is scikit-image's ``structural_similarity(a, b, gaussian_weights=True,
    sigma=1.5, use_sample_covariance=False, data_range=R)``: it filters the whole image and
    then crops those 5 pixels, so its border mode never reaches the mean.

    The window is separable, so the local sums are two matrix products per map:
    ``K_H @ img @ K_W^T`` with banded matrices ``K`` holding the Gaussian taps.

    Parameters
    ----------
    a, b : array_like, shape (H, W) or (N, H, W), H and W >= 11
    data_range : float > 0
    reduction : {"mean", "none"}
    return_map : bool
        Also return the SSIM map, shape (N, H - 10, W - 10).
    """
    a, b = _images(a, b)
    R = check_float(data_range, "data_range", 0.0, low_inclusive=False)
    _, H, W = a.shape
    if min(H, W) < 11:
        raise ValueError(f"ssim needs images of at least 11x11 pixels (the window), got {H}x{W}")
    g = gaussian_window(11, 1.5)
    KH, KW = _valid_filter_matrix(H, g), _valid_filter_matrix(W, g)

    def local_mean(img: np.ndarray) -> np.ndarray:
        return KH @ img @ KW.T  # (H-10, H) @ (N, H, W) @ (W, W-10) -> (N, H-10, W-10)

    mu_a, mu_b = local_mean(a), local_mean(b)
    var_a = local_mean(a * a) - mu_a ** 2
    var_b = local_mean(b * b) - mu_b ** 2
    cov = local_mean(a * b) - mu_a * mu_b
    C1, C2 = (0.01 * R) ** 2, (0.03 * R) ** 2
    S = ((2 * mu_a * mu_b + C1) * (2 * cov + C2)) / ((mu_a ** 2 + mu_b ** 2 + C1) * (var_a + var_b + C2))
    value = _reduce(S.mean(axis=(1, 2)), reduction)  # per image, then over the batch
    return (value, S) if return_map else value


__all__ = ["gaussian_window", "psnr", "ssim"]
