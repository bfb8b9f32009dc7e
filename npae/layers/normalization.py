r"""Normalisation layers: standardise, then scale and shift.

``LayerNorm`` standardises every row over its features; ``BatchNorm1d`` and ``BatchNorm2d``
standardise every feature (channel) over the batch, and keep running averages of the batch
statistics in ``buffers`` for eval mode. Derivations of the backward passes (the compact forms
below, in these variable names): ``docs/01-dense-and-activations.md`` (LayerNorm, BatchNorm).
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


class _BatchNorm(Layer):
    r"""What BatchNorm1d and BatchNorm2d share; they differ in the axes the statistics run over.

    ``axes`` are the axes reduced (every axis but the channel axis 1); ``m`` is the number of
    values per channel in a batch (``N`` or ``N*H*W``).
    """

    skips_input_grad = True  # backward(dy, input_grad=False) sets dgamma, dbeta and skips dx
    axes: tuple[int, ...] = (0,)
    ndim: int = 2

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, dtype=np.float32) -> None:
        super().__init__()
        self.num_features = check_int(num_features, "num_features", 1)
        self.eps = check_float(eps, "eps", 0.0, low_inclusive=False)
        self.momentum = check_float(momentum, "momentum", 0.0, 1.0)
        self.dtype = check_dtype(dtype)
        C = self.num_features
        self.params = {"gamma": np.ones(C, dtype=self.dtype), "beta": np.zeros(C, dtype=self.dtype)}
        self.buffers = {"running_mean": np.zeros(C, dtype=self.dtype),
                        "running_var": np.ones(C, dtype=self.dtype)}
        self.zero_grads()
        self._xhat: np.ndarray | None = None
        self._sigma: np.ndarray | None = None
        self._batch_stats = True  # whether the last forward used the batch's statistics

    def _shape(self, v: np.ndarray) -> np.ndarray:
        """A (C,) vector shaped to broadcast along the channel axis: (C,) or (1, C, 1, 1)."""
        return v.reshape((1, -1) + (1,) * (self.ndim - 2))

    def forward(self, x: np.ndarray) -> np.ndarray:
        gamma, beta = self._shape(self.params["gamma"]), self._shape(self.params["beta"])
        if not self.training:  # eval: the running statistics, a fixed affine map per channel
            self._batch_stats = False
            self._sigma = np.sqrt(self._shape(self.buffers["running_var"]) + self.eps)  # (1, C[, 1, 1])
            self._xhat = (x - self._shape(self.buffers["running_mean"])) / self._sigma
            return gamma * self._xhat + beta
        m = x.size // x.shape[1]  # values per channel in this batch
        if m < 2:
            raise ValueError(f"{type(self).__name__} in training mode needs more than 1 value per channel to "
                             f"estimate a variance, got input of shape {x.shape}; use batches of 2 or more "
                             f"(fit(..., drop_last=True) drops a short last batch) or eval mode")
        self._batch_stats = True
        # 1. the batch statistics of every channel
        mu = x.mean(axis=self.axes, keepdims=True)  # (1, C[, 1, 1])
        xc = x - mu
        var = (xc * xc).mean(axis=self.axes, keepdims=True)  # biased: divides by m
        # 2. the running averages (PyTorch's convention: the unbiased variance, m / (m - 1))
        mom = self.momentum
        self.buffers["running_mean"] *= 1 - mom
        self.buffers["running_mean"] += (mom * mu).reshape(-1).astype(self.dtype)  # (C,)
        self.buffers["running_var"] *= 1 - mom
        self.buffers["running_var"] += (mom * m / (m - 1) * var).reshape(-1).astype(self.dtype)  # (C,)
        # 3. standardise, scale and shift
        self._sigma = np.sqrt(var + self.eps)  # (1, C[, 1, 1])
        self._xhat = xc / self._sigma
        return gamma * self._xhat + beta

    def backward(self, dy: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Set ``grads`` from ``dy`` (``x``'s shape) and return ``dx`` (None if not ``input_grad``)."""
        xhat = self._xhat
        # 1. gamma and beta are shared by every value of a channel: sum over the other axes
        self.grads = {"gamma": (dy * xhat).sum(axis=self.axes),  # (C,)
                      "beta": dy.sum(axis=self.axes)}  # (C,)
        if not input_grad:
            return None
        g = dy * self._shape(self.params["gamma"])  # dL/dxhat, x's shape
        if not self._batch_stats:  # eval: mu and sigma are constants
            return g / self._sigma
        # 2. training: mu and sigma depend on every value of the channel (the compact form)
        g_mean = g.mean(axis=self.axes, keepdims=True)  # (1, C[, 1, 1])
        gx_mean = (g * xhat).mean(axis=self.axes, keepdims=True)  # (1, C[, 1, 1])
        return (g - g_mean - xhat * gx_mean) / self._sigma

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.num_features})"


