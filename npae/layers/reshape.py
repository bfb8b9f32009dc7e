r"""Shape changes between image layers and dense layers; their backward undoes the reshape.

``y = x.reshape(...)`` only relabels the entries, so ``dx = dy.reshape(x.shape)``
(the Jacobian is a permutation-free identity). See ``docs/10-convolutions.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validation import check_int
from .base import Layer


class Flatten(Layer):
    r"""Flatten every sample: (N, d_1, ..., d_k) -> (N, d_1 * ... * d_k), row-major (C, H, W order).

    Forward ``y = x.reshape(N, -1)``; backward ``dx = dy.reshape(x.shape)``.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._shape = x.shape
        return x.reshape(len(x), -1)  # (N, C, H, W) -> (N, C*H*W)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy.reshape(self._shape)  # (N, C*H*W) -> (N, C, H, W)

    def __repr__(self) -> str:
        return "Flatten()"


class Reshape(Layer):
    r"""Give every sample the shape ``shape``: (N, prod(shape)) -> (N, *shape).

    Forward ``y = x.reshape(N, *shape)``; backward ``dx = dy.reshape(x.shape)``.

    Parameters
    ----------
    shape : sequence of int
        Per-sample target shape, e.g. ``(32, 7, 7)``.
    """

    def __init__(self, shape: Sequence[int]) -> None:
        super().__init__()
        if isinstance(shape, (str, bytes)) or not isinstance(shape, Sequence) or not shape:
            raise TypeError(f"shape must be a non-empty sequence of ints, got {shape!r}")
        self.shape = tuple(check_int(s, f"shape[{i}]", 1) for i, s in enumerate(shape))

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._shape = x.shape
        return x.reshape(len(x), *self.shape)  # (N, prod(shape)) -> (N, *shape)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy.reshape(self._shape)  # (N, *shape) -> (N, prod(shape)), the input's shape

    def __repr__(self) -> str:
        return f"Reshape({self.shape})"


__all__ = ["Flatten", "Reshape"]
