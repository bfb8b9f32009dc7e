r"""Layer normalisation: every row standardised over its features, then scaled and shifted.

Derivation of the backward pass (the compact form below, in these variable names):
``docs/01-dense-and-activations.md`` (LayerNorm).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_dtype, check_float, check_int
from .base import Layer


class LayerNorm(Layer):
    r"""Normalise over the last axis, then ``y = gamma * xhat + beta`` (Ba, Kiros and Hinton 2016).

    Forward, for ``x`` of shape (..., D) with ``D = normalized_shape``; ``mu``, ``var`` and
    ``sigma`` are taken over the last axis and have shape (..., 1):

    .. math::
        mu = \frac1D \sum_j x_j, \qquad var = \frac1D \sum_j (x_j - mu)^2, \qquad
        sigma = \sqrt{var + eps}, \qquad xhat = \frac{x - mu}{sigma}, \qquad
        y = gamma \odot xhat + beta

    Backward, given ``dy`` (..., D), with ``g = dy * gamma`` and ``mean`` over the last axis:

    .. math::
        dx = \frac{1}{sigma}\big(g - mean(g) - xhat \odot mean(g \odot xhat)\big), \qquad
        dgamma = \sum dy \odot xhat, \qquad dbeta = \sum dy

    where the sums run over all leading axes (every row shares ``gamma`` and ``beta``). The
    statistics are the row's own, so training and eval mode compute the same thing and there is
    no running state.

    Parameters
    ----------
    normalized_shape : int
        ``D``, the size of the last axis.
    eps : float > 0
        Added to the variance so that a constant row gives ``xhat = 0``, not 0/0.
    dtype : float32 (default) or float64

    Attributes
    ----------
    params : {"gamma": (D,) ones, "beta": (D,) zeros}
    grads : same keys and shapes, overwritten by every ``backward``
    """

    skips_input_grad = True  # backward(dy, input_grad=False) sets dgamma, dbeta and skips dx

    def __init__(self, normalized_shape: int, eps: float = 1e-5, dtype=np.float32) -> None:
        super().__init__()
        self.normalized_shape = check_int(normalized_shape, "normalized_shape", 1)
        self.eps = check_float(eps, "eps", 0.0, low_inclusive=False)
        self.dtype = check_dtype(dtype)
        self.params = {"gamma": np.ones(self.normalized_shape, dtype=self.dtype),
                       "beta": np.zeros(self.normalized_shape, dtype=self.dtype)}
        self.zero_grads()
        self._xhat: np.ndarray | None = None
        self._sigma: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        # 1. the row statistics, over the last axis
        mu = x.mean(axis=-1, keepdims=True)  # (..., 1)
        xc = x - mu  # (..., D)
        var = (xc * xc).mean(axis=-1, keepdims=True)  # (..., 1)
        # 2. standardise: every row of xhat has mean 0 and variance var / (var + eps)
        self._sigma = np.sqrt(var + self.eps)  # (..., 1)
        self._xhat = xc / self._sigma  # (..., D)
        # 3. scale and shift, the same gamma and beta for every row
        return self.params["gamma"] * self._xhat + self.params["beta"]  # (..., D)

    def backward(self, dy: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Set ``grads`` from ``dy`` (..., D) and return ``dx`` (..., D) (None if not ``input_grad``)."""
        xhat, D = self._xhat, self.normalized_shape
        # 1. gamma and beta are shared by every row: sum over all leading axes
        self.grads = {"gamma": (dy * xhat).reshape(-1, D).sum(axis=0),  # (rows, D) -> (D,)
                      "beta": dy.reshape(-1, D).sum(axis=0)}  # (rows, D) -> (D,)
        if not input_grad:
            return None
        # 2. dL/dxhat, then through the standardisation (mu and sigma depend on the whole row)
        g = dy * self.params["gamma"]  # (..., D)
        g_mean = g.mean(axis=-1, keepdims=True)  # (..., 1)
        gx_mean = (g * xhat).mean(axis=-1, keepdims=True)  # (..., 1)
        return (g - g_mean - xhat * gx_mean) / self._sigma  # (..., D)

    def __repr__(self) -> str:
        return f"LayerNorm({self.normalized_shape})"


__all__ = ["LayerNorm"]