class BatchNorm1d(_BatchNorm):
    r"""Normalise every feature over the batch, then ``y = gamma * xhat + beta`` (Ioffe and Szegedy 2015).

    Training mode, for ``x`` of shape (N, C); ``mu``, ``var`` and ``sigma`` are taken over the
    batch (axis 0) and have shape (1, C):

    .. math::
        mu = \frac1N \sum_n x_n, \qquad var = \frac1N \sum_n (x_n - mu)^2, \qquad
        sigma = \sqrt{var + eps}, \qquad xhat = \frac{x - mu}{sigma}, \qquad
        y = gamma \odot xhat + beta

    and the buffers follow PyTorch: ``running_mean = (1 - momentum) running_mean + momentum mu``,
    ``running_var = (1 - momentum) running_var + momentum var N / (N - 1)`` (the unbiased
    variance). Eval mode uses them instead: ``xhat = (x - running_mean) / sqrt(running_var + eps)``.

    Backward, given ``dy`` (N, C), with ``g = dy * gamma`` and ``mean`` over the batch:

    .. math::
        dx = \frac{1}{sigma}\big(g - mean(g) - xhat \odot mean(g \odot xhat)\big) \text{ (training)},
        \qquad dx = \frac{g}{sigma} \text{ (eval)}, \qquad
        dgamma = \sum_n dy \odot xhat, \qquad dbeta = \sum_n dy

    A training batch needs 2 rows or more (a variance of one value is 0): ``ValueError`` otherwise.
    Derivation: ``docs/01-dense-and-activations.md`` (BatchNorm).

    Parameters
    ----------
    num_features : int
        ``C``, the number of features (columns).
    eps : float > 0
    momentum : float in [0, 1]
        Weight of the new batch in the running averages (PyTorch's 0.1).
    dtype : float32 (default) or float64

    Attributes
    ----------
    params : {"gamma": (C,) ones, "beta": (C,) zeros}
    buffers : {"running_mean": (C,) zeros, "running_var": (C,) ones}
        Updated by every training-mode forward; saved with the model, never trained.
    """

    axes = (0,)
    ndim = 2


class BatchNorm2d(_BatchNorm):
    r"""Normalise every channel over the batch and the image, for ``x`` of shape (N, C, H, W).

    The same as :class:`BatchNorm1d` with the statistics over axes (0, 2, 3), ``m = N H W``
    values per channel (``mu``, ``var``, ``sigma`` of shape (1, C, 1, 1)), the unbiased running
    variance ``var m / (m - 1)``, and ``dgamma``, ``dbeta`` summed over those axes. Derivation:
    ``docs/01-dense-and-activations.md`` (BatchNorm).

    Parameters
    ----------
    num_features : int
        ``C``, the number of channels.
    eps, momentum, dtype
        As in :class:`BatchNorm1d`.
    """

    axes = (0, 2, 3)
    ndim = 4


__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm"]
