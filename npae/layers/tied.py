r"""The transpose of a Dense layer, sharing its weights: the decoder of a tied autoencoder.

Derivation (why the shared matrix's gradient is the sum of its two uses):
``docs/16-stacked-autoencoders.md`` (tied weights).
"""

from __future__ import annotations

import numpy as np

from .base import Layer
from .dense import Dense


def tied_dense_backward(dy: np.ndarray, x: np.ndarray, W: np.ndarray, input_grad: bool = True
                        ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    r"""``(dx, shared_grad, db)`` of the tied decoder ``y = x W + b``, from ``dy = dL/dy`` (N, out).

    ``x`` (N, in) is the cached input and ``W`` the encoder's matrix, shape (in, out) here (the
    encoder's (out, in)): this layer uses ``W`` where an untied one would use ``W_dec = W^T``.

    .. math::
        db = \sum_n dy_n \quad (out,), \qquad
        \text{shared\_grad} = x^T dy = dW_{dec}^T \quad (\text{W's shape}), \qquad
        dx = dy\, W^T \quad (N, in)

    ``shared_grad`` is only this use's term: the model adds it to the encoder's,
    ``dW = dW_enc + dW_dec^T`` (``Autoencoder._tied_sum``). ``input_grad=False`` skips ``dx``.
    """
    db = dy.sum(axis=0)  # (out,)
    shared_grad = x.T @ dy  # (in, N) @ (N, out) -> (in, out): W's shape
    dx = dy @ W.T if input_grad else None  # (N, out) @ (out, in) -> (N, in)
    return dx, shared_grad, db


class TiedDense(Layer):
    r"""``y = x @ W + b`` with ``W`` the weight matrix of another Dense layer (``W_dec = W_enc^T``).

    ``tied_to`` is a :class:`Dense` layer ``in_features -> out_features`` with ``W`` of shape
    (out_features, in_features); this layer maps back, ``tied_to.out_features -> tied_to.in_features``,
    with the transpose of that same array (read at every forward, never copied) and a bias of its own.

    Forward, for ``x`` of shape (N, tied_to.out_features):

    .. math:: y = x W + b \quad (N, \text{tied\_to.in\_features})

    Backward, given ``dy`` of the shape of ``y``:

    .. math::
        db = \sum_n dy_n, \qquad dx = dy\, W^T, \qquad
        \text{shared\_grad} = x^T dy = (dy^T x)^T = dW_{dec}^T \quad (\text{W's shape})

    ``params`` holds only ``b``: ``W`` belongs to ``tied_to``, so it is stored, saved and updated
    once. ``shared_grad`` is this use's gradient of ``W``, in ``W``'s layout; the model adds it to
    the encoder's (``dW = dW_enc + dW_dec^T``: ``Autoencoder.grads`` with ``tied=True``), since a
    ``backward`` assigns gradients and never accumulates into another layer's.
    """

    skips_input_grad = True  # backward(dy, input_grad=False) skips dx = dy W^T

    def __init__(self, tied_to: Dense) -> None:
        super().__init__()
        if not isinstance(tied_to, Dense):
            raise TypeError(f"tied_to must be an npae.layers.Dense, got {type(tied_to).__name__}")
        self.tied_to = tied_to
        self.in_features, self.out_features = tied_to.out_features, tied_to.in_features
        self.params = {"b": np.zeros(self.out_features, dtype=tied_to.dtype)}
        self.zero_grads()
        self.shared_grad = np.zeros_like(tied_to.params["W"])
        self._x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x  # (N, in)
        y = x @ self.tied_to.params["W"]  # (N, in) @ (in, out) -> (N, out): W is (enc out, enc in)
        y += self.params["b"]
        return y

    @np.errstate(invalid="ignore")  # a NaN/Inf in dy propagates, silently (docs/01)
    def backward(self, dy: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Set ``grads["b"]`` and ``shared_grad`` from ``dy`` (N, out); return ``dx`` (N, in)."""
        dx, self.shared_grad, db = tied_dense_backward(dy, self._x, self.tied_to.params["W"], input_grad)
        self.grads = {"b": db}
        return dx

    def __repr__(self) -> str:
        return f"TiedDense({self.in_features}, {self.out_features})"


__all__ = ["TiedDense", "tied_dense_backward"]
