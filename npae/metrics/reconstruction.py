r"""Reconstruction errors of an autoencoder, optionally on a subset of entries (a mask).

Derivations and conventions: ``docs/08-metrics.md``. Every function takes the clean data
``x`` and the reconstruction ``x_hat`` (same shape, any number of dimensions) and returns the
mean over all entries, or over the entries where ``mask`` is True (e.g. the missing pixels of
an inpainting task):

.. math::
    \mathrm{MSE} = \frac{1}{|M|} \sum_{i \in M} (\hat x_i - x_i)^2, \qquad
    \mathrm{MAE} = \frac{1}{|M|} \sum_{i \in M} |\hat x_i - x_i|

    \mathrm{BCE} = -\frac{1}{|M|} \sum_{i \in M} \big[x_i \log \hat x_i + (1 - x_i) \log(1 - \hat x_i)\big]
"""

from __future__ import annotations

import numpy as np

from .._validation import check_array, check_same_shape


def _pair(x, x_hat, mask=None, value_range=None) -> tuple[np.ndarray, np.ndarray]:
    """``x`` and ``x_hat`` as float64 arrays, restricted to ``mask`` (flattened) if given."""
    x = check_array(x, "x", min_samples=0, dtype=np.float64, value_range=value_range)
    x_hat = check_array(x_hat, "x_hat", min_samples=0, dtype=np.float64, value_range=value_range)
    check_same_shape(x, x_hat, "x", "x_hat")
    if x.size == 0:
        raise ValueError(f"x must not be empty, got shape {x.shape}")
    if mask is not None:
        try:
            mask = np.asarray(mask)
        except ValueError as exc:  # a ragged list
            raise TypeError(f"mask must be a boolean array, got {type(mask).__name__} ({exc})") from exc
        if mask.dtype != bool:
            raise TypeError(f"mask must be a boolean array, got dtype {mask.dtype}")
        check_same_shape(x, mask, "x", "mask")
        if not mask.any():
            raise ValueError("mask selects no entries (it is all False)")
        x, x_hat = x[mask], x_hat[mask]  # (|M|,)
    return x, x_hat


def mean_squared_error(x, x_hat, mask=None) -> float:
    """Mean of ``(x_hat - x)^2`` over all entries (or those where ``mask`` is True)."""
    x, x_hat = _pair(x, x_hat, mask)
    return float(np.mean((x_hat - x) ** 2))


def mean_absolute_error(x, x_hat, mask=None) -> float:
    """Mean of ``|x_hat - x|`` over all entries (or those where ``mask`` is True)."""
    x, x_hat = _pair(x, x_hat, mask)
    return float(np.mean(np.abs(x_hat - x)))


def binary_cross_entropy(x, x_hat, mask=None) -> float:
    """Mean binary cross-entropy of probabilities ``x_hat`` for targets ``x``, both in [0, 1].

    ``x_hat`` is clipped to ``[eps, 1 - eps]`` (float64 machine epsilon) so the logs stay finite.
    """
    x, x_hat = _pair(x, x_hat, mask, value_range=(0.0, 1.0))
    eps = np.finfo(np.float64).eps
    p = np.clip(x_hat, eps, 1 - eps)
    return float(-np.mean(x * np.log(p) + (1 - x) * np.log1p(-p)))


def reconstruction_errors(x, x_hat, mask=None) -> dict[str, float]:
    """``{"mse", "mae"}`` and, when both arrays lie in [0, 1], ``"bce"``."""
    errors = {"mse": mean_squared_error(x, x_hat, mask), "mae": mean_absolute_error(x, x_hat, mask)}
    xa, xh = np.asarray(x), np.asarray(x_hat)
    if xa.min() >= 0 and xa.max() <= 1 and xh.min() >= 0 and xh.max() <= 1:
        errors["bce"] = binary_cross_entropy(x, x_hat, mask)
    return errors


__all__ = ["binary_cross_entropy", "mean_absolute_error", "mean_squared_error", "reconstruction_errors"]
