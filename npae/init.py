"""Weight initialisers, each drawing from a passed ``np.random.Generator``.

The aim of both schemes is to keep the variance of activations (forward) and of gradients
(backward) roughly constant from layer to layer. See ``docs/01-dense-and-activations.md``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Initializer = Callable[[tuple[int, ...], int, int, np.random.Generator, np.dtype], np.ndarray]


def glorot_uniform(shape: tuple[int, ...], fan_in: int, fan_out: int,
                   rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """Glorot/Xavier uniform: ``W ~ U(-a, a)``, ``a = sqrt(6 / (fan_in + fan_out))``.

    Var(W) = a^2 / 3 = 2 / (fan_in + fan_out): the compromise between keeping the forward
    variance (needs 1/fan_in) and the backward variance (needs 1/fan_out). Suits sigmoid, tanh
    and linear units.
    """
    a = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, size=shape).astype(dtype)


def he_normal(shape: tuple[int, ...], fan_in: int, fan_out: int,
              rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """He/Kaiming normal: ``W ~ N(0, 2 / fan_in)``.

    A ReLU zeroes half its inputs, halving the second moment; the factor 2 restores it.
    """
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
