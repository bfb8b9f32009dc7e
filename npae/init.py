"""Weight initialisers, each drawing from a passed ``np.random.Generator``.

The aim of both schemes is to keep the variance of activations (forward) and of gradients
(backward) roughly constant from layer to layer. See ``docs/01-dense-and-activations.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np

Initializer = Callable[[tuple[int, ...], int, int, np.random.Generator, np.dtype], np.ndarray]

#: The number of weights the initialisers may still draw (a one-item list), or None: no limit.
_BUDGET: ContextVar[list[int] | None] = ContextVar("npae_init_budget", default=None)


@contextmanager
def weight_budget(n: int) -> Iterator[None]:
    """Within the block, the initialisers below draw at most ``n`` weights in all, else ``ValueError``.

    ``npae.load`` rebuilds a model from the arguments stored in a file before it copies the file's
    weights in. With the budget set to the number of weights the file holds, a file whose stored
    arguments declare a far larger model (``sizes=(20000, 20000)`` beside a few kB of weights) is
    refused before that model is allocated, not after.
    """
    token = _BUDGET.set([int(n)])
    try:
        yield
    finally:
        _BUDGET.reset(token)


def _claim(shape: tuple[int, ...]) -> None:
    """Take ``prod(shape)`` weights from the budget of :func:`weight_budget`, if one is set."""
    left = _BUDGET.get()
    if left is None:
        return
    n = math.prod(shape)
    if n > left[0]:
        raise ValueError(f"these arguments build a weight of shape {tuple(shape)} ({n:,} values), more than "
                         f"the {left[0]:,} values the file holds")
    left[0] -= n


def glorot_uniform(shape: tuple[int, ...], fan_in: int, fan_out: int,
                   rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """Glorot/Xavier uniform: ``W ~ U(-a, a)``, ``a = sqrt(6 / (fan_in + fan_out))``.

    Var(W) = a^2 / 3 = 2 / (fan_in + fan_out): the compromise between keeping the forward
    variance (needs 1/fan_in) and the backward variance (needs 1/fan_out). Suits sigmoid, tanh
    and linear units.

    Parameters
    ----------
    shape : tuple of int
        Shape of the weight array, e.g. (out_features, in_features) for ``Dense``.
    fan_in, fan_out : int
        Number of inputs feeding one output, and of outputs fed by one input.
    rng : np.random.Generator
    dtype : float32 (default) or float64

    Returns
    -------
    ndarray of ``shape`` and ``dtype``.

    Variance argument: ``docs/01-dense-and-activations.md`` (Initialisers).
    """
    _claim(shape)
    a = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, size=shape).astype(dtype)


def he_normal(shape: tuple[int, ...], fan_in: int, fan_out: int,
              rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """He/Kaiming normal: ``W ~ N(0, 2 / fan_in)``.

    With zero-mean weights, ``Var(y) = fan_in * Var(W) * E[x^2]``; a ReLU zeroes half of its
    symmetric input, so ``E[x^2]`` is half the previous layer's variance, and
    ``Var(W) = 2 / fan_in`` keeps the variance constant from layer to layer.

    Parameters
    ----------
    shape : tuple of int
        Shape of the weight array, e.g. (out_features, in_features) for ``Dense``.
    fan_in, fan_out : int
        Number of inputs feeding one output, and of outputs fed by one input.
    rng : np.random.Generator
    dtype : float32 (default) or float64

    Returns
    -------
    ndarray of ``shape`` and ``dtype``.

    Variance argument: ``docs/01-dense-and-activations.md`` (Initialisers).
    """
    _claim(shape)
    return (rng.standard_normal(size=shape) * np.sqrt(2.0 / fan_in)).astype(dtype)


INITIALIZERS: dict[str, Initializer] = {"glorot_uniform": glorot_uniform, "he_normal": he_normal}


def init_for_activation(activation: str) -> str:
    """The initialiser name suited to an activation: He for the ReLU family, Glorot otherwise."""
    return "he_normal" if activation in ("relu", "leaky_relu") else "glorot_uniform"


def get_initializer(init: str | Initializer) -> Initializer:
    """Look an initialiser up by name, or return a callable unchanged."""
    if callable(init):
        return init
    if init not in INITIALIZERS:
        raise ValueError(f"init must be one of {list(INITIALIZERS)} or a callable, got {init!r}")
    return INITIALIZERS[init]
