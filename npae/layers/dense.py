"""The fully connected layer. Derivation: ``docs/01-dense-and-activations.md``."""

from __future__ import annotations

import numpy as np

from .._validation import check_dtype, check_int, check_random_state
from ..init import Initializer, get_initializer
from .base import Layer


def dense_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    r"""``y = x @ W.T + b``: x (N, in), W (out, in), b (out,) -> y (N, out).

    .. math:: y = x W^T + b
    """
    return x @ W.T + b  # (N, in) @ (in, out) -> (N, out); b (out,) broadcast over the N rows


def dense_backward(dy: np.ndarray, x: np.ndarray, W: np.ndarray, input_grad: bool = True
                   ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    r"""``(dx, dW, db)`` from ``dy = dL/dy`` (N, out), the cached input x (N, in) and W (out, in).

    .. math::
        dW = dy^T x \quad (out, in), \qquad db = \sum_n dy_n \quad (out,), \qquad
        dx = dy\, W \quad (N, in)

    ``input_grad=False`` skips ``dx`` (returns None for it): the first layer of a network needs no
    gradient for the data, and that product is a sixth of a dense autoencoder's training FLOPs.
    """
    dW = dy.T @ x  # (out, N) @ (N, in) -> (out, in)
    db = dy.sum(axis=0)  # (out,)
    return (dy @ W if input_grad else None), dW, db  # dx: (N, out) @ (out, in) -> (N, in)


class Dense(Layer):
    r"""Affine map of a batch of rows: ``y = x @ W.T + b``.

    Forward, for ``x`` of shape (N, in_features):

    .. math:: y = x W^T + b

    Backward, given ``dy = dL/dy`` of shape (N, out_features):

    .. math::
        dW = dy^T x \quad (out, in), \qquad db = \sum_n dy_n \quad (out,), \qquad
        dx = dy\, W \quad (N, in)

    Parameters
    ----------
    in_features, out_features : int
        Widths of the input and output rows.
    init : str or callable
        ``"glorot_uniform"`` (default) or ``"he_normal"`` (for ReLU layers), or a callable
        ``init(shape, fan_in, fan_out, rng, dtype)``. The bias starts at zero.
    rng : np.random.Generator, optional
        Source of the initial weights (a fresh ``default_rng()`` if None).
    dtype : float32 (default) or float64

    Attributes
    ----------
    params : {"W": (out_features, in_features), "b": (out_features,)}
    grads : same keys and shapes, overwritten by every ``backward``

    The equations are the plain functions :func:`dense_forward` and :func:`dense_backward`, which
    ``forward`` and ``backward`` call (``npae exercise start dense`` asks a learner to write them).
    Derivation (why ``dy.T @ x`` and ``dy @ W``: the shapes decide):
    ``docs/01-dense-and-activations.md`` (Dense).
    """

    skips_input_grad = True  # backward(dy, input_grad=False) skips dx = dy W

    def __init__(self, in_features: int, out_features: int, init: str | Initializer = "glorot_uniform",
                 rng: np.random.Generator | None = None, dtype=np.float32) -> None:
        super().__init__()
        self.in_features = check_int(in_features, "in_features", 1)
        self.out_features = check_int(out_features, "out_features", 1)
        self.init = init  # the initialiser of W (get_config)
        self.dtype = check_dtype(dtype)
        rng = check_random_state(rng, "rng")
        W = get_initializer(init)((out_features, in_features), in_features, out_features, rng, self.dtype)
        self.params = {"W": np.ascontiguousarray(W, dtype=self.dtype),
                       "b": np.zeros(out_features, dtype=self.dtype)}
        self.zero_grads()
        self._x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x  # (N, in), cached for backward
        return dense_forward(x, self.params["W"], self.params["b"])  # (N, out)

    @np.errstate(invalid="ignore")  # a NaN/Inf in dy propagates, silently (docs/01)
    def backward(self, dy: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Set ``grads`` from ``dy`` (N, out) and return ``dx`` (N, in).

        ``input_grad=False`` skips ``dx = dy W`` and returns None: the first layer of a
        network needs no gradient for the data (PyTorch skips it too), and that product is a
        sixth of a dense autoencoder's training FLOPs.
        """
        dx, self.grads["W"], self.grads["b"] = dense_backward(dy, self._x, self.params["W"], input_grad)
        return dx

    def __repr__(self) -> str:
        return f"Dense({self.in_features}, {self.out_features})"
