r"""Inverted dropout: a random mask in training, the identity in eval mode.

Derivation (why the mask is scaled by ``1 / (1 - rate)`` and why the backward is the same
product): ``docs/01-dense-and-activations.md`` (Dropout).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_float, check_random_state
from .base import Layer


class Dropout(Layer):
    r"""Zero each entry with probability ``rate`` in training; scale the survivors by ``1 / (1 - rate)``.

    Forward in training mode, with ``u`` uniform on [0, 1), drawn fresh for every call:

    .. math::
        mask = \frac{\mathbb 1[u \ge rate]}{1 - rate}, \qquad y = x \odot mask

    so ``E[mask] = 1`` and ``E[y] = x``: the layer needs no rescaling at test time. In eval mode
    (``layer.eval()``) ``y = x`` and nothing is drawn.

    Backward: ``y`` is linear in ``x`` with the diagonal Jacobian ``mask``, so

    .. math:: dx = dy \odot mask

    (in eval mode ``dx = dy``). ``x``, ``mask``, ``y``, ``dy`` and ``dx`` all have the same shape
    (any shape: (N, D) after a Dense layer, (N, C, H, W) after a convolution) and ``x``'s dtype.

    Parameters
    ----------
    rate : float in [0, 1)
        Probability that an entry is dropped (PyTorch's ``p``). ``rate=0`` is the identity.
    rng : np.random.Generator, optional
        The layer's own generator, used when ``forward`` is given no ``rng`` (a fresh
        ``default_rng()`` if None). A training step passes its own, through
        ``Sequential.forward(x, rng)``, so one seed fixes the step's masks.

    No ``dtype`` argument: the layer has no parameters, and the mask takes ``x``'s dtype (as the
    activations' outputs do).
    """

    stochastic = True

    def __init__(self, rate: float = 0.5, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self.rate = check_float(rate, "rate", 0.0, 1.0, high_inclusive=False)
        self.rng = check_random_state(rng, "rng")
        self._mask: np.ndarray | None = None  # None after an eval-mode forward: dx = dy

    def forward(self, x: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        if not self.training:
            self._mask = None
            return x
        rng = self.rng if rng is None else rng
        # 1. u ~ U[0, 1) and keep = 1[u >= rate]: each entry kept with probability 1 - rate
        keep = rng.random(x.shape, dtype=x.dtype) >= self.rate  # same shape as x, bool
        # 2. mask = keep / (1 - rate): the survivors scaled so that E[mask] = 1
        self._mask = keep.astype(x.dtype) / (1 - self.rate)  # same shape and dtype as x
        return x * self._mask

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy if self._mask is None else dy * self._mask

    def __repr__(self) -> str:
        return f"Dropout(rate={self.rate:g})"


__all__ = ["Dropout"]
